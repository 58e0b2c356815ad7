//go:build integration

package integration

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/certs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// historyDocs builds days of realistic documents for a deployment: predictor and
// transformer, three containers, two hosts, several lines sharing a timestamp.
func historyDocs(project, name string, end time.Time) []fixtures.LogDoc {
	var docs []fixtures.LogDoc
	add := func(ts time.Time, comp, cont, host, msg string) {
		docs = append(docs, fixtures.LogDoc{Timestamp: ts, Message: msg, Serving: name, Component: comp, Container: cont,
			ModelName: name, ModelVersion: "1", ServingID: "7", Project: project, Host: host})
	}
	for d := 2; d >= 0; d-- {
		day := end.Add(-time.Duration(d) * 24 * time.Hour)
		add(day.Add(-time.Hour), "predictor", "storage-initializer", "worker-1", fmt.Sprintf("day%d download done", d))
		for i := 0; i < 10; i++ {
			ts := day.Add(-time.Duration(50-i) * time.Minute)
			add(ts, "predictor", "kserve-container", "worker-1", fmt.Sprintf("day%d predict %d", d, i))
			add(ts, "predictor", "kserve-container", "worker-1", fmt.Sprintf("day%d access %d", d, i)) // same timestamp
			add(ts, "transformer", "kserve-container", "worker-2", fmt.Sprintf("day%d transform %d", d, i))
			add(ts, "predictor", "queue-proxy", "worker-1", fmt.Sprintf("day%d queue %d", d, i))
		}
	}
	// Another deployment in the same index, never to be returned.
	docs = append(docs, fixtures.LogDoc{Timestamp: end.Add(-time.Minute), Message: "other deployment", Serving: name + "x", Component: "predictor",
		Container: "kserve-container", Project: project, Host: "worker-1"})
	return docs
}

// samePair says whether two lines are a and b, in either order.
func samePair(two []string, a, b string) bool {
	return (two[0] == a && two[1] == b) || (two[0] == b && two[1] == a)
}

func messages(t *testing.T, out string) []string {
	var ms []string
	for _, l := range lines(out) {
		var m map[string]string
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("json line %q: %v", l, err)
		}
		ms = append(ms, m["message"])
	}
	return ms
}

func TestHistoryIdleDeployment(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	sc := fixtures.Idle(ns, "sleepy")
	sc.Serving.Transformer = true
	e.Apply(t, sc)
	end := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	if err := testenv.BulkLoad(osURL, historyDocs(strings.ReplaceAll(ns, "-", "_"), "sleepy", end)); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}

	// Auto: no pods, so history; the newest 10 lines of predictor kserve-container, in time order.
	r := pluginEnv(t, env, "logs", "sleepy", "-n", ns, "-o", "json").must(t)
	contains(t, "stderr", r.err, "source: history from OpenSearch: the deployment is Idle")
	got := messages(t, r.out)
	want := []string{"day0 predict 5", "day0 access 5", "day0 predict 6", "day0 access 6", "day0 predict 7", "day0 access 7", "day0 predict 8", "day0 access 8", "day0 predict 9", "day0 access 9"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		// Lines sharing a timestamp come in a stable order (the id breaks ties), either way round.
		if len(got) != 10 || !strings.HasSuffix(got[9], " 9") || !strings.HasPrefix(got[0], "day0 ") {
			t.Errorf("tail 10:\n got %q\nwant %q", got, want)
		}
	}
	var first map[string]string
	_ = json.Unmarshal([]byte(lines(r.out)[0]), &first)
	if first["source"] != "history" || first["host"] != "worker-1" || first["container"] != "kserve-container" || first["component"] != "predictor" {
		t.Errorf("history JSON line: %v", first)
	}

	// Filters: the transformer; every container; one container; grep; since and until.
	if got := messages(t, pluginEnv(t, env, "logs", "sleepy", "-n", ns, "-c", "transformer", "--tail", "3", "-o", "json").must(t).out); strings.Join(got, "|") != "day0 transform 7|day0 transform 8|day0 transform 9" {
		t.Errorf("transformer tail 3: %q", got)
	}
	if got := messages(t, pluginEnv(t, env, "logs", "sleepy", "-n", ns, "--container", "storage-initializer", "--since", "100h", "-o", "json").must(t).out); strings.Join(got, "|") != "day2 download done|day1 download done|day0 download done" {
		t.Errorf("storage-initializer over 3 days: %q", got)
	}
	all := lines(pluginEnv(t, env, "logs", "sleepy", "-n", ns, "-c", "all", "--container", "all", "--since", "100h").must(t).out)
	if len(all) != 3*(1+40) {
		t.Errorf("every component and container over 3 days: %d lines, want 123", len(all))
	}
	contains(t, "prefixed history lines", strings.Join(all, "\n"), "history:worker-2 kserve-container day0 transform 9", "history:worker-1 queue-proxy day1 queue 3")
	if got := messages(t, pluginEnv(t, env, "logs", "sleepy", "-n", ns, "--grep", "access 7", "--since", "100h", "-o", "json").must(t).out); len(got) != 3 {
		t.Errorf("grep: %q", got)
	}
	since := end.Add(-24*time.Hour - 45*time.Minute).UTC().Format(time.RFC3339)
	until := end.Add(-24*time.Hour - 43*time.Minute).UTC().Format(time.RFC3339)
	// Each minute's two lines share a timestamp: their ids break the tie, each pair on its own,
	// so either line of a pair may come first.
	got = messages(t, pluginEnv(t, env, "logs", "sleepy", "-n", ns, "--since-time", since, "--until", until, "-o", "json").must(t).out)
	if len(got) != 4 || !samePair(got[:2], "day1 predict 5", "day1 access 5") || !samePair(got[2:], "day1 predict 6", "day1 access 6") {
		t.Errorf("since-time/until window: %q", got)
	}
}

// Paging past 10,000 hits with search_after in a point in time, with many equal timestamps
// across page boundaries: every line once, in order.
func TestHistoryPagingPast10000(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Idle(ns, "bulk"))
	project := strings.ReplaceAll(ns, "-", "_")
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	var docs []fixtures.LogDoc
	for i := 0; i < 12345; i++ {
		ts := base.Add(time.Duration(i/150) * time.Second) // 150 lines share each timestamp
		docs = append(docs, fixtures.LogDoc{Timestamp: ts, Message: fmt.Sprintf("n%05d", i), Serving: "bulk", Component: "predictor",
			Container: "kserve-container", Project: project, Host: "worker-1"})
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	r := pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}, "logs", "bulk", "-n", ns, "--since", "4h", "-o", "raw").must(t)
	got := lines(r.out)
	if len(got) != 12345 {
		t.Fatalf("got %d lines, want 12345", len(got))
	}
	seen := map[string]bool{}
	for i, l := range got {
		if seen[l] {
			t.Fatalf("line %q twice", l)
		}
		seen[l] = true
		// Lines sharing a timestamp come in id order; across timestamps, in time order.
		var n, prev int
		fmt.Sscanf(l, "n%d", &n)
		if i > 0 {
			fmt.Sscanf(got[i-1], "n%d", &prev)
			if n/150 < prev/150 {
				t.Fatalf("out of order at %d: %q after %q", i, l, got[i-1])
			}
		}
	}
	// The newest 10,500 lines (more than one search can return) in time order.
	tail := lines(pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}, "logs", "bulk", "-n", ns, "--tail", "10500", "-o", "raw").must(t).out)
	if len(tail) != 10500 || tail[len(tail)-1][:4] != "n122" && tail[len(tail)-1][:4] != "n123" {
		t.Errorf("tail 10500: %d lines, last %q", len(tail), tail[len(tail)-1])
	}
}

// History before the oldest pod, then live lines, with no gap and no duplicate.
func TestHistoryStitchedWithLive(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	sc := fixtures.PredictorCrashLoop(ns, "stitch")
	sc.Logs = nil
	e.Apply(t, sc)
	pod := sc.PodNames()[0]
	now := time.Now()
	// Lines of the instances that ran before this pod existed are only in OpenSearch.
	var docs []fixtures.LogDoc
	for i := 0; i < 5; i++ {
		docs = append(docs, fixtures.LogDoc{Timestamp: now.Add(-time.Duration(90-i) * time.Minute), Message: fmt.Sprintf("old instance %d", i),
			Serving: "stitch", Component: "predictor", Container: "kserve-container", Project: strings.ReplaceAll(ns, "-", "_"), Host: "worker-9"})
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	_ = e.Logs.Append(ns, pod, "kserve-container", now.Add(time.Second), "live 0", "live 1")
	r := pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}, "logs", "stitch", "-n", ns, "--since", "2h", "-o", "raw").must(t)
	if got := strings.Join(lines(r.out), "|"); got != "old instance 0|old instance 1|old instance 2|old instance 3|old instance 4|live 0|live 1" {
		t.Errorf("stitched: %q", got)
	}
	contains(t, "stderr", r.err, "source: history before", "live after")
	// OpenSearch down: a clear line, the live logs all the same, and a distinct exit code.
	r = pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=http://127.0.0.1:1"}, "logs", "stitch", "-n", ns, "--since", "2h", "-o", "raw")
	if r.code != 5 || !strings.Contains(r.err, "OpenSearch at http://127.0.0.1:1 is unreachable") || !strings.Contains(r.out, "live 1") {
		t.Errorf("unreachable: exit %d, out %q, err %q", r.code, r.out, r.err)
	}
	// Hopsworks down, as the credential source: its own line and exit code, the live logs all the same.
	r = pluginEnv(t, []string{"HOPSWORKS_URL=https://127.0.0.1:1", "HOPSWORKS_API_KEY=some-key-0123456789"}, "logs", "stitch", "-n", ns, "--since", "2h", "-o", "raw")
	if r.code != 13 || !strings.Contains(r.err, "Hopsworks at https://127.0.0.1:1 is unreachable") || !strings.Contains(r.out, "live 1") {
		t.Errorf("Hopsworks unreachable: exit %d, out %q, err %q", r.code, r.out, r.err)
	}
	// No index for the pattern: exit 8.
	r = pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}, "logs", "stitch", "-n", ns, "--source", "history", "--index", "nosuchproject_serving-*")
	if r.code != 8 || !strings.Contains(r.err, "no OpenSearch index matches nosuchproject_serving-*") {
		t.Errorf("no index: exit %d, err %q", r.code, r.err)
	}
}

// Names and filters holding quotes, wildcards or JSON are matched literally.
func TestHistoryLiteralMatching(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Idle(ns, "lit"))
	p := strings.ReplaceAll(ns, "-", "_")
	ts := time.Now().Add(-time.Hour)
	docs := []fixtures.LogDoc{
		{Timestamp: ts, Message: "the real one", Serving: "lit", Component: "predictor", Container: "kserve-container", Project: p},
		{Timestamp: ts, Message: "a star", Serving: "l*", Component: "predictor", Container: "kserve-container", Project: p},
		{Timestamp: ts, Message: "json", Serving: `lit"},{"match_all":{}}`, Component: "predictor", Container: "kserve-container", Project: p},
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}
	if got := pluginEnv(t, env, "logs", "lit", "-n", ns, "-o", "raw").must(t).out; got != "the real one\n" {
		t.Errorf("literal name: %q", got)
	}
	if got := pluginEnv(t, env, "logs", "lit", "-n", ns, "-o", "raw", "--grep", `"}},{"match_all":{}}`).must(t).out; got != "" {
		t.Errorf("a JSON-looking grep matched: %q", got)
	}
}

// Basic auth and TLS through a reverse proxy with a CA of the test's own (the test
// distribution has no security plugin): right, wrong password, unknown CA, skip-verify.
func TestHistoryAuthAndTLS(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Idle(ns, "secure"))
	p := strings.ReplaceAll(ns, "-", "_")
	if err := testenv.BulkLoad(osURL, []fixtures.LogDoc{{Timestamp: time.Now().Add(-time.Hour), Message: "behind the proxy", Serving: "secure",
		Component: "predictor", Container: "kserve-container", Project: p}}); err != nil {
		t.Fatal(err)
	}
	const user, password = "alice", "s3cr3t-Pa55word"
	caPEM, srv := tlsProxy(t, osURL, user, password)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	pwFile := filepath.Join(dir, "password")
	_ = os.WriteFile(ca, caPEM, 0o600)
	_ = os.WriteFile(pwFile, []byte(password+"\n"), 0o600)
	proxyURL := srv.URL + "/opensearch/" // a URL with a path, as behind an ingress

	ok := pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_PASSWORD=" + password}, "logs", "secure", "-n", ns, "-o", "raw",
		"--opensearch-url", proxyURL, "--opensearch-user", user, "--opensearch-ca", ca).must(t)
	if ok.out != "behind the proxy\n" {
		t.Errorf("through the proxy: %q", ok.out)
	}
	pluginEnv(t, nil, "logs", "secure", "-n", ns, "--opensearch-url", proxyURL, "--opensearch-user", user, "--opensearch-ca", ca, "--opensearch-password-file", pwFile).must(t)

	bad := pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_PASSWORD=wrong-" + password}, "logs", "secure", "-n", ns,
		"--opensearch-url", proxyURL, "--opensearch-user", user, "--opensearch-ca", ca, "-v", "9")
	if bad.code != 6 || !strings.Contains(bad.err, "refused the credentials (401)") {
		t.Errorf("wrong password: exit %d, %q", bad.code, bad.err)
	}
	untrusted := pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_PASSWORD=" + password}, "logs", "secure", "-n", ns, "--opensearch-url", proxyURL, "--opensearch-user", user)
	if untrusted.code != 7 || !strings.Contains(untrusted.err, "signed by an unknown authority") || !strings.Contains(untrusted.err, "--opensearch-ca") {
		t.Errorf("unknown CA: exit %d, %q", untrusted.code, untrusted.err)
	}
	pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_PASSWORD=" + password}, "logs", "secure", "-n", ns, "--opensearch-url", proxyURL, "--opensearch-user", user,
		"--opensearch-insecure-skip-verify").must(t)
	for _, r := range []result{ok, bad, untrusted} {
		if strings.Contains(r.out+r.err, password) {
			t.Errorf("the password appears in the output")
		}
	}
	// There is no flag for a password value.
	if r := plugin(t, "logs", "secure", "-n", ns, "--opensearch-password", password); r.code != 2 {
		t.Errorf("--opensearch-password should not exist: exit %d", r.code)
	}

	// The same settings from the config file, per kube context.
	cfg := filepath.Join(dir, "config.yaml")
	_ = os.WriteFile(cfg, []byte(fmt.Sprintf("opensearch:\n  url: http://127.0.0.1:1\ncontexts:\n  %s:\n    opensearch:\n      url: %s\n      user: %s\n      passwordFile: %s\n      ca: %s\n",
		currentContext(t), proxyURL, user, pwFile, ca)), 0o600)
	viaFile := pluginEnv(t, []string{"HOPSDEPLOY_CONFIG=" + cfg}, "logs", "secure", "-n", ns, "-o", "raw").must(t)
	if viaFile.out != "behind the proxy\n" {
		t.Errorf("config file: %q", viaFile.out)
	}
	_ = os.WriteFile(cfg, []byte("opensearch:\n  password: inline\n"), 0o600)
	if r := pluginEnv(t, []string{"HOPSDEPLOY_CONFIG=" + cfg}, "logs", "secure", "-n", ns); r.code != 2 || !strings.Contains(r.err, `unknown field "password"`) {
		t.Errorf("a password inside the config file: exit %d %q", r.code, r.err)
	}
}

func currentContext(t *testing.T) string {
	b, err := os.ReadFile(testenv.Get(t).Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "current-context:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "current-context:"))
		}
	}
	t.Fatal("no current-context")
	return ""
}

// tlsProxy is a TLS reverse proxy in front of OpenSearch, under /opensearch/, with basic
// auth, its certificate signed by a CA made here.
func tlsProxy(t *testing.T, target, user, password string) ([]byte, *httptest.Server) {
	t.Helper()
	caPEM, cert, err := certs.Serving()
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(target)
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="OpenSearch"`)
			http.Error(w, `{"error":"unauthorized","status":401}`, http.StatusUnauthorized)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/opensearch/") {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = strings.TrimPrefix(r.URL.Path, "/opensearch")
		r.Header.Del("Authorization")
		proxy.ServeHTTP(w, r)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return caPEM, srv
}

// Documents of unexpected shapes, as other pipelines write them (Filebeat's ECS "host"
// object, a numeric message), in indices of their own: every line is read, none fails the rest.
func TestHistoryToleratesOddDocuments(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Idle(ns, "odd"))
	project := strings.ReplaceAll(ns, "-", "_")
	day := time.Now().UTC().Truncate(24 * time.Hour)
	doc := func(ts time.Time, msg string, extra map[string]any) fixtures.LogDoc {
		return fixtures.LogDoc{Timestamp: ts, Message: msg, Serving: "odd", Component: "predictor", Container: "kserve-container",
			Project: project, Host: "worker-1", Extra: extra}
	}
	docs := []fixtures.LogDoc{
		doc(day.Add(-48*time.Hour+time.Hour), "", map[string]any{"log_message": 42}),                                  // its index maps log_message as a number
		doc(day.Add(-24*time.Hour+time.Hour), "ecs host", map[string]any{"host": map[string]any{"name": "worker-2"}}), // its index maps host as an object
		doc(day.Add(time.Minute), "plain", nil),
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	r := plugin(t, "logs", "odd", "-n", ns, "--source", "history", "--since", "72h", "-o", "json", "--opensearch-url", osURL).must(t)
	var got []string
	for _, l := range lines(r.out) {
		var j struct{ Message, Host string }
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got = append(got, j.Message+"@"+j.Host)
	}
	if strings.Join(got, ",") != "42@worker-1,ecs host@worker-2,plain@worker-1" {
		t.Errorf("lines %q\nstderr %s", got, r.err)
	}
}

// A container that restarted three times: its first instances are gone from the kubelet
// (which keeps only the current and one previous), the pipeline shipped every instance's
// lines. With --since, every line of the window comes once: history until the current
// instance started, live after.
func TestHistoryAndLiveAcrossRestarts(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	sc := fixtures.PredictorCrashLoop(ns, "restarts")
	sc.Logs = nil
	sc.Pods[0].State.MainWaiting, sc.Pods[0].State.MainRestarts = "", 3 // running again, its 4th instance
	sc.Pods[0].State.MainLast = &fixtures.Term{ExitCode: 1, Ago: 2 * time.Minute}
	sc.Pods[0].Age = 20 * time.Minute
	e.Apply(t, sc)
	pod := sc.PodNames()[0]
	var p corev1.Pod
	if got, err := e.Kube.CoreV1().Pods(ns).Get(t.Context(), pod, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	} else {
		p = *got
	}
	var started time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == "kserve-container" {
			started = cs.State.Running.StartedAt.Time
		}
	}
	project := strings.ReplaceAll(ns, "-", "_")
	var docs []fixtures.LogDoc
	var want []string
	at := started.Add(-12 * time.Minute)
	for inst := 0; inst < 4; inst++ { // the pipeline ships every instance, the current one too
		for i := 0; i < 3; i++ {
			msg := fmt.Sprintf("instance %d line %d", inst, i)
			ts := at.Add(time.Duration(inst*3+i) * time.Minute)
			if inst == 3 {
				ts = started.Add(time.Duration(i+1) * time.Second)
				_ = e.Logs.Append(ns, pod, "kserve-container", ts, msg)
			}
			docs = append(docs, fixtures.LogDoc{Timestamp: ts, Message: msg, Serving: "restarts", Component: "predictor",
				Container: "kserve-container", Project: project, Host: "worker-1"})
			want = append(want, msg)
		}
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	r := plugin(t, "logs", "restarts", "-n", ns, "--since", "30m", "-o", "raw", "--opensearch-url", osURL).must(t)
	if got := strings.Join(lines(r.out), "|"); got != strings.Join(want, "|") {
		t.Errorf("lines across restarts:\n got %s\nwant %s\nstderr %s", got, strings.Join(want, "|"), r.err)
	}
	contains(t, "stderr", r.err, "when the newest container instance started")
}

// A stopped deployment has nothing left in the cluster (Hopsworks deletes its objects): its
// logs, status and why come from history, and without history the not-found error says so.
func TestStoppedDeploymentFromHistory(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "alive")) // something else runs there
	project := strings.ReplaceAll(ns, "-", "_")
	last := time.Now().Add(-3 * time.Hour).Truncate(time.Millisecond)
	var docs []fixtures.LogDoc
	for i, msg := range []string{"INFO:root:Loading model fraud", "Traceback (most recent call last):", `  File "/srv/predictor.py", line 9, in predict`, "KeyError: 'amount'"} {
		docs = append(docs, fixtures.LogDoc{Timestamp: last.Add(time.Duration(i-3) * time.Second), Message: msg, Serving: "stopped1",
			Component: "predictor", Container: "kserve-container", Project: project, Host: "worker-4"})
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	withOS := []string{"HOPSDEPLOY_OPENSEARCH_URL=" + osURL}

	r := pluginEnv(t, withOS, "logs", "stopped1", "-n", ns, "--source", "history", "--since", "24h", "-o", "raw").must(t)
	if got := lines(r.out); len(got) != 4 || got[3] != "KeyError: 'amount'" {
		t.Errorf("history of a stopped deployment: %q", got)
	}
	contains(t, "why history", r.err, "nothing of stopped1 is in the cluster (stopped?): reading history")
	r = pluginEnv(t, withOS, "logs", "stopped1", "-n", ns, "-o", "raw").must(t) // auto, last 10 lines
	if len(lines(r.out)) != 4 {
		t.Errorf("auto: %q %q", r.out, r.err)
	}

	r = pluginEnv(t, withOS, "status", "stopped1", "-n", ns).must(t)
	contains(t, "stopped status", r.out, "Status:     Stopped", "Condition:  STOPPED true: Deployment is not running", "Last seen:", "predictor kserve-container")
	var js map[string]any
	if err := json.Unmarshal([]byte(pluginEnv(t, withOS, "status", "stopped1", "-n", ns, "-o", "json").must(t).out), &js); err != nil {
		t.Fatal(err)
	}
	h, _ := js["history"].(map[string]any)
	if js["status"] != "Stopped" || js["deployed"] != false || h["last_seen"] != last.UTC().Format(time.RFC3339Nano) {
		t.Errorf("stopped json: status %v deployed %v history %v (want last_seen %s)", js["status"], js["deployed"], h, last.UTC().Format(time.RFC3339Nano))
	}
	pluginEnv(t, withOS, "status", "stopped1", "-n", ns, "--until", "stopped", "--timeout", "5s").must(t)

	w := pluginEnv(t, withOS, "why", "stopped1", "-n", ns).must(t)
	contains(t, "why stopped", w.out, "LAST WORDS of the predictor in OpenSearch", "KeyError: 'amount'", "last exception before it went quiet: KeyError: 'amount'")
	if n := strings.Count(w.out, "Traceback (most recent call last):"); n != 1 {
		t.Errorf("the last traceback printed %d times:\n%s", n, w.out)
	}

	// list adds it, marked as coming from history; the running one is listed once.
	l := pluginEnv(t, withOS, "list", "-n", ns).must(t).out
	contains(t, "list with history", l, "stopped1", "(history: last seen 3h ago)", "alive")
	if strings.Count(l, "\nalive ") != 1 {
		t.Errorf("alive listed twice:\n%s", l)
	}
	var items struct {
		Items []struct{ Name, Status, Source string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(pluginEnv(t, withOS, "list", "-n", ns, "--status", "Stopped", "-o", "json").must(t).out), &items); err != nil {
		t.Fatal(err)
	}
	if len(items.Items) != 1 || items.Items[0].Name != "stopped1" || items.Items[0].Status != "Stopped" || items.Items[0].Source != "history" {
		t.Errorf("list --status Stopped: %+v", items.Items)
	}
	if strings.Contains(plugin(t, "list", "-n", ns).must(t).out, "stopped1") {
		t.Error("listed from history without OpenSearch settings")
	}

	// The project of the index is the namespace's hopsworks.ai/project label when it has one
	// (Hopsworks names the namespace after the project, but a label says it best).
	labelled := ns + "-lbl"
	projectName := "Team_" + strings.ReplaceAll(ns, "-", "_")
	if err := fixtures.EnsureNamespace(t.Context(), e.Kube, labelled, map[string]string{"hopsworks.ai/project": projectName}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.BulkLoad(osURL, []fixtures.LogDoc{{Timestamp: last, Message: "from the project's index", Serving: "stopped2",
		Component: "predictor", Container: "kserve-container", Project: strings.ToLower(projectName), Host: "worker-4"}}); err != nil {
		t.Fatal(err)
	}
	if r := pluginEnv(t, withOS, "logs", "stopped2", "--project", projectName, "--source", "history", "--since", "24h", "-o", "raw").must(t); r.out != "from the project's index\n" {
		t.Errorf("project label index: %q %q", r.out, r.err)
	}

	// Without history: not found, with the close names and how to look further.
	r = plugin(t, "status", "stopped1", "-n", ns)
	if r.code != 1 || !strings.Contains(r.err, `deployment "stopped1" not found`) || !strings.Contains(r.err, "a stopped deployment leaves nothing in the cluster: point the plugin at its history") {
		t.Errorf("without history: exit %d %q", r.code, r.err)
	}
	// With history that never saw it: not found, and says so.
	r = pluginEnv(t, withOS, "status", "neverwas", "-n", ns)
	if r.code != 1 || !strings.Contains(r.err, "OpenSearch has no line of it either") {
		t.Errorf("never was: exit %d %q", r.code, r.err)
	}
}

// An export read as time chunks, several at once, is byte for byte the sequential read, also
// when many lines share a timestamp at the chunks' edges (small pages and chunks: about 60
// chunks, 7 at once).
var rangeStart = regexp.MustCompile(`"gte":\s*"([^"]+)"`)

func TestHistorySlicedExportIsTheSequentialRead(t *testing.T) {
	e := testenv.Get(t)
	osURL := testenv.OpenSearchURL(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Idle(ns, "sliced"))
	project := strings.ReplaceAll(ns, "-", "_")
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	var docs []fixtures.LogDoc
	for i := 0; i < 12345; i++ { // ten lines a millisecond
		docs = append(docs, fixtures.LogDoc{Timestamp: base.Add(time.Duration(i/10) * time.Millisecond), Message: fmt.Sprintf("line %05d", i),
			Serving: "sliced", Component: "predictor", Container: "kserve-container", Project: project, Host: "worker-1"})
	}
	if err := testenv.BulkLoad(osURL, docs); err != nil {
		t.Fatal(err)
	}
	// The chunks an export cut its window into, counted where OpenSearch sees them: the
	// distinct starts of the time ranges it was asked for.
	var mu sync.Mutex
	starts := map[string]bool{}
	target, _ := url.Parse(osURL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		if strings.HasSuffix(req.URL.Path, "/_search") {
			mu.Lock()
			for _, m := range rangeStart.FindAllSubmatch(body, -1) {
				starts[string(m[1])] = true
			}
			mu.Unlock()
		}
		proxy.ServeHTTP(w, req)
	}))
	defer counting.Close()
	var chunks []int
	read := func(slices, pageSize int) []string {
		clear(starts)
		r, err := history.NewReader(history.Settings{URL: counting.URL})
		if err != nil {
			t.Fatal(err)
		}
		r.Slices, r.ChunkPages = slices, 2
		if pageSize > 0 {
			r.PageSize = pageSize
		}
		var out []string
		err = r.Stream(t.Context(), history.Query{Index: history.ProjectIndexPattern(history.ProjectOfNamespace(ns)), Deployment: "sliced", Since: base.Add(-time.Minute)}, func(l history.Line) error {
			out = append(out, l.RawTS+" "+l.Message)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, len(starts))
		return out
	}
	// The first page is handed on before the chunks are known; each chunk then starts after
	// it: with pages of 100 it ends inside the first chunk, with pages of 500 it covers the
	// first chunk whole and ends in a later one.
	sequential, sliced, covered := read(1, 0), read(7, 100), read(7, 500)
	// 12,345 lines in chunks of about 200: the server's histogram really cut the window.
	if chunks[0] != 1 || chunks[1] < 30 {
		t.Errorf("chunks: %d sequential, %d in the parallel read; want 1 and about 60", chunks[0], chunks[1])
	}
	if len(sequential) != 12345 || strings.Join(sequential, "\n") != strings.Join(sliced, "\n") || strings.Join(sequential, "\n") != strings.Join(covered, "\n") {
		t.Errorf("sliced read differs: %d lines sequential, %d sliced, %d with a first page over a chunk", len(sequential), len(sliced), len(covered))
	}
	r := plugin(t, "logs", "sliced", "-n", ns, "--since", "3h", "-o", "raw", "--opensearch-url", osURL).must(t)
	var want []string
	for _, l := range sequential {
		want = append(want, l[strings.IndexByte(l, ' ')+1:])
	}
	if got := lines(r.out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the plugin's export (%d lines) is not the sequential read (%d)", len(got), len(want))
	}
}
