package history

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
)

func TestQueryBodyIsStructured(t *testing.T) {
	q := Query{Deployment: `a"b*`, Components: []string{"predictor"}, Containers: []string{"kserve-container"},
		Since: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 25, 11, 0, 0, 5, time.UTC), Grep: `{"x":1}`}
	b, err := json.Marshal(q.Body(DefaultFields, 100, true, []any{1.0, "id"}))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`{"term":{"serving_name.keyword":"a\"b*"}}`,
		`{"terms":{"serving_component.keyword":["predictor"]}},{"terms":{"component.keyword":["predictor"]}}`,
		`"minimum_should_match":1`,
		`{"terms":{"container_name.keyword":["kserve-container"]}}`,
		`"gte":"2026-11-25T10:00:00Z"`, `"lt":"2026-11-25T11:00:00.000000005Z"`,
		`{"match":{"log_message":{"operator":"and","query":"{\"x\":1}"}}}`,
		`"sort":[{"@timestamp":{"order":"desc","unmapped_type":"date"}},{"_id":{"order":"desc"}}]`,
		`"search_after":[1,"id"]`, `"size":100`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("body lacks %s:\n%s", want, s)
		}
	}
	if ProjectIndexPattern(ProjectOfNamespace("my-project")) != "my_project_serving-*" {
		t.Error(ProjectIndexPattern(ProjectOfNamespace("my-project")))
	}
}

func TestResolvePrecedence(t *testing.T) {
	cfg, err := ParseConfig([]byte("opensearch:\n  url: http://default\n  user: d\ncontexts:\n  prod:\n    opensearch:\n      url: http://prod\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOPSDEPLOY_OPENSEARCH_USER": "envuser", "HOPSDEPLOY_OPENSEARCH_PASSWORD": "pw"}
	get := func(k string) string { return env[k] }
	none := func(string) bool { return false }
	s, err := Resolve(cfg, "dev", get, Settings{}, none)
	if err != nil || s.URL != "http://default" || s.User != "envuser" || s.Password != "pw" {
		t.Errorf("env over file: %+v %v", s, err)
	}
	env["HOPSDEPLOY_OPENSEARCH_URL"] = "http://env"
	s, err = Resolve(cfg, "prod", get, Settings{}, none)
	if err != nil || s.URL != "http://env" || s.User != "envuser" || s.Password != "pw" {
		t.Errorf("env over the context's block: %+v %v", s, err)
	}
	delete(env, "HOPSDEPLOY_OPENSEARCH_URL")
	// A context's block names another host: neither the default block's user nor the
	// exported password go there; a note says so.
	s, err = Resolve(cfg, "prod", get, Settings{}, none)
	if err != nil || s.URL != "http://prod" || s.User != "" || s.Password != "" || !strings.Contains(strings.Join(s.Warnings, "\n"), `HOPSDEPLOY_OPENSEARCH_PASSWORD is not sent to http://prod, which only the config file's block for kube context "prod" names`) {
		t.Errorf("credentials followed the context's block to another host: %+v %v", s, err)
	}
	s, _ = Resolve(cfg, "dev", get, Settings{URL: "http://flag"}, func(f string) bool { return f == "opensearch-url" })
	if s.URL != "http://flag" {
		t.Errorf("flag over all: %s", s.URL)
	}
	if _, err := ParseConfig([]byte("opensearch:\n  password: x\n"), "c.yaml"); err == nil {
		t.Error("a password inside the config file must be refused")
	}
	if _, err := Resolve(nil, "", func(string) string { return "" }, Settings{PasswordFile: "/nonexistent"}, func(f string) bool { return f == "opensearch-password-file" }); err == nil ||
		!strings.Contains(err.Error(), "cannot read the OpenSearch password file /nonexistent") {
		t.Errorf("missing password file: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("https://alice:secret@os.example.com:9200/path"); strings.Contains(got, "secret") || got != "https://os.example.com:9200/path" {
		t.Error(got)
	}
}

// A URL with credentials is refused wherever it comes from; unsafe settings are warned of.
func TestResolveRefusesAndWarns(t *testing.T) {
	none := func(string) bool { return false }
	empty := func(string) string { return "" }
	cfg, _ := ParseConfig([]byte("opensearch:\n  url: https://u:secret@os:9200\n"), "c.yaml")
	if _, err := Resolve(cfg, "", empty, Settings{}, none); err == nil || !strings.Contains(err.Error(), "carries credentials") || strings.Contains(err.Error(), "secret") {
		t.Errorf("url with a password in the config file: %v", err)
	}
	if _, err := Resolve(nil, "", empty, Settings{URL: "https://u:secret@os"}, func(f string) bool { return f == "opensearch-url" }); err == nil {
		t.Error("url with a password in a flag accepted")
	}
	env := map[string]string{"HOPSDEPLOY_OPENSEARCH_URL": "http://os:9200", "HOPSDEPLOY_OPENSEARCH_PASSWORD": "pw", "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY": "true"}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	_ = os.WriteFile(tokenFile, []byte("t"), 0o644)
	env["HOPSDEPLOY_OPENSEARCH_TOKEN_FILE"] = tokenFile
	s, err := Resolve(nil, "", func(k string) string { return env[k] }, Settings{}, none)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(s.Warnings, "\n")
	for _, want := range []string{"over plain http://", "TLS verification of OpenSearch is off (the environment or the config file)", tokenFile + " is open to other users (mode 0644)"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q lack %q", all, want)
		}
	}
	_ = os.Chmod(tokenFile, 0o600)
	env["HOPSDEPLOY_OPENSEARCH_URL"] = "https://os:9200"
	delete(env, "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY")
	if s, _ := Resolve(nil, "", func(k string) string { return env[k] }, Settings{}, none); len(s.Warnings) != 0 {
		t.Errorf("safe settings warned: %q", s.Warnings)
	}
}

// With Hopsworks handing out the token (and, without a URL, saying where OpenSearch is), the
// TLS settings of the config file or the environment are warned of all the same, a token over
// http:// too; verifying only the chain needs an explicit CA.
func TestResolveWarnsWhateverTheURLsSource(t *testing.T) {
	none := func(string) bool { return false }
	env := map[string]string{"HOPSWORKS_URL": "https://hw", "HOPSWORKS_API_KEY": "k", "HOPSWORKS_CA": "/ca.pem", "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY": "true"}
	get := func(k string) string { return env[k] }
	s, err := Resolve(nil, "", get, Settings{}, none)
	if err != nil || !strings.Contains(strings.Join(s.Warnings, "\n"), "TLS verification of OpenSearch is off") {
		t.Errorf("insecure with the URL from Hopsworks: %q %v", s.Warnings, err)
	}
	delete(env, "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY")
	cfg, _ := ParseConfig([]byte("opensearch: {verifyChainOnly: true}\n"), "c.yaml")
	if s, err := Resolve(cfg, "", get, Settings{}, none); err != nil || !strings.Contains(strings.Join(s.Warnings, "\n"), "verified but not its host name") {
		t.Errorf("chain only from the config file with the URL from Hopsworks: %q %v", s.Warnings, err)
	}
	s, err = Resolve(nil, "", get, Settings{URL: "http://os:9200"}, func(f string) bool { return f == "opensearch-url" })
	if err != nil || !strings.Contains(strings.Join(s.Warnings, "\n"), "over plain http://") {
		t.Errorf("a Hopsworks token over http: %q %v", s.Warnings, err)
	}
	delete(env, "HOPSWORKS_CA")
	if _, err := Resolve(cfg, "", get, Settings{URL: "https://os:9200"}, func(f string) bool { return f == "opensearch-url" }); err == nil || !strings.Contains(err.Error(), "--opensearch-ca") {
		t.Errorf("chain only against the system's roots: %v", err)
	}
}

func TestResolveHopsworks(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	_ = os.WriteFile(keyFile, []byte("from-file\n"), 0o644)
	cfg, err := ParseConfig([]byte("hopsworks: {url: https://hw.default, ca: /ca/default.pem}\ncontexts:\n  prod: {hopsworks: {url: https://hw.prod, apiKeyFile: "+keyFile+"}}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	none := func(string) bool { return false }
	empty := func(string) string { return "" }
	s, err := Resolve(cfg, "prod", empty, Settings{}, none)
	if err != nil || s.Hopsworks.URL != "https://hw.prod" || s.Hopsworks.APIKey != "from-file" || !s.Configured() {
		t.Fatalf("config file: %+v %v", s.Hopsworks, err)
	}
	if s.CAFile != "/ca/default.pem" {
		t.Errorf("Hopsworks' CA verifies OpenSearch too without --opensearch-ca: %q", s.CAFile)
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), "chmod 600 "+keyFile) {
		t.Errorf("a key file open to others: %q", s.Warnings)
	}
	env := map[string]string{"HOPSWORKS_URL": "http://hw.env", "HOPSWORKS_API_KEY": "from-env", "HOPSDEPLOY_OPENSEARCH_CA": "/ca/os.pem"}
	s, _ = Resolve(cfg, "dev", func(k string) string { return env[k] }, Settings{}, none)
	if s.Hopsworks.URL != "http://hw.env" || s.Hopsworks.APIKey != "from-env" || s.CAFile != "/ca/os.pem" {
		t.Errorf("environment: %+v %q", s.Hopsworks, s.CAFile)
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), "API key goes to http://hw.env over plain http://") {
		t.Errorf("plain http: %q", s.Warnings)
	}
	// The flags win; the key file named by the flag wins over the environment's key.
	s, _ = Resolve(cfg, "dev", func(k string) string { return env[k] }, Settings{Hopsworks: hopsworks.Settings{URL: "https://hw.flag", APIKeyFile: keyFile}},
		func(f string) bool { return f == "hopsworks-url" || f == "hopsworks-api-key-file" })
	if s.Hopsworks.URL != "https://hw.flag" || s.Hopsworks.APIKey != "from-file" {
		t.Errorf("flags: %+v", s.Hopsworks)
	}
	if s, _ := Resolve(nil, "", empty, Settings{}, none); s.Configured() {
		t.Error("nothing set is not configured")
	}
}

// A DEFAULT-tool deployment's documents have no component and no container: they count as the
// predictor's main container, and only as that.
func TestDefaultToolDocumentsCountAsThePredictor(t *testing.T) {
	body := func(q Query) string {
		b, _ := json.Marshal(q.Body(DefaultFields, 10, false, nil))
		return string(b)
	}
	const noComponent = `{"bool":{"must_not":[{"exists":{"field":"serving_component.keyword"}},{"exists":{"field":"component.keyword"}}]}}`
	const noContainer = `{"bool":{"must_not":[{"exists":{"field":"container_name.keyword"}}]}}`
	got := body(Query{Index: "p_serving-*", Deployment: "d", Components: []string{"predictor"}, Containers: []string{"kserve-container"}})
	if !strings.Contains(got, noComponent) || !strings.Contains(got, noContainer) {
		t.Errorf("the predictor's main container leaves out DEFAULT documents: %s", got)
	}
	got = body(Query{Index: "p_serving-*", Deployment: "d", Components: []string{"transformer"}, Containers: []string{"queue-proxy"}})
	if strings.Contains(got, "must_not") {
		t.Errorf("the transformer's queue-proxy takes DEFAULT documents: %s", got)
	}
}

// A kube context's block that names another Hopsworks does not get the default block's API key
// file, nor an exported key, unless it names its own.
func TestContextBlockDoesNotInheritTheKey(t *testing.T) {
	cfg, err := ParseConfig([]byte("hopsworks: {url: https://hw.default, apiKeyFile: /keys/default}\ncontexts:\n  other: {hopsworks: {url: https://hw.other}}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOPSWORKS_API_KEY": "exported"}
	s, err := Resolve(cfg, "other", func(k string) string { return env[k] }, Settings{}, func(string) bool { return false })
	if err != nil || s.Hopsworks.URL != "https://hw.other" || s.Hopsworks.APIKeyFile != "" || s.Hopsworks.APIKey != "" {
		t.Errorf("the key followed the context's block to another Hopsworks: %+v %v", s.Hopsworks, err)
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), "HOPSWORKS_API_KEY is not sent to https://hw.other") {
		t.Errorf("no note: %q", s.Warnings)
	}
}
