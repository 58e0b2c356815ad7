package main

import (
	"math"
	"math/rand"
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

// A goal against another row compares the two rows' worst quartiles. A command against
// itself on a machine whose speed drifts 20% over the run is within 1.1x (judged as the worst
// quartile of one row against the other's median, it was 1.14x: missed), and so are the same
// runs in another order (judged on the worst quartile of the rounds' ratios, 1.2x: missed); a
// command 1.2x slower in every round misses it, as does a first line 1 round trip + 15 ms later.
func TestJudgeWorstQuartiles(t *testing.T) {
	drift := []float64{5000, 9000, 6000, 8000, 7000}
	firsts := []float64{30, 70, 40, 60, 50}
	for _, c := range []struct {
		name          string
		walls, firsts []float64
		want          string
	}{
		{"itself", drift, firsts, "within"},
		{"its runs in another order", []float64{6000, 5000, 7000, 9000, 8000}, []float64{40, 30, 50, 70, 60}, "within"},
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

// The judge tells a command from one 1.2x slower, and does not often fail a command against
// itself, when every run spreads by 10% and the machine drifts by 10% between rounds (a
// million lines' floor on this kind of machine). Judged on the worst quartile of the rounds'
// ratios, the command against itself missed 1.1x in 37% of 5-round runs and 48% of 10-round
// runs: the spread of two runs, not the commands.
func TestJudgeSpreadOfRuns(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	missRate := func(slower float64, rounds int) float64 {
		const trials = 4000
		missed := 0
		for range trials {
			var own, ref []float64
			for range rounds {
				drift := 5000 * (1 + 0.1*r.NormFloat64())
				own = append(own, slower*drift*math.Exp(0.1*r.NormFloat64()))
				ref = append(ref, drift*math.Exp(0.1*r.NormFloat64()))
			}
			g := &goal{Against: "floor", Wall: 1.1}
			if _, v := judge(g, rowOf(own, nil), map[string]stats{"floor": rowOf(ref, nil)}); v != "within" {
				missed++
			}
		}
		return float64(missed) / trials
	}
	for _, c := range []struct {
		slower      float64
		rounds      int
		least, most float64
	}{
		{1, 5, 0, 0.2},
		{1, 10, 0, 0.12},
		{1.2, 10, 0.8, 1},
	} {
		if m := missRate(c.slower, c.rounds); m < c.least || m > c.most {
			t.Errorf("%.1fx the floor, %d rounds: missed in %.0f%% of runs, want %.0f to %.0f%%", c.slower, c.rounds, 100*m, 100*c.least, 100*c.most)
		}
	}
	within, missed = 0, 0
}
