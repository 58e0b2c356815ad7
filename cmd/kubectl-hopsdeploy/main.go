// Command kubectl-hopsdeploy is the kubectl plugin `kubectl hopsdeploy`.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cli"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
)

func main() {
	// The garbage collector keeps Go's defaults, except for logs, which tunes it for many
	// streams (cli.logsGC): a tight soft limit would make a command whose live heap
	// is larger (list -A holds every InferenceService) collect without end.
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
	writeMemProfile()
	os.Exit(code)
}

// writeMemProfile writes, for developers, the run's allocations (HOPSDEPLOY_MEMPROFILE=FILE:
// where the bytes were allocated, for `go tool pprof -sample_index=alloc_space`) and, beside
// it in FILE.txt, the runtime's memory figures: what the heap, stacks and the runtime took
// from the system, which is what peak RSS is made of.
func writeMemProfile() {
	path := os.Getenv("HOPSDEPLOY_MEMPROFILE")
	if path == "" {
		return
	}
	if f, err := os.Create(path); err == nil {
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mib := func(b uint64) float64 { return float64(b) / (1 << 20) }
	_ = os.WriteFile(path+".txt", []byte(fmt.Sprintf("Sys %.1f MiB: HeapSys %.1f (HeapInuse %.1f, HeapReleased %.1f), StackSys %.1f, MSpan+MCache %.1f, GCSys %.1f, OtherSys %.1f; TotalAlloc %.1f MiB in %d GCs\n",
		mib(m.Sys), mib(m.HeapSys), mib(m.HeapInuse), mib(m.HeapReleased), mib(m.StackSys), mib(m.MSpanSys+m.MCacheSys), mib(m.GCSys), mib(m.OtherSys), mib(m.TotalAlloc), m.NumGC)), 0o644)
}
