// Command kubectl-hopsdeploy is the kubectl plugin `kubectl hopsdeploy`.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cli"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

func main() {
	// A soft memory limit (GOMEMLIMIT overrides it): the GC works harder before the heap grows
	// past it, and never fails an allocation. Reading many log streams at once then stays
	// under kubectl's footprint at no cost in time (docs/benchmarks.md).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(48 << 20)
	}
	// A smaller GC target (GOGC overrides it): reading logs makes short-lived garbage only, so
	// collecting at half the default growth keeps the peak low for little CPU (measured in
	// docs/benchmarks.md).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	// For developers: HOPSDEPLOY_CPUPROFILE=FILE writes a CPU profile of the run.
	if path := os.Getenv("HOPSDEPLOY_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	// client-go reports the errors it retries by itself (a watch dropped while the API server
	// restarts) through klog: keep them for -v 2 and up, off the user's terminal otherwise.
	utilruntime.ErrorHandlers[0] = func(ctx context.Context, err error, msg string, kv ...any) {
		if klog.V(2).Enabled() {
			klog.FromContext(ctx).Error(err, msg, kv...)
		}
	}
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	// Ctrl-C and SIGTERM cancel the command's context: what was read is flushed and the exit
	// code says it was interrupted (130), instead of the buffered output being lost.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, cli.NewRootCommand(streams), os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}
