package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	soakMinutes = flag.Int("soak-minutes", 30, "follow-soak: minutes of following")
	soakPods    = flag.Int("soak-pods", 10, "follow-soak: pods at a time (3 containers each), all replaced every minute")
	soakRate    = flag.Int("soak-rate", 300, "follow-soak: lines a second, in all")
)

// soakSample is the follower as seen every 10 s: its CPU and resident memory from /proc, its
// live heap and goroutine stacks from the Go runtime's GC trace (GODEBUG=gctrace=1: the heap
// left after the last collection, the stacks' size), and the lines it had printed.
type soakSample struct {
	at              time.Duration
	cpu             time.Duration
	rssKiB, threads int64
	anonKiB         int64 // the resident memory that is not the binary's pages: heap, stacks, the runtime's
	heapMB, stackMB float64
	lines           int
}

// gcTrace is one line of the runtime's GC trace: "... 4->5->2 MB, 5 MB goal, 0 MB stacks, ...".
var gcTrace = regexp.MustCompile(`->(\d+) MB, \d+ MB goal, (\d+) MB stacks`)

// benchFollowSoak follows a deployment for -soak-minutes while its pods are all replaced every
// minute (new pods first, each stream seen open, then the old ones deleted), -soak-rate lines
// a second written to the pods of the moment. Every line must arrive once; the live heap, the
// stacks (which grow with goroutines), the anonymous resident memory (to the KiB, where the
// GC trace says MB) and the CPU a line must stay flat: their least-squares slope, after the
// first two minutes, may add at most 10% (memory; at least 1 MB) and 20% (CPU a line) over
// the run.
func benchFollowSoak() error {
	kc, _, err := clients()
	if err != nil {
		return err
	}
	ctx := context.Background()
	s := fixtures.Serving{Name: "soak", Namespace: "bench-soak", ID: 920, Standard: true, Logger: true}
	gen := 0
	pods, err := followPodsNamed(ctx, kc, s, fmt.Sprintf("g%03d-", gen), *soakPods)
	if err != nil {
		return err
	}
	maxStreams := strconv.Itoa(2 * len(pods) * len(followContainers))
	args := []string{"logs", "soak", "-n", s.Namespace, "-f", "--tail", "0", "--prefix", "--max-log-requests", maxStreams}
	for _, c := range followContainers {
		args = append(args, "--container", c)
	}
	cmd := exec.Command(*plugin, args...)
	cmd.Env = append(env(), "GODEBUG=gctrace=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	trace, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill() }()
	pid := strconv.Itoa(cmd.Process.Pid)

	var mu sync.Mutex
	var heapMB, stackMB float64
	var lastErr string
	open := map[string]bool{}
	seen := map[int]bool{}
	dup := 0
	done := make(chan struct{}, 2)
	go func() { // the GC trace, and anything else the plugin says
		defer func() { done <- struct{}{} }()
		sc := bufio.NewScanner(trace)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			if m := gcTrace.FindStringSubmatch(line); m != nil {
				heapMB, _ = strconv.ParseFloat(m[1], 64)
				stackMB, _ = strconv.ParseFloat(m[2], 64)
			} else if !strings.HasPrefix(line, "gc ") {
				lastErr = line
			}
			mu.Unlock()
		}
	}()
	go func() {
		defer func() { done <- struct{}{} }()
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			mu.Lock()
			if m, ok := markIn(line); ok {
				open[m] = true
			} else if k := bytes.Index(line, []byte("seq=")); k >= 0 {
				if m := bytes.IndexByte(line[k:], ' '); m > 0 {
					if n, err := strconv.Atoi(string(line[k+4 : k+m])); err == nil {
						if seen[n] {
							dup++
						}
						seen[n] = true
					}
				}
			}
			mu.Unlock()
		}
	}()

	streamsOf := func(pods []string) []stream {
		var st []stream
		for _, p := range pods {
			for _, c := range followContainers {
				st = append(st, stream{p, c})
			}
		}
		return st
	}
	isOpen := func(st stream) bool {
		mu.Lock()
		defer mu.Unlock()
		return open[openMark(st)]
	}
	mark := func(st stream) { _ = cluster.Logs.Append(s.Namespace, st.pod, st.container, time.Time{}, openMark(st)) }
	// opened waits until the plugin has printed every stream's open mark.
	opened := func(streams []stream) error {
		if closed := awaitOpen(streams, isOpen, mark, func() bool { return exited(cmd) }); len(closed) > 0 {
			mu.Lock()
			defer mu.Unlock()
			return fmt.Errorf("soak: %d of %d streams not open: %s", len(closed), len(streams), lastErr)
		}
		return nil
	}
	current := streamsOf(pods)
	if err := opened(current); err != nil {
		return err
	}

	// The writer: every 100 ms, lines to the streams of the moment.
	var writeMu sync.Mutex
	written := 0
	stopWriting := make(chan struct{})
	writerDone := make(chan struct{})
	perTick := max(1, *soakRate/10/len(current))
	go func() {
		defer close(writerDone)
		start := time.Now()
		for tick := 1; ; tick++ {
			select {
			case <-stopWriting:
				return
			case <-time.After(time.Until(start.Add(time.Duration(tick) * 100 * time.Millisecond))):
			}
			writeMu.Lock()
			for _, st := range current {
				lines := make([]string, perTick)
				for k := range lines {
					lines[k] = stamp(written)
					written++
				}
				_ = cluster.Logs.Append(s.Namespace, st.pod, st.container, time.Time{}, lines...)
			}
			writeMu.Unlock()
		}
	}()

	var samples []soakSample
	began := time.Now()
	sample := func() {
		mu.Lock()
		defer mu.Unlock()
		samples = append(samples, soakSample{at: time.Since(began), cpu: pidCPU(pid), rssKiB: statusKiB(cmd.Process.Pid, "VmRSS:"), anonKiB: statusKiB(cmd.Process.Pid, "RssAnon:"),
			threads: statusKiB(cmd.Process.Pid, "Threads:"), heapMB: heapMB, stackMB: stackMB, lines: len(seen)})
	}
	sample()
	end := began.Add(time.Duration(*soakMinutes) * time.Minute)
	nextReplace := began.Add(time.Minute)
	for time.Now().Before(end) {
		time.Sleep(min(10*time.Second, time.Until(end)))
		if exited(cmd) {
			return fmt.Errorf("soak: the plugin ended after %s: %s", time.Since(began).Round(time.Second), lastErr)
		}
		if !time.Now().Before(nextReplace) && time.Until(end) > 20*time.Second {
			gen++
			next, err := followPodsNamed(ctx, kc, s, fmt.Sprintf("g%03d-", gen), *soakPods)
			if err != nil {
				return err
			}
			if err := opened(streamsOf(next)); err != nil {
				return err
			}
			writeMu.Lock()
			old := pods
			pods, current = next, streamsOf(next)
			writeMu.Unlock()
			time.Sleep(2 * time.Second) // the old pods' last lines reach the plugin
			for _, p := range old {
				if err := kc.CoreV1().Pods(s.Namespace).Delete(ctx, p, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
					return err
				}
			}
			nextReplace = nextReplace.Add(time.Minute)
		}
		sample()
	}
	close(stopWriting)
	<-writerDone
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= written {
			break
		}
	}
	sample()
	_ = cmd.Process.Signal(syscall.SIGINT)
	_ = cmd.Wait()
	<-done
	<-done
	return soakRow(samples, written, dup, gen)
}

// soakRow judges the soak's samples and adds its row; the samples go to stderr.
func soakRow(samples []soakSample, written, dup, replaced int) error {
	fmt.Fprintln(os.Stderr, "soak samples: at, CPU, RSS MiB, anonymous KiB, threads, heap MB, stacks MB, lines")
	for _, s := range samples {
		fmt.Fprintf(os.Stderr, "  %s\t%s\t%d\t%d\t%d\t%.0f\t%.0f\t%d\n", s.at.Round(time.Second), s.cpu, s.rssKiB/1024, s.anonKiB, s.threads, s.heapMB, s.stackMB, s.lines)
	}
	var warm []soakSample // after the first two minutes
	for _, s := range samples {
		if s.at >= 2*time.Minute {
			warm = append(warm, s)
		}
	}
	if len(warm) < 6 {
		return fmt.Errorf("soak: %d samples after the first two minutes, too few to judge (run at least 3 minutes)", len(warm))
	}
	series := func(y func(soakSample) float64) []point {
		var ps []point
		for _, s := range warm {
			ps = append(ps, point{s.at.Minutes(), y(s)})
		}
		return ps
	}
	heap := fit(series(func(s soakSample) float64 { return s.heapMB }))
	stacks := fit(series(func(s soakSample) float64 { return s.stackMB }))
	anon := fit(series(func(s soakSample) float64 { return float64(s.anonKiB) / 1024 }))
	var perLine []point // CPU (ms) a thousand lines, interval by interval
	for i := 1; i < len(warm); i++ {
		if d := warm[i].lines - warm[i-1].lines; d > 0 {
			perLine = append(perLine, point{warm[i].at.Minutes(), float64(warm[i].cpu-warm[i-1].cpu) / float64(time.Millisecond) * 1000 / float64(d)})
		}
	}
	cpu := fit(perLine)
	span := (warm[len(warm)-1].at - warm[0].at).Minutes()
	last := samples[len(samples)-1]
	var misses []string
	if last.lines != written || dup > 0 {
		misses = append(misses, fmt.Sprintf("lines (%d of %d, %d twice)", last.lines, written, dup))
	}
	if heap.slope*span > max(1, 0.1*heap.mean) {
		misses = append(misses, "heap")
	}
	if stacks.slope*span > max(1, 0.1*stacks.mean) {
		misses = append(misses, "stacks")
	}
	if anon.slope*span > max(1, 0.1*anon.mean) {
		misses = append(misses, "anonymous memory")
	}
	if cpu.slope*span > 0.2*cpu.mean {
		misses = append(misses, "CPU a line")
	}
	title := fmt.Sprintf("Follow soak: %d min, %d pods x %d containers replaced every minute (%d times), %d lines/s", *soakMinutes, *soakPods, len(followContainers), replaced, *soakRate)
	table = append(table, row{bench: title, command: "kubectl hopsdeploy logs -f", wall: "-", ratio: "-",
		cpu: last.cpu.Round(10 * time.Millisecond).String(), mem: fmt.Sprintf("%d MiB", last.rssKiB/1024),
		note: fmt.Sprintf("%d/%d lines; slopes a minute after 2 min: heap %+.3f MB (mean %.1f), stacks %+.3f MB (mean %.1f), anonymous resident memory %+.3f MiB (mean %.1f), CPU %+.3f ms a 1k lines (mean %.2f); threads %d",
			last.lines, written, heap.slope, heap.mean, stacks.slope, stacks.mean, anon.slope, anon.mean, cpu.slope, cpu.mean, last.threads),
		goal:    "every line once; fitted growth over the run: heap, stacks and anonymous memory <= 10% (1 MB), CPU a line <= 20%",
		verdict: verdict(misses)})
	return nil
}

// point is a sample's minute and a measure.
type point struct{ x, y float64 }

// line is a least-squares fit: its slope (a minute) and the mean of y.
type line struct{ slope, mean float64 }

func fit(ps []point) line {
	n := float64(len(ps))
	if n == 0 {
		return line{}
	}
	var sx, sy, sxx, sxy float64
	for _, p := range ps {
		sx += p.x
		sy += p.y
		sxx += p.x * p.x
		sxy += p.x * p.y
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return line{mean: sy / n}
	}
	return line{slope: (n*sxy - sx*sy) / d, mean: sy / n}
}
