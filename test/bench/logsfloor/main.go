// Command logsfloor is the live-logs benchmark's floor as a process of its own, for the time to
// a first line: the least any command-line tool does before it can show one. It starts, reads
// the kubeconfig, and reads each named pod's log to its end, one stream a goroutine over a
// connection of its own (HTTP/1.1: no stream shares a connection or a window), counting
// lines; it knows the pods' names, so it lists nothing. It writes "first" when the first bytes come and, at the end,
// "N lines"; a pod with another count than LINES fails it.
//
// Usage: logsfloor KUBECONFIG NAMESPACE CONTAINER LINES POD...
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/bench/streamfloor"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "logsfloor:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 5 {
		return fmt.Errorf("usage: logsfloor KUBECONFIG NAMESPACE CONTAINER LINES POD [POD]")
	}
	kubeconfig, ns, container, pods := args[0], args[1], args[2], args[4:]
	want, err := strconv.Atoi(args[3])
	if err != nil {
		return err
	}
	kc, err := streamfloor.Clientset(kubeconfig)
	if err != nil {
		return err
	}
	var first sync.Once
	var total atomic.Int64
	g, ctx := errgroup.WithContext(context.Background())
	for _, p := range pods {
		g.Go(func() error {
			rc, err := kc.CoreV1().Pods(ns).GetLogs(p, &corev1.PodLogOptions{Container: container}).Stream(ctx)
			if err != nil {
				return err
			}
			defer rc.Close()
			n, err := streamfloor.CountLines(rc, func() { first.Do(func() { _, _ = os.Stdout.WriteString("first\n") }) })
			if err != nil {
				return err
			}
			if n != want {
				return fmt.Errorf("%s: %d lines, want %d", p, n, want)
			}
			total.Add(int64(n))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err = fmt.Printf("%d lines\n", total.Load())
	return err
}
