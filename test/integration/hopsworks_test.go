//go:build integration

package integration

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/certs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/hopsworkstest"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	"k8s.io/apimachinery/pkg/util/rand"
)

// hopsworksProject makes a namespace for a fresh Hopsworks project, labelled as Hopsworks
// labels it, with the lines of a stopped deployment in the project's index of the secured
// OpenSearch.
func hopsworksProject(t *testing.T, sec *testenv.SecuredOpenSearch, prefix, deployment string, msgs ...string) (project, ns string) {
	t.Helper()
	project = prefix + "_" + rand.String(6)
	ns = testenv.Get(t).Namespace(t, "hopsworks.ai/project", project)
	var docs []fixtures.LogDoc
	start := time.Now().Add(-2 * time.Hour)
	for i, m := range msgs {
		docs = append(docs, fixtures.LogDoc{Timestamp: start.Add(time.Duration(i) * time.Second), Message: m, Serving: deployment,
			Component: "predictor", Container: "kserve-container", Project: project, Host: "worker-1"})
	}
	sec.BulkLoad(t, docs)
	return project, ns
}

// A Hopsworks user with an API key and nothing else reads a stopped deployment's history from
// the real security plugin: the token comes from Hopsworks (a stand-in), OpenSearch's URL
// from its variables, its CA from HOPSWORKS_CA. Members read their project and get a 403 on
// another's; each Hopsworks failure has its own exit code and names its fix.
func TestHopsworksCredentials(t *testing.T) {
	sec := testenv.Secured(t)
	projA, nsA := hopsworksProject(t, sec, "alpha", "fraud", "alpha line 1", "alpha line 2")
	projB, nsB := hopsworksProject(t, sec, "beta", "fraud", "beta line")
	port := strings.TrimPrefix(sec.LocalURL[strings.LastIndex(sec.LocalURL, ":"):], ":")
	standIn := &hopsworkstest.StandIn{SigningKey: sec.JWTKey, TokenTTL: 10 * time.Minute,
		Projects:  map[string]hopsworkstest.Project{projA: {ID: 101, Servings: map[string]string{"fraud": "Stopped"}}, projB: {ID: 102}},
		Variables: map[string]string{"loadbalancer_external_domain_opensearch": "localhost:" + port},
		Keys: map[string]hopsworkstest.Key{
			"key-alpha-0123456789":       {Projects: map[string]string{projA: hopsworkstest.DataOwner}, Scopes: hopsworkstest.UserScopes},
			"key-noscope-0123456789":     {Projects: map[string]string{projA: hopsworkstest.DataOwner}},
			"key-projectonly-0123456789": {Projects: map[string]string{projA: hopsworkstest.DataOwner}, Scopes: []string{hopsworkstest.ScopeProject}},
		}}
	hw := sec.StartHopsworks(t, standIn)
	env := func(key string) []string {
		return []string{"HOPSWORKS_URL=" + hw, "HOPSWORKS_API_KEY=" + key, "HOPSWORKS_CA=" + sec.CAFile}
	}
	alice := env("key-alpha-0123456789")
	hist := []string{"logs", "fraud", "--source", "history", "--since", "24h", "-o", "raw"}

	r := pluginEnv(t, alice, append(hist, "-n", nsA)...).must(t)
	if r.out != "alpha line 1\nalpha line 2\n" {
		t.Errorf("member of %s reading it: %q %q", projA, r.out, r.err)
	}
	if standIn.Calls("variables/loadbalancer_external_domain_opensearch") != 1 || standIn.Tokens.Load() != 1 {
		t.Errorf("one URL lookup and one token per command: %d, %d", standIn.Calls("variables/loadbalancer_external_domain_opensearch"), standIn.Tokens.Load())
	}
	contains(t, "stopped status with Hopsworks credentials", pluginEnv(t, alice, "status", "fraud", "-n", nsA).must(t).out, "Status:     Stopped")
	contains(t, "list with Hopsworks credentials", pluginEnv(t, alice, "list", "-n", nsA).must(t).out, "fraud", "Stopped")

	// Another project's index, with alpha's token: the real plugin's 403.
	r = pluginEnv(t, alice, append(hist, "-n", nsA, "--index", projB+"_serving-*")...)
	if r.code != 9 || !strings.Contains(r.err, "forbids reading "+projB+"_serving-* to project "+projA+" as data_owner (403)") {
		t.Errorf("another project's index: exit %d %q", r.code, r.err)
	}
	// Another project by its namespace: Hopsworks does not hand alpha's member beta's token
	// (403 NO_ROLE_FOUND), and knows no project of a name that no project has (404).
	r = pluginEnv(t, alice, append(hist, "-n", nsB)...)
	if r.code != 14 || !strings.Contains(r.err, "not a member of project \""+projB+"\"") {
		t.Errorf("a project the key's user is not a member of: exit %d %q", r.code, r.err)
	}
	nsNope := testenv.Get(t).Namespace(t, "hopsworks.ai/project", projA+"_nope")
	r = pluginEnv(t, alice, append(hist, "-n", nsNope)...)
	if r.code != 12 || !strings.Contains(r.err, "knows no project \""+projA+"_nope\" (404)") {
		t.Errorf("a project that does not exist: exit %d %q", r.code, r.err)
	}
	r = pluginEnv(t, env("wrong-key-0123456789"), append(hist, "-n", nsA)...)
	if r.code != 10 || !strings.Contains(r.err, "refused the API key (401)") || !strings.Contains(r.err, "HOPSWORKS_API_KEY") {
		t.Errorf("wrong key: exit %d %q", r.code, r.err)
	}
	r = pluginEnv(t, env("key-noscope-0123456789"), append(hist, "-n", nsA)...)
	if r.code != 11 || !strings.Contains(r.err, "lacks the PROJECT scope") {
		t.Errorf("key without scope: exit %d %q", r.code, r.err)
	}
	// Hopsworks hands out the OpenSearch token to FEATURESTORE or PYTHON_LIBRARIES only.
	r = pluginEnv(t, env("key-projectonly-0123456789"), append(hist, "-n", nsA)...)
	if r.code != 11 || !strings.Contains(r.err, "lacks the FEATURESTORE or PYTHON_LIBRARIES scope") || !strings.Contains(r.err, "PROJECT, FEATURESTORE and SERVING") {
		t.Errorf("a PROJECT-only key: exit %d %q", r.code, r.err)
	}
	r = pluginEnv(t, []string{"HOPSWORKS_URL=https://127.0.0.1:1", "HOPSWORKS_API_KEY=key-alpha-0123456789"}, append(hist, "-n", nsA)...)
	if r.code != 13 || !strings.Contains(r.err, "Hopsworks at https://127.0.0.1:1 is unreachable") {
		t.Errorf("Hopsworks unreachable: exit %d %q", r.code, r.err)
	}
	r = pluginEnv(t, []string{"HOPSWORKS_URL=" + hw, "HOPSWORKS_API_KEY=key-alpha-0123456789"}, append(hist, "-n", nsA)...)
	if r.code != 13 || !strings.Contains(r.err, "--hopsworks-ca") {
		t.Errorf("Hopsworks' CA not trusted: exit %d %q", r.code, r.err)
	}
	// The key from a file; never a flag value, never in the output.
	keyFile := filepath.Join(t.TempDir(), "api-key")
	_ = os.WriteFile(keyFile, []byte("key-alpha-0123456789\n"), 0o600)
	r = pluginEnv(t, nil, append(hist, "-n", nsA, "--hopsworks-url", hw, "--hopsworks-api-key-file", keyFile, "--hopsworks-ca", sec.CAFile)...).must(t)
	if r.out != "alpha line 1\nalpha line 2\n" {
		t.Errorf("key from a file: %q", r.out)
	}
	if r := plugin(t, append(hist, "-n", nsA, "--hopsworks-api-key", "x")...); r.code != 2 {
		t.Errorf("--hopsworks-api-key should not exist: exit %d", r.code)
	}
}

// The security plugin's TLS and basic auth as a user without Hopsworks meets them: the
// certificate's names are not 127.0.0.1, a wrong CA fails closed, and each host-name option
// does what it says.
func TestSecuredOpenSearchTLSAndBasicAuth(t *testing.T) {
	sec := testenv.Secured(t)
	_, ns := hopsworksProject(t, sec, "gamma", "fraud", "gamma line")
	base := []string{"logs", "fraud", "-n", ns, "--source", "history", "--since", "24h", "-o", "raw", "--opensearch-user", "reader", "--opensearch-ca", sec.CAFile}
	pw := []string{"HOPSDEPLOY_OPENSEARCH_PASSWORD=" + sec.ReaderPassword}

	r := pluginEnv(t, pw, append(base, "--opensearch-url", sec.LocalURL)...).must(t)
	if r.out != "gamma line\n" {
		t.Errorf("basic auth, localhost: %q %q", r.out, r.err)
	}
	r = pluginEnv(t, pw, append(base, "--opensearch-url", sec.URL)...)
	if r.code != 7 || !strings.Contains(r.err, "--opensearch-tls-server-name") {
		t.Errorf("127.0.0.1 is not on the certificate: exit %d %q", r.code, r.err)
	}
	r = pluginEnv(t, pw, append(base, "--opensearch-url", sec.URL, "--opensearch-tls-server-name", sec.NodeName)...).must(t)
	if r.out != "gamma line\n" || strings.Contains(r.err, "warning") {
		t.Errorf("--opensearch-tls-server-name: %q %q", r.out, r.err)
	}
	r = pluginEnv(t, pw, append(base, "--opensearch-url", sec.URL, "--opensearch-tls-verify-chain-only")...).must(t)
	if r.out != "gamma line\n" || !strings.Contains(r.err, "warning: OpenSearch's certificate chain is verified but not its host name") {
		t.Errorf("--opensearch-tls-verify-chain-only: %q %q", r.out, r.err)
	}
	otherCA, _, err := certs.Serving()
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other-ca.pem")
	_ = os.WriteFile(other, otherCA, 0o600)
	for _, opt := range [][]string{{"--opensearch-tls-server-name", sec.NodeName}, {"--opensearch-tls-verify-chain-only"}} {
		args := append(append([]string{}, base...), "--opensearch-url", sec.URL, "--opensearch-ca", other)
		r = pluginEnv(t, pw, append(args, opt...)...)
		if r.code != 7 || r.out != "" {
			t.Errorf("a wrong CA with %v must fail closed: exit %d %q %q", opt, r.code, r.out, r.err)
		}
	}
	r = pluginEnv(t, []string{"HOPSDEPLOY_OPENSEARCH_PASSWORD=wrong"}, append(base, "--opensearch-url", sec.LocalURL)...)
	if r.code != 6 {
		t.Errorf("wrong password: exit %d %q", r.code, r.err)
	}
}

// A Hopsworks token that expires in the middle of an export (tokens live a second here; the
// reader is slowed by its consumer) is renewed on the real plugin's 401, in each of the
// parallel slices, and the export holds every line once, in order.
func TestHopsworksTokenRenewedMidExport(t *testing.T) {
	sec := testenv.Secured(t)
	project := "delta_" + rand.String(6)
	ns := testenv.Get(t).Namespace(t, "hopsworks.ai/project", project)
	const n = 40000
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Millisecond)
	docs := make([]fixtures.LogDoc, n)
	for i := range docs {
		docs[i] = fixtures.LogDoc{Timestamp: start.Add(time.Duration(i/4) * 10 * time.Millisecond), Message: fmt.Sprintf("line %05d", i),
			Serving: "big", Component: "predictor", Container: "kserve-container", Project: project, Host: "worker-1"}
	}
	sec.BulkLoad(t, docs)
	u, _ := url.Parse(sec.LocalURL)
	standIn := &hopsworkstest.StandIn{SigningKey: sec.JWTKey, TokenTTL: time.Second, Projects: map[string]hopsworkstest.Project{project: {ID: 7}},
		Variables: map[string]string{"loadbalancer_external_domain_opensearch": u.Host},
		Keys:      map[string]hopsworkstest.Key{"key-delta-0123456789": {Projects: map[string]string{project: hopsworkstest.DataScientist}, Scopes: hopsworkstest.UserScopes}}}
	hw := sec.StartHopsworks(t, standIn)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.PluginBin, "logs", "big", "-n", ns, "--source", "history", "--since", "24h", "-o", "raw")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+testenv.Get(t).Kubeconfig, "HOPSWORKS_URL="+hw, "HOPSWORKS_API_KEY=key-delta-0123456789", "HOPSWORKS_CA="+sec.CAFile)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A slow consumer: the export takes several token lifetimes.
	sc := bufio.NewScanner(out)
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
		if len(got)%500 == 0 {
			time.Sleep(60 * time.Millisecond)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("export: %v\n%s", err, stderr.String())
	}
	if len(got) != n {
		t.Fatalf("%d lines, want %d (stderr %q)", len(got), n, stderr.String())
	}
	// Lines of one timestamp come in _id order; groups of a timestamp in time order.
	seen, group := map[int]bool{}, 0
	for i, l := range got {
		var k int
		if _, err := fmt.Sscanf(l, "line %d", &k); err != nil || seen[k] || k/4 < group {
			t.Fatalf("line %d is %q: doubled, foreign or out of time order", i, l)
		}
		seen[k], group = true, k/4
	}
	if standIn.Tokens.Load() < 2 {
		t.Errorf("the token was never renewed (%d handed out): the test did not outlast it", standIn.Tokens.Load())
	}
	t.Logf("%d tokens handed out for one export", standIn.Tokens.Load())
}
