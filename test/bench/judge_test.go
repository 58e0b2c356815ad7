package main

import (
	"testing"
	"time"
)

// rowOf is a job's statistics from its rounds' walls and first lines (ms).
func rowOf(walls, firsts []float64) stats {
	var st stats
	for i, w := range walls {
		s := sample{wall: time.Duration(w * float64(time.Millisecond)), cpu: time.Duration(w * float64(time.Millisecond) / 2)}
		if firsts != nil {
			s.first = time.Duration(firsts[i] * float64(time.Millisecond))
		}
		st.rounds = append(st.rounds, s)
	}
	st.wall, st.cpu = median(st.rounds, func(s sample) time.Duration { return s.wall }), median(st.rounds, func(s sample) time.Duration { return s.cpu })
	st.first = median(st.rounds, func(s sample) time.Duration { return s.first })
	return st
}

// scaled is walls each times x, plus add.
func scaled(walls []float64, x, add float64) []float64 {
	out := make([]float64, len(walls))
	for i, w := range walls {
		out[i] = w*x + add
	}
	return out
}

// A goal against another row is judged round by round. A command against itself
// on a machine whose speed drifts 20% over the run is within 1.1x (judged as the worst
// quartile of one row against the other's median, it was 1.14x: missed); a command 1.2x
// slower in every round misses it, as does a first line 1 round trip + 15 ms later.
func TestJudgeRoundByRound(t *testing.T) {
	drift := []float64{5000, 9000, 6000, 8000, 7000}
	firsts := []float64{30, 70, 40, 60, 50}
	for _, c := range []struct {
		name          string
		walls, firsts []float64
		want          string
	}{
		{"itself", drift, firsts, "within"},
		{"1.2x slower", scaled(drift, 1.2, 0), firsts, "NOT: wall"},
		{"1.5x the CPU", scaled(drift, 1.6, 0), firsts, "NOT: wall, CPU"},
		{"first line 1 round trip + 5 ms later", drift, scaled(firsts, 1, 105), "within"},
		{"first line 1 round trip + 15 ms later", drift, scaled(firsts, 1, 115), "NOT: first line"},
	} {
		floor := rowOf(drift, firsts)
		g := &goal{Against: "floor", Wall: 1.1, CPUOf: "floor", CPUx: 1.5, FirstOf: "floor", RTT: 100 * time.Millisecond, FirstSlack: 10 * time.Millisecond}
		_, got := judge(g, rowOf(c.walls, c.firsts), map[string]stats{"floor": floor})
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	within, missed = 0, 0
}
