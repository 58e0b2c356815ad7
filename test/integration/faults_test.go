//go:build integration

package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	corev1 "k8s.io/api/core/v1"
)

// The API server "restarts" under a running `logs -f` (every connection dropped, new ones
// refused for 3 s): the plugin carries on, and no line is lost or doubled.
func TestFaultAPIServerRestartDuringFollow(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Running(ns, "fraud"))
	pod := sc.PodNames()[0]
	proxy := testenv.NewTCPProxy(t, e.APIServerAddr())
	f := followWith(t, []string{"KUBECONFIG=" + e.KubeconfigVia(t, proxy)}, "fraud", "-n", ns, "-f", "--tail", "0")
	time.Sleep(2 * time.Second)
	base := time.Now()
	for i := 0; i < 5; i++ {
		_ = e.Logs.Append(ns, pod, "kserve-container", base.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("before restart %d", i))
	}
	f.waitFor(t, false, "before restart 4")
	proxy.Restart(t, 3*time.Second)
	for i := 0; i < 5; i++ {
		_ = e.Logs.Append(ns, pod, "kserve-container", base.Add(time.Second+time.Duration(i)*time.Millisecond), fmt.Sprintf("during restart %d", i))
	}
	f.waitFor(t, false, "during restart 4")
	// The pod watch came back too: a new pod after the restart is picked up.
	p := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "aft3r"})
	_ = e.Logs.Append(ns, p.Name, "kserve-container", time.Time{}, "new pod after the restart")
	if err := fixtures.CreatePod(t.Context(), e.Kube, p); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, "new pod after the restart")
	for _, w := range []string{"before restart", "during restart"} {
		for i := 0; i < 5; i++ {
			if n := f.count(fmt.Sprintf("%s %d", w, i)); n != 1 {
				t.Errorf("%s %d printed %d times", w, i, n)
			}
		}
	}
}

// The API server restarts under `status --watch`: it carries on and prints the change.
func TestFaultAPIServerRestartDuringWatch(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Starting(ns, "warming", "initializing"))
	proxy := testenv.NewTCPProxy(t, e.APIServerAddr())
	f := runBackground(t, []string{"KUBECONFIG=" + e.KubeconfigVia(t, proxy)}, "status", "warming", "-n", ns, "--watch")
	f.waitFor(t, false, "Status:     Starting")
	proxy.Restart(t, 3*time.Second)
	p := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "st4rt", State: fixtures.PodState{NotReady: true}})
	e.UpdatePodStatus(t, ns, sc.PodNames()[0], func(cur *corev1.Pod) { cur.Status = p.Status })
	f.waitFor(t, false, "STARTED unknown: Deployment is starting")
}

// A pod deleted and recreated under the same name is followed again.
func TestFaultPodRecreated(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Running(ns, "fraud"))
	pod := sc.PodNames()[0]
	f := follow(t, "fraud", "-n", ns, "-f", "--tail", "0")
	time.Sleep(2 * time.Second)
	_ = e.Logs.Append(ns, pod, "kserve-container", time.Time{}, "first life")
	f.waitFor(t, false, "first life")
	e.DeletePod(t, ns, pod)
	f.waitFor(t, true, "- "+pod+" deleted")
	time.Sleep(3 * time.Second)
	_ = e.Logs.Restart(ns, pod, "kserve-container")
	_ = e.Logs.Append(ns, pod, "kserve-container", time.Time{}, "second life")
	if err := fixtures.CreatePod(t.Context(), e.Kube, sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "qx7tz"})); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, "second life")
	if n := f.count("first life"); n != 1 {
		t.Errorf("the first life's line printed %d times", n)
	}
}

// faultyOpenSearch forwards to the test OpenSearch, with faults on _search requests.
type faultyOpenSearch struct {
	searches  atomic.Int64
	stopAfter int64         // searches served before the server "stops" (0: never)
	fail503   int64         // the first searches answered 503
	delay     time.Duration // before every answer
	stallFrom int64         // searches from this one on never answer (0: never)
	dropPITAt int64         // before this search, every point in time is deleted (0: never)
	target    string
}

func (f *faultyOpenSearch) start(t *testing.T, target string) string {
	u, _ := url.Parse(target)
	f.target = target
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(f.delay)
		if strings.HasSuffix(r.URL.Path, "/_search") {
			n := f.searches.Add(1)
			if n <= f.fail503 {
				if n%2 == 1 { // alternate 429 and 503
					http.Error(w, `{"error":{"type":"too_many_requests","reason":"slow down"},"status":429}`, http.StatusTooManyRequests)
					return
				}
				http.Error(w, `{"error":{"type":"unavailable","reason":"busy"},"status":503}`, http.StatusServiceUnavailable)
				return
			}
			if f.dropPITAt > 0 && n == f.dropPITAt {
				req, _ := http.NewRequest(http.MethodDelete, f.target+"/_search/point_in_time/_all", nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			if f.stallFrom > 0 && n >= f.stallFrom {
				// Hangs until the client gives up (the body must be read for the server to
				// notice the client going away).
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
				return
			}
			if f.stopAfter > 0 && n > f.stopAfter {
				hj, _ := w.(http.Hijacker)
				c, _, _ := hj.Hijack()
				c.Close() // the server went away mid-export
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func loadExport(t *testing.T, e *testenv.Env, osURL, ns string, n int) {
	e.Apply(t, fixtures.Idle(ns, "export"))
	base := time.Now().Add(-3 * time.Hour)
	var docs []fixtures.LogDoc
	for i := 0; i < n; i++ {
		docs = append(docs, fixtures.LogDoc{Timestamp: base.Add(time.Duration(i) * time.Second), Message: fmt.Sprintf("export %05d", i), Serving: "export",
			Component: "predictor", Container: "kserve-container", Project: strings.ReplaceAll(ns, "-", "_"), Host: "worker-1"})
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
}

func TestFaultOpenSearch(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	loadExport(t, e, osURL, ns, 5000)

	// Stopped in the middle of an export: a clear error, the output marked partial, exit 5.
	stop := &faultyOpenSearch{stopAfter: 1}
	// One slice: the faults below count searches, which parallel slices would interleave.
	seq := []string{"HOPSDEPLOY_OPENSEARCH_SLICES=1"}
	r := pluginEnv(t, seq, "logs", "export", "-n", ns, "--since", "4h", "-o", "raw", "--opensearch-url", stop.start(t, osURL))
	if r.code != 5 || len(lines(r.out)) != 2000 || !strings.Contains(r.err, "is unreachable") ||
		!strings.Contains(r.err, "the history output is partial: 2000 lines printed, the last at ") {
		t.Errorf("stopped mid-export: exit %d, %d lines, %q", r.code, len(lines(r.out)), r.err)
	}

	// 429 and 503 answers are retried with backoff, and the export completes.
	busy := &faultyOpenSearch{fail503: 2}
	r = pluginEnv(t, seq, "logs", "export", "-n", ns, "--since", "4h", "-o", "raw", "--opensearch-url", busy.start(t, osURL))
	if r.code != 0 || len(lines(r.out)) != 5000 || busy.searches.Load() < 5 {
		t.Errorf("429 then 503: exit %d, %d lines, %d searches, %q", r.code, len(lines(r.out)), busy.searches.Load(), r.err)
	}

	// The point in time expires mid-export (as when a pager stops reading for minutes): the
	// real server's search_context_missing_exception is named as such, not "no index".
	expire := &faultyOpenSearch{dropPITAt: 2}
	r = pluginEnv(t, seq, "logs", "export", "-n", ns, "--since", "4h", "-o", "raw", "--opensearch-url", expire.start(t, osURL))
	if r.code != 5 || !strings.Contains(r.err, "no longer holds the point in time of this read (search_context_missing_exception)") ||
		!strings.Contains(r.err, "partial: 2000 lines printed") {
		t.Errorf("expired point in time: exit %d, %d lines, %q", r.code, len(lines(r.out)), r.err)
	}

	// A slow OpenSearch: --request-timeout bounds the wait.
	slow := &faultyOpenSearch{delay: 5 * time.Second}
	start := time.Now()
	r = plugin(t, "logs", "export", "-n", ns, "--request-timeout", "1s", "--opensearch-url", slow.start(t, osURL))
	if r.code != 5 || !strings.Contains(r.err, "timed out") || time.Since(start) > 4*time.Second {
		t.Errorf("slow OpenSearch: exit %d after %s, %q", r.code, time.Since(start), r.err)
	}
}

// Ctrl-C during a history export keeps every line already read (the output is flushed, whole
// lines only) and exits 130.
func TestInterruptedExportKeepsWhatWasRead(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	loadExport(t, e, osURL, ns, 5000)
	stall := &faultyOpenSearch{stallFrom: 2} // one page of 2000, then nothing
	cmd := exec.Command(testenv.PluginBin, "logs", "export", "-n", ns, "--since", "4h", "-o", "raw", "--opensearch-url", stall.start(t, osURL))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.Kubeconfig, "NO_COLOR=1", "HOPSDEPLOY_OPENSEARCH_SLICES=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); stall.searches.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the first page is written to the (buffered) output
	_ = cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130; stderr %q", err, errb.String())
	}
	got := lines(out.String())
	if len(got) != 2000 || got[0] != "export 00000" || got[1999] != "export 01999" || !strings.HasSuffix(out.String(), "\n") {
		t.Errorf("%d lines kept (want the first page, 2000, whole): first %q", len(got), got[:min(1, len(got))])
	}
}

// runBackground runs the plugin and collects its output, like follow.
func runBackground(t *testing.T, env []string, args ...string) *follower {
	return startFollower(t, env, args)
}

func followWith(t *testing.T, env []string, args ...string) *follower {
	return startFollower(t, env, append([]string{"logs"}, args...))
}
