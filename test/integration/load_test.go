//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// parallel runs fn(i) for i in [0, n) on 8 workers and fails on the first error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// procStatus reads VmRSS and Threads (KiB, count) of a process.
func procStatus(pid int) (rss, threads int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			rss, _ = strconv.Atoi(f[1])
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		}
	}
	return rss, threads
}

// 100 pods of 3 containers followed for a minute: memory and threads stay bounded and every
// one of the 300 streams delivers its lines to the end.
func TestLoadFollow300Streams(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	s := fixtures.Serving{Name: "busy", Namespace: ns, ID: 300, Logger: true}
	e.Apply(t, fixtures.Scenario{Serving: s, ISVC: &fixtures.ISVCStatus{Ready: "True"}})
	containers := []string{"kserve-container", "queue-proxy", "agent"}
	var pods []string
	for i := 0; i < 100; i++ {
		pods = append(pods, s.PodName("predictor", fmt.Sprintf("l%04d", i)))
	}
	parallel(t, len(pods), func(i int) error {
		for _, c := range containers {
			if err := e.Logs.Append(ns, pods[i], c, time.Time{}, "start"); err != nil {
				return err
			}
		}
		return fixtures.CreatePod(context.Background(), e.Kube, s.Pod(fixtures.PodSpec{Component: "predictor", Suffix: fmt.Sprintf("l%04d", i)}))
	})
	args := []string{"busy", "-n", ns, "-f", "--tail", "0", "-o", "raw", "--max-log-requests", "300"}
	for _, c := range containers {
		args = append(args, "--container", c)
	}
	f := follow(t, args...)
	pid := f.cmd.Process.Pid
	// --tail 0 reads from when each stream opens: a line written before is not read. Write
	// each stream a mark until it arrives: then all 300 are open.
	opened := time.Now()
	for {
		f.mu.Lock()
		seen := map[string]bool{}
		for _, l := range f.out {
			if strings.HasPrefix(l, "open ") {
				seen[l] = true
			}
		}
		f.mu.Unlock()
		if len(seen) == 300 {
			break
		}
		if time.Since(opened) > 60*time.Second {
			f.mu.Lock()
			stderr := strings.Join(f.err[:min(len(f.err), 20)], "\n")
			f.mu.Unlock()
			t.Fatalf("only %d of 300 streams opened in 60s (KWOK's kubelet holds an inotify instance per followed log: fs.inotify.max_user_instances must be at least %d); stderr begins:\n%s", len(seen), testenv.InotifyInstances, stderr)
		}
		for _, p := range pods {
			for _, c := range containers {
				if mark := "open " + p + " " + c; !seen[mark] {
					_ = e.Logs.Append(ns, p, c, time.Time{}, mark)
				}
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Logf("300 streams open in %s", time.Since(opened).Round(100*time.Millisecond))
	if time.Since(opened) > 20*time.Second {
		t.Errorf("streams starved at start: 300 took %s to open", time.Since(opened))
	}

	const seconds = 60
	var rssFirst, rssLast, peak, peakThreads int
	for tick := 0; tick < seconds; tick++ {
		start := time.Now()
		for _, p := range pods {
			for _, c := range containers {
				_ = e.Logs.Append(ns, p, c, time.Time{}, fmt.Sprintf("tick %d %s %s", tick, p, c))
			}
		}
		rss, threads := procStatus(pid)
		peak, peakThreads = max(peak, rss), max(peakThreads, threads)
		if tick == seconds/4 {
			rssFirst = rss
		}
		if tick == seconds-1 {
			rssLast = rss
		}
		time.Sleep(time.Second - time.Since(start))
	}
	// Every stream delivered its last line.
	deadline := time.Now().Add(20 * time.Second)
	missing := 0
	for time.Now().Before(deadline) {
		missing = 0
		f.mu.Lock()
		seen := map[string]bool{}
		for _, l := range f.out {
			if strings.HasPrefix(l, fmt.Sprintf("tick %d ", seconds-1)) {
				seen[l] = true
			}
		}
		f.mu.Unlock()
		missing = len(pods)*len(containers) - len(seen)
		if missing == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Every tick line once (the open marks before them may come twice: one written before
	// its stream opened is read when a later one is).
	f.mu.Lock()
	total, distinct := 0, map[string]bool{}
	for _, l := range f.out {
		if strings.HasPrefix(l, "tick ") {
			total++
			distinct[l] = true
		}
	}
	f.mu.Unlock()
	t.Logf("300 streams for %ds: %d lines, peak RSS %d MiB (at 1/4: %d MiB, at the end: %d MiB), peak threads %d", seconds, total, peak/1024, rssFirst/1024, rssLast/1024, peakThreads)
	if missing > 0 {
		t.Errorf("%d streams starved: their last line never came", missing)
	}
	if total != len(pods)*len(containers)*seconds || len(distinct) != total {
		t.Errorf("lines lost or doubled: %d, want %d", total, len(pods)*len(containers)*seconds)
	}
	if peak > 300*1024 || rssLast > rssFirst*3/2+16*1024 {
		t.Errorf("memory not bounded: peak %d MiB, %d MiB at 1/4 and %d MiB at the end", peak/1024, rssFirst/1024, rssLast/1024)
	}
	if peakThreads > 64 {
		t.Errorf("threads not bounded: %d", peakThreads)
	}
}

// 10,000 events about a deployment's pod: status stays one list call and de-duplicates them.
func TestLoad10000Events(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.PredictorCrashLoop(ns, "noisy"))
	pod := sc.PodNames()[0]
	parallel(t, 10000, func(i int) error {
		ev := fixtures.Event(ns, "Pod", pod, "Warning", "Unhealthy", fmt.Sprintf("Readiness probe failed: attempt group %d", i%100), 1, time.Now().Add(-time.Duration(i)*time.Second), "spec.containers{kserve-container}")
		_, err := e.Kube.CoreV1().Events(ns).Create(context.Background(), ev, metav1.CreateOptions{})
		return err
	})
	start := time.Now()
	r := plugin(t, "status", "noisy", "-n", ns, "-o", "json").must(t)
	t.Logf("status with 10,000 events: %s", time.Since(start))
	var s struct {
		Events []struct {
			Reason string `json:"reason"`
			Count  int    `json:"count"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, ev := range s.Events {
		if ev.Reason == "Unhealthy" {
			total += ev.Count
		}
	}
	if len(s.Events) != 101 || total != 10000 {
		t.Errorf("events: %d summaries, %d Unhealthy in all; want 101 and 10000", len(s.Events), total)
	}
	contains(t, "human", plugin(t, "status", "noisy", "-n", ns).must(t).out, "... 91 more (-o json shows all)")
}

// list -A over 1,000 deployments reads them with paged lists.
func TestLoadList1000(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	parallel(t, 1000, func(i int) error {
		sc := fixtures.Idle(ns, fmt.Sprintf("m%04d", i))
		sc.Serving.ID = 10000 + i
		u := sc.Serving.ISVC()
		ri := e.Dyn.Resource(fixtures.ISVCResource).Namespace(ns)
		created, err := ri.Create(context.Background(), u, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		created.Object["status"] = fixtures.ISVCStatus{Ready: "True"}.Object(u.GetName(), ns)
		_, err = ri.UpdateStatus(context.Background(), created, metav1.UpdateOptions{})
		return err
	})
	r := plugin(t, "list", "-A", "-o", "json", "-v", "6").must(t)
	var l struct {
		Items []struct{ Namespace, Status string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.out), &l); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, it := range l.Items {
		if it.Namespace == ns && it.Status == "Idle" {
			n++
		}
	}
	if n != 1000 {
		t.Errorf("list -A: %d of the 1,000 deployments", n)
	}
	if !strings.Contains(r.err, "limit=500") || !strings.Contains(r.err, "continue=") {
		t.Errorf("list -A did not page (no limit/continue in the requests)")
	}
}
