// Command kubectl-hopsdeploy is the kubectl plugin `kubectl hopsdeploy`.
package main

import (
	"os"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cli"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cli.Execute(cli.NewRootCommand(streams), os.Stderr))
}
