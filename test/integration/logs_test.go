//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	corev1 "k8s.io/api/core/v1"
)

func lines(s string) []string {
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func TestLogsPodsAndContainers(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Running(ns, "fraud"))
	pred, trans := sc.PodNames()[0], sc.PodNames()[1]

	// Default: the predictor's kserve-container, last 10 lines, no prefix for one stream.
	out := lines(plugin(t, "logs", "fraud", "-n", ns).must(t).out)
	if len(out) != 10 || out[9] != `INFO:uvicorn.access:127.0.0.1:52764 - "POST /v1/models/fraud:predict HTTP/1.1" 200 OK` {
		t.Errorf("default logs: %d lines: %q", len(out), out)
	}

	// Every component and container: init container and sidecars included, prefixed.
	all := plugin(t, "logs", "fraud", "-n", ns, "-c", "all", "--container", "all", "--tail", "-1").must(t).out
	contains(t, "all containers", all,
		pred+" storage-initializer INFO:root:Successfully copied",
		pred+" kserve-container INFO:root:Model loaded in 4.2s",
		pred+" queue-proxy ",
		pred+" agent ",
		pred+" inference-logger INFO:inference_logger:Sent 2 inference records",
		trans+" kserve-container INFO:transformer:preprocess",
		trans+" storage-initializer ")

	// The transformer only, two containers by name, tail 1 each.
	tr := lines(plugin(t, "logs", "fraud", "-n", ns, "-c", "transformer", "--container", "kserve-container", "--container", "queue-proxy", "--tail", "1").must(t).out)
	if len(tr) != 2 {
		t.Errorf("transformer tail 1 x 2 containers: %q", tr)
	}
	for _, l := range tr {
		if !strings.HasPrefix(l, trans+" ") {
			t.Errorf("not a transformer line: %q", l)
		}
	}

	// --timestamps, --since (the fixture's lines are 10 minutes old), --limit-bytes.
	ts := lines(plugin(t, "logs", "fraud", "-n", ns, "--tail", "2", "--timestamps").must(t).out)
	if len(ts) != 2 {
		t.Errorf("--timestamps: %q", ts)
	} else if at, err := time.Parse(time.RFC3339Nano, strings.Fields(ts[0])[0]); err != nil || time.Since(at) > time.Hour {
		t.Errorf("--timestamps: %q is not a time of the last hour (%v)", ts[0], err) // the lines were written 10 minutes ago
	}
	if got := plugin(t, "logs", "fraud", "-n", ns, "--since", "5m").must(t).out; got != "" {
		t.Errorf("--since 5m: %q", got)
	}
	if got := lines(plugin(t, "logs", "fraud", "-n", ns, "--since", "15m").must(t).out); len(got) != 13 {
		t.Errorf("--since 15m: %d lines, want all 13", len(got))
	}
	since := time.Now().Add(-15 * time.Minute).UTC().Format(time.RFC3339)
	if got := lines(plugin(t, "logs", "fraud", "-n", ns, "--since-time", since).must(t).out); len(got) != 13 {
		t.Errorf("--since-time: %d lines", len(got))
	}
	if got := plugin(t, "logs", "fraud", "-n", ns, "--tail", "1", "--limit-bytes", "8", "-o", "raw").must(t).out; got != "INFO:uvi\n" {
		t.Errorf("--limit-bytes 8: %q", got)
	}

	// Past --max-log-requests the plugin warns and keeps going with a bounded pool.
	bounded := pluginEnv(t, nil, "logs", "fraud", "-n", ns, "-c", "all", "--container", "all", "--tail", "-1", "--max-log-requests", "1")
	if bounded.code != 0 || !strings.Contains(bounded.err, "warning: 10 streams exceed --max-log-requests=1: the others wait for a free slot") || len(lines(bounded.out)) != len(lines(all)) {
		t.Errorf("bounded pool: exit %d, %d lines (want %d), stderr %q", bounded.code, len(lines(bounded.out)), len(lines(all)), bounded.err)
	}

	// JSON lines.
	js := lines(plugin(t, "logs", "fraud", "-n", ns, "-c", "all", "--tail", "1", "-o", "json").must(t).out)
	if len(js) != 2 {
		t.Fatalf("json: %q", js)
	}
	for _, l := range js {
		var m map[string]string
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("json line %q: %v", l, err)
		}
		for _, k := range []string{"timestamp", "namespace", "deployment", "pod", "component", "container", "message", "source"} {
			if m[k] == "" {
				t.Errorf("json line lacks %s: %s", k, l)
			}
		}
		if m["source"] != "live" || m["deployment"] != "fraud" || m["namespace"] != ns {
			t.Errorf("json line: %s", l)
		}
	}
}

func TestLogsPreviousAndNotStarted(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.PredictorCrashLoop(ns, "churn"))
	prev := plugin(t, "logs", "churn", "-n", ns, "--previous").must(t).out
	contains(t, "--previous", prev, "import xgboost as xgb", "ModuleNotFoundError: No module named 'xgboost'")

	e.Apply(t, fixtures.StorageInitFailing(ns, "irisinit"))
	r := plugin(t, "logs", "irisinit", "-n", ns)
	if r.code != 0 || !strings.Contains(r.err, "kserve-container: not started yet (waiting: PodInitializing)") {
		t.Errorf("not started: %d %q", r.code, r.err)
	}
	contains(t, "storage-initializer --previous", plugin(t, "logs", "irisinit", "-n", ns, "--container", "storage-initializer", "--previous").must(t).out,
		"FileNotFoundError")

	e.Apply(t, fixtures.Idle(ns, "sleepy"))
	r = plugin(t, "logs", "sleepy", "-n", ns)
	if r.code != 0 || r.out != "" || !strings.Contains(r.err, "no live logs for sleepy predictor: the deployment is Idle, scaled to zero") {
		t.Errorf("idle: %d %q %q", r.code, r.out, r.err)
	}
}

func TestLogsBadInput(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.PredictorCrashLoop(ns, "churn"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-c", "explainer"}, 2, `invalid --component "explainer": use predictor, transformer or all`},
		{[]string{"--container", "sidecar"}, 2, `unknown container "sidecar" in churn predictor: valid containers are storage-initializer, kserve-container, queue-proxy, or all`},
		{[]string{"--since", "5m", "--since-time", "2026-11-25T10:00:00Z"}, 2, "--since and --since-time both set where to start: give one of them"},
		{[]string{"--tail", "-5"}, 2, "invalid --tail -5: give a number of lines, 0 or more, or -1 for all"},
		{[]string{"--since-time", "yesterday"}, 2, `invalid --since-time "yesterday": use RFC3339`},
		{[]string{"--since", "soon"}, 2, `invalid argument "soon" for "--since"`},
		{[]string{"-o", "xml"}, 2, `invalid -o "xml": use raw or json`},
		{[]string{"-c", "transformer"}, 1, "deployment churn has no transformer"},
		{[]string{"--pod", "nope"}, 2, `pod "nope" is not an instance of churn predictor`},
		{[]string{"-f", "--previous"}, 2, "--previous and --follow do not go together"},
	} {
		r := plugin(t, append([]string{"logs", "churn", "-n", ns}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.err, tc.want) || strings.Count(r.err, "\n") != 1 {
			t.Errorf("logs %v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.err, tc.code, tc.want)
		}
	}
	r := plugin(t, "logs", "nosuch", "-n", ns)
	if r.code != 1 || !strings.Contains(r.err, `deployment "nosuch" not found`) {
		t.Errorf("unknown deployment: %d %q", r.code, r.err)
	}
}

// follower runs `logs -f` and collects its output.
type follower struct {
	cmd      *exec.Cmd
	mu       sync.Mutex
	out, err []string
	cancel   context.CancelFunc
}

func follow(t *testing.T, args ...string) *follower {
	return startFollower(t, nil, append([]string{"logs"}, args...))
}

// startFollower runs the plugin with args in the background (env entries override the
// defaults) and collects its output.
func startFollower(t *testing.T, env []string, args []string) *follower {
	t.Helper()
	e := testenv.Get(t)
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{cancel: cancel}
	f.cmd = exec.CommandContext(ctx, testenv.PluginBin, args...)
	f.cmd.Env = append(append(os.Environ(), "KUBECONFIG="+e.Kubeconfig, "NO_COLOR=1"), env...)
	so, _ := f.cmd.StdoutPipe()
	se, _ := f.cmd.StderrPipe()
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	collect := func(r io.Reader, dst *[]string) {
		s := bufio.NewScanner(r)
		s.Buffer(make([]byte, 1<<20), 4<<20)
		for s.Scan() {
			f.mu.Lock()
			*dst = append(*dst, s.Text())
			f.mu.Unlock()
		}
	}
	go collect(so, &f.out)
	go collect(se, &f.err)
	t.Cleanup(func() { cancel(); _ = f.cmd.Wait() })
	return f
}

// waitFor waits until a line of stdout (or stderr) contains s.
func (f *follower) waitFor(t *testing.T, stderr bool, s string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		src := f.out
		if stderr {
			src = f.err
		}
		for _, l := range src {
			if strings.Contains(l, s) {
				f.mu.Unlock()
				return
			}
		}
		f.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	t.Fatalf("timed out waiting for %q\nstdout:\n%s\nstderr:\n%s", s, strings.Join(f.out, "\n"), strings.Join(f.err, "\n"))
}

func (f *follower) count(s string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, l := range f.out {
		if strings.HasSuffix(l, s) {
			n++
		}
	}
	return n
}

func TestLogsFollow(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Running(ns, "fraud"))
	pod := sc.PodNames()[0]
	f := follow(t, "fraud", "-n", ns, "-f", "--tail", "1")
	f.waitFor(t, false, `"POST /v1/models/fraud:predict HTTP/1.1" 200 OK`)

	// A line appended while following.
	if err := e.Logs.Append(ns, pod, "kserve-container", time.Time{}, "live line 1"); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, pod+" kserve-container live line 1")

	// A stream cut mid-way resumes with no duplicated and no lost line.
	base := time.Now()
	for i := 0; i < 5; i++ {
		_ = e.Logs.Append(ns, pod, "kserve-container", base.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("numbered %d", i))
	}
	f.waitFor(t, false, "numbered 4")
	if n := e.CutKubeletConnections(); n == 0 {
		t.Fatal("no connection to the kubelet to cut")
	}
	for i := 5; i < 10; i++ {
		_ = e.Logs.Append(ns, pod, "kserve-container", base.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("numbered %d", i))
	}
	f.waitFor(t, false, "numbered 9")
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 10; i++ {
		if n := f.count(fmt.Sprintf("numbered %d", i)); n != 1 {
			t.Errorf("line %d printed %d times", i, n)
		}
	}
	if n := f.count("live line 1"); n != 1 {
		t.Errorf("line before the cut printed %d times", n)
	}

	// A new pod is picked up.
	newPod := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "n3wp0"})
	if err := e.Logs.Append(ns, newPod.Name, "kserve-container", time.Time{}, "hello from the new pod"); err != nil {
		t.Fatal(err)
	}
	if err := fixtures.CreatePod(context.Background(), e.Kube, newPod); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, newPod.Name+" kserve-container hello from the new pod")
	f.waitFor(t, true, "+ "+newPod.Name+" kserve-container")

	// A restarted container: a line says it died, and the new instance is read once. KWOK's
	// kubelet goes on into the new log file in the same stream; a real kubelet ends the
	// stream and the plugin opens the next (the unit layer's
	// TestRestartWhileFollowedPrintsEachLineOnce).
	if err := e.Logs.Append(ns, pod, "kserve-container", time.Time{}, "about to crash"); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, "about to crash")
	if err := e.Logs.Restart(ns, pod, "kserve-container"); err != nil {
		t.Fatal(err)
	}
	restarted := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "qx7tz", State: fixtures.PodState{
		MainLast: &fixtures.Term{ExitCode: 137, Reason: "OOMKilled"}, MainRestarts: 1}})
	e.UpdatePodStatus(t, ns, pod, func(p *corev1.Pod) { p.Status = restarted.Status })
	f.waitFor(t, true, "- "+pod+" kserve-container terminated: OOMKilled (exit code 137)")
	if err := e.Logs.Append(ns, pod, "kserve-container", time.Time{}, "second instance up"); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, pod+" kserve-container second instance up")
	if n := f.count("about to crash"); n != 1 {
		t.Errorf("the last line of the dead instance printed %d times", n)
	}

	// A deleted pod ends its stream.
	e.DeletePod(t, ns, newPod.Name)
	f.waitFor(t, true, "- "+newPod.Name+" deleted")
	time.Sleep(3 * time.Second) // past the drain grace
	_ = e.Logs.Append(ns, newPod.Name, "kserve-container", time.Time{}, "after deletion")
	time.Sleep(time.Second)
	if n := f.count("after deletion"); n != 0 {
		t.Errorf("a deleted pod's stream still prints")
	}
}

// Long lines, empty lines, invalid UTF-8 and control sequences pass through whole, as
// kubectl logs prints them; JSON stays valid.
func TestLogsUntrustedLines(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Idle(ns, "weird"))
	p := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "w3ird"})
	if err := fixtures.CreatePod(context.Background(), e.Kube, p); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1<<20)
	_ = e.Logs.Append(ns, p.Name, "kserve-container", time.Time{}, long, "", "bad \xff\xfe utf8", "\x1b[2J\x1b]0;owned\x07escape")
	out := plugin(t, "logs", "weird", "-n", ns, "-o", "raw").must(t).out
	got := lines(out)
	if len(got) != 4 || got[0] != long || got[1] != "" || got[2] != "bad \xff\xfe utf8" || got[3] != "\x1b[2J\x1b]0;owned\x07escape" {
		t.Errorf("raw output changed lines: %d lines, first %d bytes", len(got), len(got[0]))
	}
	kubectl, env := kubectlPath(t)
	cmd := exec.Command(kubectl, "logs", p.Name, "-n", ns, "-c", "kserve-container")
	cmd.Env = append(os.Environ(), env...)
	if want, err := cmd.Output(); err != nil {
		t.Fatalf("kubectl logs: %v", err)
	} else if out != string(want) {
		t.Errorf("-o raw printed %d bytes, kubectl logs %d", len(out), len(want))
	}
	// On a terminal (a pty through script(1)) control sequences are neutralised, unless --raw.
	tty := func(extra ...string) string {
		cmdline := strings.Join(append([]string{testenv.PluginBin, "logs", "weird", "-n", ns, "--tail", "1"}, extra...), " ")
		cmd := exec.Command("script", "-qec", cmdline, "/dev/null")
		cmd.Env = append(os.Environ(), "KUBECONFIG="+e.Kubeconfig, "NO_COLOR=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("script: %v", err)
		}
		return string(out)
	}
	if out := tty(); !strings.Contains(out, `\x1b[2J\x1b]0;owned\x07escape`) || strings.Contains(out, "\x1b[2J") {
		t.Errorf("terminal output not neutralised: %q", out)
	}
	if out := tty("--raw"); !strings.Contains(out, "\x1b[2J\x1b]0;owned\x07escape") {
		t.Errorf("--raw changed the line: %q", out)
	}
	js := lines(plugin(t, "logs", "weird", "-n", ns, "-o", "json").must(t).out)
	for _, l := range js {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Errorf("invalid JSON line: %v", err)
		}
	}
}

// TestLogsRemembersStreams: a logs run asks, while it reads the deployment, for the streams
// the same command read last time (--cache-dir), and prints only what the deployment's pods
// say, whatever the cache file holds.
func TestLogsRemembersStreams(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	pred := e.Apply(t, fixtures.Running(ns, "fraud")).PodNames()[0]
	foreign := e.Apply(t, fixtures.Running(ns, "other")).PodNames()[0]
	dir := t.TempDir()
	args := []string{"logs", "fraud", "-n", ns, "--tail", "-1", "--prefix", "--cache-dir", dir, "-v", "6"}
	first := plugin(t, args...).must(t)
	files, _ := filepath.Glob(filepath.Join(dir, "hopsdeploy", "streams", "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files after a run: %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), pred) {
		t.Errorf("the cache file names %s, not %s", b, pred)
	}
	logRequests := func(r result, pod string) int {
		return strings.Count(r.err, "/pods/"+pod+"/log?")
	}
	if n := logRequests(first, pred); n != 1 {
		t.Errorf("cold run: %d requests of %s's log, want 1:\n%s", n, pred, first.err)
	}
	// Warm: the one request is the prefetched one, taken by the engine, not asked twice.
	warm := plugin(t, args...).must(t)
	if warm.out != first.out || logRequests(warm, pred) != 1 {
		t.Errorf("warm run: %d requests of %s's log, output the same: %v", logRequests(warm, pred), pred, warm.out == first.out)
	}
	// A cache naming another deployment's pod and a pod that does not exist: asked, never printed.
	tampered := fmt.Sprintf(`[{"pod":%q,"container":"kserve-container"},{"pod":"ghost-0","container":"kserve-container"}]`, foreign)
	if err := os.WriteFile(files[0], []byte(tampered), 0o600); err != nil {
		t.Fatal(err)
	}
	r := plugin(t, args...).must(t)
	if r.out != first.out || logRequests(r, "ghost-0") != 1 || logRequests(r, pred) != 1 {
		t.Errorf("tampered cache: output the same %v, ghost-0 asked %d times (want 1), %s %d (want 1):\n%s", r.out == first.out, logRequests(r, "ghost-0"), pred, logRequests(r, pred), r.err)
	}
	for _, l := range lines(r.out) {
		if !strings.HasPrefix(l, pred+" ") {
			t.Errorf("a line not of %s: %q", pred, l)
		}
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), pred) || strings.Contains(string(b), foreign) {
		t.Errorf("the cache file was not rewritten: %s", b)
	}
	// A cache directory that cannot be written costs nothing but the early requests.
	blocked := filepath.Join(dir, "file")
	if err := os.WriteFile(blocked, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := plugin(t, "logs", "fraud", "-n", ns, "--tail", "-1", "--prefix", "--cache-dir", blocked); r.code != 0 || r.out != first.out || r.err != "" {
		t.Errorf("unwritable cache: exit %d, output the same %v, stderr %q", r.code, r.out == first.out, r.err)
	}
}
