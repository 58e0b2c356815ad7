// Command statusfloor is the status benchmarks' floor as a process of its own: the least any
// command-line tool does to say a deployment's status. It starts, reads the kubeconfig and
// makes status's API calls (test/bench/statuscalls), nothing more; it writes "ok" at the end.
// Beside the in-process floor, it says what a process costs on top of the calls (its start,
// a connection and a heap as new as a command's), which the plugin cannot but pay.
//
// Usage: statusfloor KUBECONFIG NAMESPACE NAME
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/bench/statuscalls"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "statusfloor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("usage: statusfloor KUBECONFIG NAMESPACE NAME")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", args[0])
	if err != nil {
		return err
	}
	kc, dc, err := statuscalls.Clients(cfg)
	if err != nil {
		return err
	}
	if err := statuscalls.Status(context.Background(), kc, dc, args[1], args[2]); err != nil {
		return err
	}
	_, err = fmt.Println("ok")
	return err
}
