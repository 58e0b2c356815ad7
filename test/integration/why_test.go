//go:build integration

package integration

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	corev1 "k8s.io/api/core/v1"
)

type whyJSON struct {
	Status      string `json:"status"`
	FailingStep string `json:"failing_step"`
	Steps       []struct {
		Name, State, Detail string
	} `json:"steps"`
	Diagnosis struct {
		Healthy  bool     `json:"healthy"`
		Cause    string   `json:"cause"`
		Evidence []string `json:"evidence"`
		Next     string   `json:"next"`
	} `json:"diagnosis"`
	LogSource string   `json:"log_source"`
	Traceback []string `json:"traceback"`
}

// Each rule of `why` on a realistic scenario: the step that fails, the cause, the evidence.
func TestWhyRules(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	cpuMem := func(ns, n string) fixtures.Scenario {
		sc := fixtures.GPUUnschedulable(ns, n)
		sc.Pods[0].State = fixtures.PodState{Unschedulable: "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory."}
		return sc
	}
	tests := []struct {
		name     string
		scenario func(ns, name string) fixtures.Scenario
		step     string
		want     []string // in the cause, the evidence or the next step
	}{
		{"GPU no node has", fixtures.GPUUnschedulable, "SCHEDULED", []string{"no node has enough nvidia.com/gpu", "nvidia.com/gpu=1"}},
		{"CPU and memory no node has", cpuMem, "SCHEDULED", []string{"no node has enough cpu, memory"}},
		{"image pull, pull secret missing", fixtures.ImagePull, "STARTED", []string{"cannot be pulled", "the pull secret is missing", "no spec.imagePullSecrets"}},
		{"model path not found", fixtures.StorageInitFailing, "INITIALIZED", []string{"cannot download the model", "path does not exist", "FileNotFoundError"}},
		{"model download refused", fixtures.StorageInitDenied, "INITIALIZED", []string{"refused access (credentials)", "PermissionError"}},
		{"disk full", fixtures.StorageInitDiskFull, "INITIALIZED", []string{"The disk is full", "No space left on device"}},
		{"OOM-killed while loading", fixtures.OOMKilled, "STARTED", []string{"OOM-killed", "memory limit of 2Gi", "raise the predictor's memory"}},
		{"crash loop in the predictor script", fixtures.PredictorCrashLoop, "STARTED", []string{"crashes on start", "ModuleNotFoundError: No module named 'xgboost'"}},
		{"crash loop in the transformer script", fixtures.TransformerCrashLoop, "STARTED", []string{"transformer's kserve-container", "-c transformer"}},
		{"probe kills the model before it loads", fixtures.LivenessKilled, "STARTED", []string{"killed by its liveness probe", "= 40s", "ran 41s before it was killed", "startupProbe"}},
		{"Knative route not ready", fixtures.RouteNotReady, "", []string{"route is not ready", "IngressReady=False"}},
		{"scale to zero is not a failure", fixtures.Idle, "", []string{"Scaled to zero", "not a failure"}},
		{"Standard rollout past its deadline", fixtures.StandardDeadline, "READY", []string{"passed its progress deadline", "ProgressDeadlineExceeded", "kubectl rollout status"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("why%d", i)
			sc := tc.scenario(ns, name)
			sc.Serving.ID = 500 + i
			e.Apply(t, sc)
			r := plugin(t, "why", name, "-n", ns, "-o", "json").must(t)
			var w whyJSON
			if err := json.Unmarshal([]byte(r.out), &w); err != nil {
				t.Fatalf("why -o json: %v\n%s", err, r.out)
			}
			if tc.step != "" && w.FailingStep != tc.step {
				t.Errorf("failing step %q, want %q (steps %+v)", w.FailingStep, tc.step, w.Steps)
			}
			all := w.Diagnosis.Cause + "\n" + strings.Join(w.Diagnosis.Evidence, "\n") + "\n" + w.Diagnosis.Next
			contains(t, "why", all, tc.want...)
			human := plugin(t, "why", name, "-n", ns).must(t).out
			contains(t, "human why", human, "START SEQUENCE", "CAUSE", "EVIDENCE", "NEXT STEP")
			if t.Failed() {
				t.Log(human)
			}
		})
	}
}

func TestWhyTracebackAndHistory(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.PredictorCrashLoop(ns, "churn"))
	var w whyJSON
	if err := json.Unmarshal([]byte(plugin(t, "why", "churn", "-n", ns, "-o", "json").must(t).out), &w); err != nil {
		t.Fatal(err)
	}
	if len(w.Traceback) != 6 || w.Traceback[0] != "Traceback (most recent call last):" || w.Traceback[5] != "ModuleNotFoundError: No module named 'xgboost'" || w.LogSource != "previous instance" {
		t.Errorf("traceback %q from %q", w.Traceback, w.LogSource)
	}
	// The traceback once: the last lines hold all of it.
	human := plugin(t, "why", "churn", "-n", ns).must(t).out
	contains(t, "human", human, "  | ModuleNotFoundError")
	if n := strings.Count(human, "Traceback (most recent call last):"); n != 1 {
		t.Errorf("the traceback printed %d times:\n%s", n, human)
	}

	// The pods are gone: the last lines come from OpenSearch.
	e.Apply(t, fixtures.Idle(ns, "gone"))
	if err := testenv.BulkLoad(osURL, []fixtures.LogDoc{{Timestamp: time.Now().Add(-time.Hour), Message: "last words before scale-down", Serving: "gone",
		Component: "predictor", Container: "kserve-container", Project: strings.ReplaceAll(ns, "-", "_")}}); err != nil {
		t.Fatal(err)
	}
	r := pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}, "why", "gone", "-n", ns).must(t)
	contains(t, "why from history", r.out, "LAST LINES of kserve-container (OpenSearch (the pods are gone))", "last words before scale-down", "scaled to zero")

	// One resolver for every command: why (and bundle) take OpenSearch from the config file's
	// block for the kube context in use, as logs does, not only from the environment; the
	// default block points nowhere.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	_ = os.WriteFile(cfg, []byte(fmt.Sprintf("opensearch:\n  url: http://127.0.0.1:1\ncontexts:\n  %s:\n    opensearch:\n      url: %s\n", currentContext(t), osURL)), 0o600)
	r = pluginEnv(t, []string{"HOPSDEPLOY_CONFIG=" + cfg}, "why", "gone", "-n", ns).must(t)
	contains(t, "why from the context's OpenSearch", r.out, "last words before scale-down")
	file := filepath.Join(t.TempDir(), "gone.tar.gz")
	pluginEnv(t, []string{"HOPSDEPLOY_CONFIG=" + cfg}, "bundle", "gone", "-n", ns, "-f", file).must(t)
	contains(t, "bundle from the context's OpenSearch", untarAll(t, file), "last words before scale-down")
}

func TestTimeline(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.LivenessKilled(ns, "slow"))
	pod := sc.PodNames()[0]
	var tl struct {
		Entries []struct {
			Time               time.Time
			Kind, Object, What string
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(plugin(t, "timeline", "slow", "-n", ns, "--logs", "-o", "json").must(t).out), &tl); err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	var whats []string
	for i, en := range tl.Entries {
		kinds[en.Kind] = true
		whats = append(whats, en.Object+" "+en.What)
		if i > 0 && en.Time.Before(tl.Entries[i-1].Time) {
			t.Fatalf("out of order at %d", i)
		}
	}
	for _, k := range []string{"object", "condition", "pod", "container", "event", "log"} {
		if !kinds[k] {
			t.Errorf("no %s entry", k)
		}
	}
	joined := strings.Join(whats, "\n")
	contains(t, "timeline", joined, "pod/"+pod+"/kserve-container terminated: Error, exit 137 (SIGKILL)", "Normal Killing: Container kserve-container failed liveness probe",
		"Warning Unhealthy", "pod/"+pod+"/kserve-container (previous) INFO:root:Loading tokenizer", "Ready=False")
	contains(t, "human timeline", plugin(t, "timeline", "slow", "-n", ns).must(t).out, "TIME", "KIND", "OBJECT", "WHAT")
}

func TestLastWords(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.OOMKilled(ns, "big"))
	r := plugin(t, "logs", "big", "-n", ns, "--last-words").must(t)
	contains(t, "last words", r.out, "== "+sc.PodNames()[0]+" kserve-container: OOMKilled (exit 137, SIGKILL) at ", "previous instance ==", "Reading model.joblib (3.1 GiB)")
	e.Apply(t, fixtures.StorageInitFailing(ns, "init"))
	contains(t, "init last words", plugin(t, "logs", "init", "-n", ns, "--last-words").must(t).out, "storage-initializer: Error (exit 1)", "FileNotFoundError")
	e.Apply(t, fixtures.Running(ns, "fine"))
	if r := plugin(t, "logs", "fine", "-n", ns, "--last-words").must(t); r.out != "" || !strings.Contains(r.err, "no container of fine predictor ended abnormally") {
		t.Errorf("healthy: %q %q", r.out, r.err)
	}
	// Out of the --since window: not shown (the fixture's crash was a minute ago).
	if r := plugin(t, "logs", "big", "-n", ns, "--last-words", "--since", "10s").must(t); r.out != "" {
		t.Errorf("outside the window: %q", r.out)
	}
	// The pods are gone: their last lines from OpenSearch.
	e.Apply(t, fixtures.Idle(ns, "away"))
	_ = testenv.BulkLoad(osURL, []fixtures.LogDoc{{Timestamp: time.Now().Add(-time.Hour), Message: "MemoryError", Serving: "away", Component: "predictor",
		Container: "kserve-container", Project: strings.ReplaceAll(ns, "-", "_")}})
	contains(t, "history last words", pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}, "logs", "away", "-n", ns, "--last-words").must(t).out, "MemoryError", "OpenSearch keeps no exit reason")
}

// The bundle round-trips: status --from-bundle gives the same status and diagnosis as the
// live command did; environment values are redacted.
func TestBundleRoundTrip(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	dir := t.TempDir()
	for i, scf := range []func(ns, name string) fixtures.Scenario{fixtures.PredictorCrashLoop, fixtures.GPUUnschedulable, fixtures.StorageInitFailing, fixtures.Running, fixtures.LivenessKilled} {
		name := fmt.Sprintf("b%d", i)
		sc := scf(ns, name)
		sc.Serving.ID = 700 + i
		e.Apply(t, sc)
		if i == 0 { // a pod with a secret in its environment
			p := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "s3cr3", State: fixtures.PodState{}})
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "AWS_SECRET_ACCESS_KEY", Value: "hunter2-very-secret"}}
			if err := fixtures.CreatePod(context.Background(), e.Kube, p); err != nil {
				t.Fatal(err)
			}
		}
		live := plugin(t, "status", name, "-n", ns, "-o", "json").must(t).out
		file := filepath.Join(dir, name+".tar.gz")
		contains(t, "bundle", plugin(t, "bundle", name, "-n", ns, "-f", file).must(t).out, "wrote "+file)
		// Offline: no cluster at all.
		offline := pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "status", "--from-bundle", file, "-o", "json").must(t).out
		var a, b map[string]any
		_ = json.Unmarshal([]byte(live), &a)
		_ = json.Unmarshal([]byte(offline), &b)
		for _, k := range []string{"status", "condition", "diagnosis", "available_instances", "available_transformer_instances", "components", "events", "revision", "deployed"} {
			if !reflect.DeepEqual(a[k], b[k]) {
				t.Errorf("%s: %s differs:\nlive    %v\nbundle  %v", name, k, a[k], b[k])
			}
		}
		pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "status", "--from-bundle", file).must(t)
		// why, timeline and logs on the bundle say what they say live, and once what a bundle
		// does not hold.
		var wl, wb struct {
			FailingStep string `json:"failing_step"`
			Diagnosis   struct{ Cause, Next string }
		}
		_ = json.Unmarshal([]byte(plugin(t, "why", name, "-n", ns, "-o", "json").must(t).out), &wl)
		offWhy := pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "why", "--from-bundle", file, "-o", "json").must(t)
		_ = json.Unmarshal([]byte(offWhy.out), &wb)
		if wl != wb || wl.Diagnosis.Cause == "" || strings.Count(offWhy.err, "as the bundle holds it") != 1 {
			t.Errorf("%s: why differs:\nlive   %+v\nbundle %+v\n%s", name, wl, wb, offWhy.err)
		}
		liveT := strings.Count(plugin(t, "timeline", name, "-n", ns).must(t).out, "\n")
		offT := strings.Count(pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "timeline", "--from-bundle", file).must(t).out, "\n")
		if liveT != offT {
			t.Errorf("%s: timeline of %d lines live, %d from the bundle", name, liveT, offT)
		}
		pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "timeline", "--from-bundle", file, "--chart", "--width", "100").must(t)
		// The crash loop's previous instance; the others' current one (a bundle holds a
		// previous instance only where there was one: KWOK serves an empty log for one that
		// never was, where a kubelet answers 400, as the bundle does).
		logArgs := []string{"--prefix", "-c", "all", "--container", "all"}
		if i == 0 {
			logArgs = []string{"--prefix", "--previous"}
		}
		liveL := plugin(t, append([]string{"logs", name, "-n", ns}, logArgs...)...)
		offL := pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, append([]string{"logs", "--from-bundle", file}, logArgs...)...)
		// Minus the inference logger's request payloads, which a bundle leaves out.
		var livePrinted []string
		for _, l := range strings.Split(liveL.out, "\n") {
			if !strings.Contains(l, " "+inspect.PayloadContainer+" ") {
				livePrinted = append(livePrinted, l)
			}
		}
		if sortedLines(strings.Join(livePrinted, "\n")) != sortedLines(offL.out) || liveL.code != offL.code {
			t.Errorf("%s: logs %v differ (exit %d live, %d bundle):\nlive:\n%s\nbundle:\n%s\n%s", name, logArgs, liveL.code, offL.code, liveL.out, offL.out, offL.err)
		}
		if i == 0 {
			f, _ := os.Open(file)
			gz, _ := gzip.NewReader(f)
			tr := tar.NewReader(gz)
			var names []string
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				names = append(names, h.Name)
				data, _ := io.ReadAll(tr)
				if strings.Contains(string(data), "hunter2") {
					t.Errorf("%s holds the secret", h.Name)
				}
			}
			f.Close()
			contains(t, "bundle files", strings.Join(names, " "), "README.txt", "bundle.json", "report.json", "logs/"+sc.PodNames()[0]+"/kserve-container.previous.log")
		}
	}
	if r := plugin(t, "status", "--from-bundle", filepath.Join(dir, "nope.tar.gz")); r.code != 1 || !strings.Contains(r.err, "open the bundle") {
		t.Errorf("missing bundle: %d %q", r.code, r.err)
	}
}

// A bundle is written for its owner only, never over an existing file or through a symlink
// (unless --force, which replaces the link itself), holds no request payloads unless asked,
// and its log lines are scrubbed; reading it with another NAME or -n says so.
func TestBundleFileAndContents(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Running(ns, "payload"))
	pod := sc.PodNames()[0]
	_ = e.Logs.Append(ns, pod, "inference-logger", time.Time{}, "request body: {\"card\": \"4111-1111\"}")
	_ = e.Logs.Append(ns, pod, "kserve-container", time.Time{}, "connecting to s3://AKIAABCDEFGHIJKLMNOP:Mk7SECRET@bucket with token=Mk7SECRET")
	dir := t.TempDir()
	file := filepath.Join(dir, "b.tar.gz")
	plugin(t, "bundle", "payload", "-n", ns, "-f", file).must(t)
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("bundle mode %v %v, want 0600", fi.Mode(), err)
	}
	data := untarAll(t, file)
	if strings.Contains(data, "4111-1111") || strings.Contains(data, "Mk7SECRET") || strings.Contains(data, "AKIAABCDEFGHIJKLMNOP") {
		t.Error("the bundle holds a payload or a secret")
	}
	if !strings.Contains(data, "connecting to s3://REDACTED@bucket with token=REDACTED") {
		t.Error("the scrubbed line is missing")
	}
	// The same file again: refused, exit 2, untouched.
	if r := plugin(t, "bundle", "payload", "-n", ns, "-f", file); r.code != 2 || !strings.Contains(r.err, "exists: choose another -f, or replace it with --force") {
		t.Errorf("existing file: exit %d %q", r.code, r.err)
	}
	// A symlink planted where the bundle goes is not followed.
	target := filepath.Join(dir, "target")
	_ = os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link.tar.gz")
	_ = os.Symlink(target, link)
	if r := plugin(t, "bundle", "payload", "-n", ns, "-f", link); r.code != 2 {
		t.Errorf("symlink: exit %d %q", r.code, r.err)
	}
	plugin(t, "bundle", "payload", "-n", ns, "-f", link, "--force", "--include-payloads").must(t)
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Error("--force wrote through the symlink")
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("--force did not replace the link with a 0600 file: %v %v", fi.Mode(), err)
	}
	if !strings.Contains(untarAll(t, link), "4111-1111") {
		t.Error("--include-payloads left the inference logger out")
	}
	// Reading it with another NAME or namespace says so.
	if r := pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "status", "other", "--from-bundle", file); r.code != 2 || !strings.Contains(r.err, "holds deployment payload, not other") {
		t.Errorf("name mismatch: exit %d %q", r.code, r.err)
	}
	if r := pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "status", "--from-bundle", file, "-n", "elsewhere"); r.code != 2 || !strings.Contains(r.err, "holds namespace "+ns+", not elsewhere") {
		t.Errorf("namespace mismatch: exit %d %q", r.code, r.err)
	}
	pluginEnv(t, []string{"KUBECONFIG=/nonexistent"}, "status", "payload", "--from-bundle", file, "-n", ns).must(t)
}

// untarAll returns every file of a bundle, concatenated.
func untarAll(t *testing.T, file string) string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var all strings.Builder
	for {
		if _, err := tr.Next(); err != nil {
			break
		}
		data, _ := io.ReadAll(tr)
		all.Write(data)
	}
	return all.String()
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
