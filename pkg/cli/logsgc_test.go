package cli

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gcPercent reads the GC target without setting it (runtime/metrics; SetGCPercent would race
// with the background step it checks).
func gcPercent() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	p := int(s[0].Value.Uint64())
	if p == 0 {
		return -1 // off: the metric says 0
	}
	return p
}

// keepGC puts the process's GC settings back after the test.
func keepGC(t *testing.T) {
	p, limit := gcPercent(), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(p)
		debug.SetMemoryLimit(limit)
	})
}

func TestLogsGCIsOffWhileGatheringThenTunedForStreams(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	var gc logsGC
	gc.gathering()
	if p, limit := gcPercent(), debug.SetMemoryLimit(-1); p != -1 || limit != streamsMemoryLimit {
		t.Fatalf("while gathering: GOGC %d, limit %d; want off under %d", p, limit, streamsMemoryLimit)
	}
	gc.streaming()
	// The target is set once the background collection is over.
	for deadline := time.Now().Add(10 * time.Second); gcPercent() != 50; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("streaming: GOGC %d, want 50", gcPercent())
		}
	}
	if limit := debug.SetMemoryLimit(-1); limit != streamsMemoryLimit {
		t.Fatalf("streaming: limit %d, want %d", limit, streamsMemoryLimit)
	}
}

func TestLogsGCLeavesWhatTheEnvironmentSets(t *testing.T) {
	keepGC(t)
	t.Setenv("GOGC", "200") // read by the runtime at start only: set here, as the user did
	t.Setenv("GOMEMLIMIT", "")
	debug.SetGCPercent(200)
	debug.SetMemoryLimit(math.MaxInt64)
	var gc logsGC
	gc.gathering()
	if p := gcPercent(); p != 200 {
		t.Fatalf("while gathering: GOGC %d, want the environment's 200", p)
	}
	gc.streaming()
	if p, limit := gcPercent(), debug.SetMemoryLimit(-1); p != 200 || limit != streamsMemoryLimit {
		t.Fatalf("streaming: GOGC %d, limit %d; want 200 under %d", p, limit, streamsMemoryLimit)
	}
}
