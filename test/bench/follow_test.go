package main

import (
	"strings"
	"testing"
	"time"
)

// The follow row's goal reads every run: a line lost in one run misses it, and its CPU goal
// compares worst quartiles, so one lucky run of kubectl no longer decides it (the eighteenth
// full run's miss), while a plugin slower in most runs still misses.
func TestFollowRowsJudgeEveryRun(t *testing.T) {
	runsOf := func(want int, cpus []float64, rss int64) []tail {
		var ts []tail
		for _, c := range cpus {
			ts = append(ts, tail{received: want, cpu: time.Duration(c * float64(time.Second)), rss: rss})
		}
		return ts
	}
	kubectlCPU := []float64{3.15, 3.67, 3.76, 3.6, 3.7}
	sternCPU := []float64{4.5, 4.3, 5.4, 4.6, 4.4}
	const want = 100
	lost := runsOf(want, []float64{3.2, 3.3, 3.1, 3.3, 3.2}, 40<<10)
	lost[2].received--
	doubled := runsOf(want, []float64{3.2, 3.3, 3.1, 3.3, 3.2}, 40<<10)
	doubled[4].wrong++
	for _, c := range []struct {
		name    string
		own     []tail
		verdict string
	}{
		{"more CPU than kubectl's least run only", runsOf(want, []float64{3.27, 3.3, 3.1, 3.3, 3.2}, 40<<10), "within"},
		{"more CPU than kubectl in most runs", runsOf(want, []float64{3.8, 3.9, 3.1, 3.7, 3.85}, 40<<10), "NOT: CPU"},
		{"a line lost in one run", lost, "NOT: lines"},
		{"a line doubled in one run", doubled, "NOT: lines"},
		{"more memory than kubectl", runsOf(want, []float64{3.2, 3.3, 3.1, 3.3, 3.2}, 60<<10), "NOT: memory"},
	} {
		table = nil
		tools := []follower{{name: "kubectl", cmd: []string{"kubectl"}}, {name: "stern", cmd: []string{"stern"}}, {name: "plugin", cmd: []string{*plugin}}}
		followRows("follow", tools, [][]tail{runsOf(want, kubectlCPU, 50<<10), runsOf(want, sternCPU, 45<<10), c.own}, want)
		if len(table) != 3 {
			t.Fatalf("%s: %d rows, want 3", c.name, len(table))
		}
		if got := table[2].verdict; got != c.verdict {
			t.Errorf("%s: %q, want %q (goal: %s)", c.name, got, c.verdict, table[2].goal)
		}
		if table[0].verdict != "" || !strings.Contains(table[0].cpu, "(3.15s to 3.76s)") {
			t.Errorf("%s: kubectl's row %+v, want no verdict and its CPU's spread", c.name, table[0])
		}
	}
	table, within, missed = nil, 0, 0
}

// A followed run's lines are checked without reading a tool's prefix: each number once, each
// stream's in the order written (2 streams, 2 lines a tick each: 0-1 the first stream's, 2-3
// the second's, 4-5 the first's again), none beyond the run's.
func TestSeqOrder(t *testing.T) {
	for _, c := range []struct {
		name            string
		seqs            []int
		received, wrong int
	}{
		{"in order", []int{0, 1, 2, 3, 4, 5, 6, 7}, 8, 0},
		{"streams interleaved, each in order", []int{2, 0, 3, 1, 6, 4, 7, 5}, 8, 0},
		{"one doubled and one lost", []int{0, 1, 2, 3, 4, 4, 6, 7}, 7, 1},
		{"out of its stream's order", []int{0, 4, 1, 5, 2, 3, 6, 7}, 7, 1},
		{"a number not written in this run", []int{0, 1, 2, 3, 4, 5, 6, 8}, 7, 1},
		{"a stamped line without a number", []int{0, 1, 2, 3, 4, 5, 6, -1}, 7, 1},
	} {
		check := newSeqOrder(8, 2, 2)
		for _, s := range c.seqs {
			check.add(s, s >= 0)
		}
		if check.received != c.received || check.wrong != c.wrong {
			t.Errorf("%s: %d received, %d wrong; want %d and %d", c.name, check.received, check.wrong, c.received, c.wrong)
		}
	}
}
