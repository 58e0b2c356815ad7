//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/hopsworkstest"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	"k8s.io/apimachinery/pkg/util/rand"
)

// A data scientist, the role of most members of a Hopsworks project, reads history through
// every path with nothing but an API key of the scopes the README names, against the security
// plugin configured with Hopsworks' own roles (no mapping read, no point-in-time delete). The
// project's name is mixed case and its namespace carries no label: Hopsworks says which
// project runs there. Hopsworks tells a stopped deployment (it still holds it) from a deleted
// one (history still has its lines); a DEFAULT-tool deployment's documents, which carry no
// component and no container, read like a KServe one's.
func TestDataScientistReadsHistory(t *testing.T) {
	sec := testenv.Secured(t)
	e := testenv.Get(t)
	suffix := rand.String(6)
	project := "Fraud_Team_" + suffix
	ns := cluster.ProjectToNamespace(project) // fraud-team-xxxxxx, as Hopsworks names it
	if err := fixtures.EnsureNamespace(context.Background(), e.Kube, ns, nil); err != nil {
		t.Fatal(err)
	}
	index := strings.ToLower(project) // the project's indices, which its members may read
	now := time.Now().Truncate(time.Second)
	var docs []fixtures.LogDoc
	add := func(serving, tool string, ago time.Duration, msgs ...string) {
		for i, m := range msgs {
			d := fixtures.LogDoc{Timestamp: now.Add(-ago + time.Duration(i)*time.Second), Message: m, Serving: serving, Project: index, Host: "worker-1", Tool: tool}
			if tool == "" {
				d.Component, d.Container = "predictor", "kserve-container"
			}
			docs = append(docs, d)
		}
	}
	add("oldfraud", "", 20*time.Hour, "INFO:root:Model loaded in 2.9s", "Traceback (most recent call last):", "KeyError: 'merchant_category'")
	add("legacy", "default", 6*time.Hour, " * Serving Flask app 'server'", "ERROR:server:model.pkl: unpickling stack underflow")
	add("retired", "", 50*time.Hour, "INFO:uvicorn.error:Finished server process [1]")
	add("idle", "", time.Hour, "last words before scale-down")
	add("live", "", 10*time.Hour, "a line from before the pods started")
	sec.BulkLoad(t, docs)
	e.Apply(t, fixtures.Idle(ns, "idle"))

	// A project with a namespace of its own (Hopsworks 4.1 and later).
	own := "Beta_" + suffix
	ownNS := "own-" + suffix
	if err := fixtures.EnsureNamespace(context.Background(), e.Kube, ownNS, nil); err != nil {
		t.Fatal(err)
	}
	sec.BulkLoad(t, []fixtures.LogDoc{{Timestamp: now.Add(-time.Hour), Message: "a line of the project with its own namespace", Serving: "beta",
		Component: "predictor", Container: "kserve-container", Project: strings.ToLower(own), Host: "worker-2"}})

	standIn := &hopsworkstest.StandIn{SigningKey: sec.JWTKey, TokenTTL: 10 * time.Minute,
		Projects: map[string]hopsworkstest.Project{
			project: {ID: 201, Servings: map[string]string{"oldfraud": "Stopped", "legacy": "Stopped", "idle": "Idle"}},
			own:     {ID: 202, Namespace: ownNS},
		},
		Variables: map[string]string{"loadbalancer_external_domain_opensearch": strings.TrimPrefix(sec.LocalURL, "https://")},
		Keys: map[string]hopsworkstest.Key{
			"key-ds-0123456789":        {Projects: map[string]string{project: hopsworkstest.DataScientist, own: hopsworkstest.DataScientist}, Scopes: hopsworkstest.UserScopes},
			"key-noserving-0123456789": {Projects: map[string]string{project: hopsworkstest.DataScientist}, Scopes: []string{hopsworkstest.ScopeProject, hopsworkstest.ScopeFeatureStore}},
		}}
	hw := sec.StartHopsworks(t, standIn)
	env := func(key string) []string {
		return []string{"HOPSWORKS_URL=" + hw, "HOPSWORKS_API_KEY=" + key, "HOPSWORKS_CA=" + sec.CAFile}
	}
	ds := env("key-ds-0123456789")

	// logs: a window (the chunked export in a point in time), and the last lines.
	r := pluginEnv(t, ds, "logs", "oldfraud", "-n", ns, "--source", "history", "--since", "24h", "-o", "raw").must(t)
	if r.out != "INFO:root:Model loaded in 2.9s\nTraceback (most recent call last):\nKeyError: 'merchant_category'\n" {
		t.Errorf("logs with a window: %q %q", r.out, r.err)
	}
	r = pluginEnv(t, ds, "logs", "oldfraud", "-n", ns, "--source", "history", "--since", "24h", "--tail", "1", "-o", "raw").must(t)
	if r.out != "KeyError: 'merchant_category'\n" {
		t.Errorf("logs --tail: %q %q", r.out, r.err)
	}
	// status, why and list of a stopped deployment: Hopsworks still holds it.
	r = pluginEnv(t, ds, "status", "oldfraud", "-n", ns).must(t)
	contains(t, "status of a stopped deployment", r.out, "Status:     Stopped", "Source:     Hopsworks (it holds the deployment, stopped)")
	var st struct {
		Status       string `json:"status"`
		StatusSource string `json:"status_source"`
	}
	if err := json.Unmarshal([]byte(pluginEnv(t, ds, "status", "oldfraud", "-n", ns, "-o", "json").must(t).out), &st); err != nil || st.Status != "Stopped" || st.StatusSource != "hopsworks" {
		t.Errorf("status -o json: %+v %v", st, err)
	}
	contains(t, "why of a stopped deployment", pluginEnv(t, ds, "why", "oldfraud", "-n", ns).must(t).out, "LAST WORDS of the predictor", "KeyError: 'merchant_category'")
	r = pluginEnv(t, ds, "list", "-n", ns).must(t)
	contains(t, "list", r.out, "oldfraud", "legacy", "Stopped")
	if strings.Contains(r.out, "retired") {
		t.Errorf("list shows a deleted deployment:\n%s", r.out)
	}
	// A deleted deployment: not found, and its history is still there to read.
	r = pluginEnv(t, ds, "status", "retired", "-n", ns)
	if r.code != 1 || !strings.Contains(r.err, "Hopsworks has no deployment of that name: it was deleted") || !strings.Contains(r.err, "--source history") {
		t.Errorf("status of a deleted deployment: exit %d %q", r.code, r.err)
	}
	if r := pluginEnv(t, ds, "why", "retired", "-n", ns); r.code != 1 || !strings.Contains(r.err, "it was deleted") {
		t.Errorf("why of a deleted deployment: exit %d %q", r.code, r.err)
	}
	if r := pluginEnv(t, ds, "logs", "retired", "-n", ns, "--source", "history", "--since", "72h", "-o", "raw").must(t); r.out != "INFO:uvicorn.error:Finished server process [1]\n" {
		t.Errorf("logs of a deleted deployment: %q", r.out)
	}
	// A DEFAULT-tool deployment's history.
	if r := pluginEnv(t, ds, "logs", "legacy", "-n", ns, "--source", "history", "--since", "24h", "-o", "raw").must(t); r.out != " * Serving Flask app 'server'\nERROR:server:model.pkl: unpickling stack underflow\n" {
		t.Errorf("logs of a DEFAULT deployment: %q", r.out)
	}
	contains(t, "why of a DEFAULT deployment", pluginEnv(t, ds, "why", "legacy", "-n", ns).must(t).out, "LAST WORDS of the predictor", "unpickling stack underflow")
	// A deployment in the cluster whose pods are gone: why and bundle read its last lines.
	contains(t, "why from history", pluginEnv(t, ds, "why", "idle", "-n", ns).must(t).out, "last words before scale-down")
	file := filepath.Join(t.TempDir(), "idle.tar.gz")
	pluginEnv(t, ds, "bundle", "idle", "-n", ns, "-f", file).must(t)
	contains(t, "bundle from history", untarAll(t, file), "last words before scale-down")
	// logs -f over a window that starts before the pods: history up to them, then live.
	// The history part is printed at once, not held until a live line comes.
	live := e.Apply(t, fixtures.Running(ns, "live"))
	f := startFollower(t, ds, []string{"logs", "live", "-n", ns, "-f", "--since", "24h", "-o", "raw"})
	f.waitFor(t, false, "a line from before the pods started")
	if err := e.Logs.Append(ns, live.PodNames()[0], "kserve-container", time.Time{}, "a live line after the history"); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, false, "a live line after the history")
	f.cancel()
	// A project with its own namespace: Hopsworks says which project runs there.
	if r := pluginEnv(t, ds, "logs", "beta", "-n", ownNS, "--source", "history", "--since", "24h", "-o", "raw").must(t); r.out != "a line of the project with its own namespace\n" {
		t.Errorf("a project with its own namespace: %q %q", r.out, r.err)
	}
	// --project: the project's own namespace from Hopsworks, the mixed-case name's by the rule;
	// the project is asked of Hopsworks once per command.
	asked := standIn.Calls("project/getProjectInfo")
	if r := pluginEnv(t, ds, "logs", "beta", "--project", own, "--source", "history", "--since", "24h", "-o", "raw").must(t); r.out != "a line of the project with its own namespace\n" {
		t.Errorf("--project of a project with its own namespace: %q %q", r.out, r.err)
	}
	if n := standIn.Calls("project/getProjectInfo") - asked; n != 1 {
		t.Errorf("the project was asked of Hopsworks %d times for one command", n)
	}
	contains(t, "--project of a mixed-case project", pluginEnv(t, ds, "status", "oldfraud", "--project", project).must(t).out, "oldfraud (namespace "+ns, "Status:     Stopped")

	// Without the SERVING scope, or without Hopsworks, Stopped is inferred, and said to be.
	r = pluginEnv(t, env("key-noserving-0123456789"), "status", "oldfraud", "-n", ns).must(t)
	contains(t, "status without the SERVING scope", r.out, "Status:     Stopped", "Source:     inferred from history: Hopsworks could not say whether it still exists", "SERVING")
	basic := []string{"HOPSDEPLOY_OPENSEARCH_URL=" + sec.LocalURL, "HOPSDEPLOY_OPENSEARCH_USER=reader", "HOPSDEPLOY_OPENSEARCH_PASSWORD=" + sec.ReaderPassword, "HOPSDEPLOY_OPENSEARCH_CA=" + sec.CAFile}
	contains(t, "status without Hopsworks", pluginEnv(t, basic, "status", "retired", "-n", ns).must(t).out, "Status:     Stopped", "Source:     inferred from history: only Hopsworks knows whether it is stopped or was deleted")
}
