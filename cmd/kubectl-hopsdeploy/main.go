// Command kubectl-hopsdeploy is the kubectl plugin `kubectl hopsdeploy`.
package main

import (
	"os"
	"runtime/debug"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cli"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

func main() {
	// A soft memory limit (GOMEMLIMIT overrides it): the GC works harder before the heap grows
	// past it, and never fails an allocation. Reading many log streams at once then stays
	// under kubectl's footprint at no cost in time (docs/benchmarks.md).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	os.Exit(cli.Execute(cli.NewRootCommand(streams), os.Stderr))
}
