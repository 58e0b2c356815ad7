package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/spf13/pflag"
)

// flagsOf is the logs command's history flags, the given ones set (name, value, ...).
func flagsOf(t *testing.T, nameValues ...string) *pflag.FlagSet {
	t.Helper()
	f := pflag.NewFlagSet("logs", pflag.ContinueOnError)
	addHistoryFlags(f)
	for i := 0; i+1 < len(nameValues); i += 2 {
		if err := f.Set(nameValues[i], nameValues[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestResolvePrecedence(t *testing.T) {
	cfg, err := parseConfig([]byte("opensearch:\n  url: http://default\n  user: d\ncontexts:\n  prod:\n    opensearch:\n      url: http://prod\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOPSDEPLOY_OPENSEARCH_USER": "envuser", "HOPSDEPLOY_OPENSEARCH_PASSWORD": "pw"}
	get := func(k string) string { return env[k] }
	s, err := resolveSettings(cfg, "dev", get, nil)
	if err != nil || s.URL != "http://default" || s.User != "envuser" || s.Password != "pw" {
		t.Errorf("env over file: %+v %v", s, err)
	}
	env["HOPSDEPLOY_OPENSEARCH_URL"] = "http://env"
	s, err = resolveSettings(cfg, "prod", get, nil)
	if err != nil || s.URL != "http://env" || s.User != "envuser" || s.Password != "pw" {
		t.Errorf("env over the context's block: %+v %v", s, err)
	}
	delete(env, "HOPSDEPLOY_OPENSEARCH_URL")
	// A context's block names another host: neither the default block's user nor the
	// exported password go there; a note says so.
	s, err = resolveSettings(cfg, "prod", get, nil)
	if err != nil || s.URL != "http://prod" || s.User != "" || s.Password != "" || !strings.Contains(strings.Join(s.Warnings, "\n"), `HOPSDEPLOY_OPENSEARCH_PASSWORD is not sent to http://prod, which only the config file's block for kube context "prod" names`) {
		t.Errorf("credentials followed the context's block to another host: %+v %v", s, err)
	}
	s, _ = resolveSettings(cfg, "dev", get, flagsOf(t, "opensearch-url", "http://flag"))
	if s.URL != "http://flag" {
		t.Errorf("flag over all: %s", s.URL)
	}
	if _, err := parseConfig([]byte("opensearch:\n  password: x\n"), "c.yaml"); err == nil {
		t.Error("a password inside the config file must be refused")
	}
	if _, err := resolveSettings(nil, "", func(string) string { return "" }, flagsOf(t, "opensearch-password-file", "/nonexistent")); err == nil ||
		!strings.Contains(err.Error(), "cannot read the OpenSearch password file /nonexistent") {
		t.Errorf("missing password file: %v", err)
	}
}

// A URL with credentials is refused wherever it comes from; unsafe settings are warned of.
func TestResolveRefusesAndWarns(t *testing.T) {
	empty := func(string) string { return "" }
	cfg, _ := parseConfig([]byte("opensearch:\n  url: https://u:secret@os:9200\n"), "c.yaml")
	if _, err := resolveSettings(cfg, "", empty, nil); err == nil || !strings.Contains(err.Error(), "carries credentials") || strings.Contains(err.Error(), "secret") {
		t.Errorf("url with a password in the config file: %v", err)
	}
	if _, err := resolveSettings(nil, "", empty, flagsOf(t, "opensearch-url", "https://u:secret@os")); err == nil {
		t.Error("url with a password in a flag accepted")
	}
	env := map[string]string{"HOPSDEPLOY_OPENSEARCH_URL": "http://os:9200", "HOPSDEPLOY_OPENSEARCH_PASSWORD": "pw", "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY": "true"}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	_ = os.WriteFile(tokenFile, []byte("t"), 0o644)
	env["HOPSDEPLOY_OPENSEARCH_TOKEN_FILE"] = tokenFile
	s, err := resolveSettings(nil, "", func(k string) string { return env[k] }, nil)
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
	if s, _ := resolveSettings(nil, "", func(k string) string { return env[k] }, nil); len(s.Warnings) != 0 {
		t.Errorf("safe settings warned: %q", s.Warnings)
	}
}

// With Hopsworks handing out the token (and, without a URL, saying where OpenSearch is), the
// TLS settings of the config file or the environment are warned of all the same, a token over
// http:// too; verifying only the chain needs an explicit CA.
func TestResolveWarnsWhateverTheURLsSource(t *testing.T) {
	env := map[string]string{"HOPSWORKS_URL": "https://hw", "HOPSWORKS_API_KEY": "k", "HOPSWORKS_CA": "/ca.pem", "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY": "true"}
	get := func(k string) string { return env[k] }
	s, err := resolveSettings(nil, "", get, nil)
	if err != nil || !strings.Contains(strings.Join(s.Warnings, "\n"), "TLS verification of OpenSearch is off") {
		t.Errorf("insecure with the URL from Hopsworks: %q %v", s.Warnings, err)
	}
	delete(env, "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY")
	cfg, _ := parseConfig([]byte("opensearch: {verifyChainOnly: true}\n"), "c.yaml")
	if s, err := resolveSettings(cfg, "", get, nil); err != nil || !strings.Contains(strings.Join(s.Warnings, "\n"), "verified but not its host name") {
		t.Errorf("chain only from the config file with the URL from Hopsworks: %q %v", s.Warnings, err)
	}
	s, err = resolveSettings(nil, "", get, flagsOf(t, "opensearch-url", "http://os:9200"))
	if err != nil || !strings.Contains(strings.Join(s.Warnings, "\n"), "over plain http://") {
		t.Errorf("a Hopsworks token over http: %q %v", s.Warnings, err)
	}
	delete(env, "HOPSWORKS_CA")
	if _, err := resolveSettings(cfg, "", get, flagsOf(t, "opensearch-url", "https://os:9200")); err == nil || !strings.Contains(err.Error(), "--opensearch-ca") {
		t.Errorf("chain only against the system's roots: %v", err)
	}
}

func TestResolveHopsworks(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	_ = os.WriteFile(keyFile, []byte("from-file\n"), 0o644)
	cfg, err := parseConfig([]byte("hopsworks: {url: https://hw.default, ca: /ca/default.pem}\ncontexts:\n  prod: {hopsworks: {url: https://hw.prod, apiKeyFile: "+keyFile+"}}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	empty := func(string) string { return "" }
	s, err := resolveSettings(cfg, "prod", empty, nil)
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
	s, _ = resolveSettings(cfg, "dev", func(k string) string { return env[k] }, nil)
	if s.Hopsworks.URL != "http://hw.env" || s.Hopsworks.APIKey != "from-env" || s.CAFile != "/ca/os.pem" {
		t.Errorf("environment: %+v %q", s.Hopsworks, s.CAFile)
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), "API key goes to http://hw.env over plain http://") {
		t.Errorf("plain http: %q", s.Warnings)
	}
	// The flags win; the key file named by the flag wins over the environment's key.
	s, _ = resolveSettings(cfg, "dev", func(k string) string { return env[k] }, flagsOf(t, "hopsworks-url", "https://hw.flag", "hopsworks-api-key-file", keyFile))
	if s.Hopsworks.URL != "https://hw.flag" || s.Hopsworks.APIKey != "from-file" {
		t.Errorf("flags: %+v", s.Hopsworks)
	}
	if s, _ := resolveSettings(nil, "", empty, nil); s.Configured() {
		t.Error("nothing set is not configured")
	}
}

// A kube context's block that names another Hopsworks does not get the default block's API key
// file, nor an exported key, unless it names its own.
func TestContextBlockDoesNotInheritTheKey(t *testing.T) {
	cfg, err := parseConfig([]byte("hopsworks: {url: https://hw.default, apiKeyFile: /keys/default}\ncontexts:\n  other: {hopsworks: {url: https://hw.other}}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOPSWORKS_API_KEY": "exported"}
	s, err := resolveSettings(cfg, "other", func(k string) string { return env[k] }, nil)
	if err != nil || s.Hopsworks.URL != "https://hw.other" || s.Hopsworks.APIKeyFile != "" || s.Hopsworks.APIKey != "" {
		t.Errorf("the key followed the context's block to another Hopsworks: %+v %v", s.Hopsworks, err)
	}
	if !strings.Contains(strings.Join(s.Warnings, "\n"), "HOPSWORKS_API_KEY is not sent to https://hw.other") {
		t.Errorf("no note: %q", s.Warnings)
	}
}

var updateDocs = flag.Bool("update", false, "rewrite docs/settings.md's table from the settings table")

// docs/settings.md shows the settings table as it is: each setting's flag, environment
// variable and config key (go test ./pkg/cli -run TestSettingsDoc -update rewrites it).
func TestSettingsDoc(t *testing.T) {
	var b strings.Builder
	b.WriteString("| flag | environment | config file key | what |\n|---|---|---|---|\n")
	seen := map[string]bool{}
	for _, st := range settings {
		for _, name := range []string{"--" + st.flag, st.env, string(st.section) + "." + st.key} {
			if seen[name] && name != "--" && name != string(st.section)+"." {
				t.Errorf("%s is in the table twice", name)
			}
			seen[name] = true
		}
		cell := func(prefix, v string) string {
			if v == "" {
				return "none"
			}
			return "`" + prefix + v + "`"
		}
		key := ""
		if st.key != "" {
			key = string(st.section) + "." + st.key
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell("--", st.flag), cell("", st.env), cell("", key), st.usage)
	}
	const path = "../../docs/settings.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- table: generated by TestSettingsDoc -->\n", "<!-- end of table -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the table's markers", path)
	}
	want := string(doc[:i+len(begin)]) + b.String() + string(doc[j:])
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != string(doc) {
		t.Errorf("%s's table is not the settings table: go test ./pkg/cli -run TestSettingsDoc -update", path)
	}
}

// A key of the config file is one of the table's, with a value of its kind.
func TestConfigFileKeysComeFromTheTable(t *testing.T) {
	for in, want := range map[string]string{
		"opensearch: {password: x}\n":                        `unknown field "password" in opensearch: its known fields are url, user, passwordFile, ca, insecureSkipVerify, tlsServerName, verifyChainOnly, tokenFile, index`,
		"contexts: {prod: {hopsworks: {apiKey: x}}}\n":       `unknown field "apiKey" in contexts.prod.hopsworks`,
		"opensearch: {insecureSkipVerify: \"yes please\"}\n": "opensearch.insecureSkipVerify must be true or false",
		"hopsworks: {url: 42}\n":                             "hopsworks.url must be text",
		"opensearch: {url: https://os}\nextra: 1\n":          `unknown field "extra"`,
	} {
		if _, err := parseConfig([]byte(in), "c.yaml"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err %v, want %q", in, err, want)
		}
	}
	cfg, err := parseConfig([]byte("opensearch: {url: https://os, insecureSkipVerify: true, passwordFile: ~/pw}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := resolveSettings(cfg, "", func(string) string { return "" }, nil)
	home, _ := os.UserHomeDir()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(home, "pw")) || s.URL != "https://os" || !s.InsecureSkipVerify {
		t.Errorf("settings %+v, err %v (the password file is ~/pw, expanded, and does not exist)", s, err)
	}
}

// Every environment variable is read, with its kind.
func TestEveryEnvironmentVariableIsRead(t *testing.T) {
	for _, st := range settings {
		v := map[kind]string{text: "x", path: "/x", boolean: "true", count: "3"}[st.kind]
		env := func(k string) string {
			if k == st.env {
				return v
			}
			return ""
		}
		var s history.Settings
		if _, err := applyEnv(&s, env, configBlock{}, ""); err != nil {
			t.Errorf("%s=%s: %v", st.env, v, err)
		}
		if got := fmt.Sprint(reflect.ValueOf(st.field(&s)).Elem().Interface()); got != map[kind]string{text: "x", path: "/x", boolean: "true", count: "3"}[st.kind] {
			t.Errorf("%s=%s gives %q", st.env, v, got)
		}
		if st.kind == boolean || st.kind == count {
			bad := func(k string) string {
				if k == st.env {
					return "many"
				}
				return ""
			}
			if _, err := applyEnv(&s, bad, configBlock{}, ""); err == nil || !strings.Contains(err.Error(), "invalid "+st.env+` "many"`) {
				t.Errorf("%s=many: %v", st.env, err)
			}
		}
	}
}

// A block's keys go to its own section's settings only: an OpenSearch URL in a kube context's
// block is not Hopsworks' URL.
func TestConfigBlocksKeepToTheirSection(t *testing.T) {
	cfg, err := parseConfig([]byte("opensearch: {url: https://os.default}\ncontexts:\n  prod: {opensearch: {url: https://os.prod, ca: /ca.pem}}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := resolveSettings(cfg, "prod", func(string) string { return "" }, nil)
	if err != nil || s.URL != "https://os.prod" || s.CAFile != "/ca.pem" || s.Hopsworks.URL != "" || s.Hopsworks.CAFile != "" || s.Hopsworks.Configured() {
		t.Errorf("settings %+v (Hopsworks %+v), err %v", s, s.Hopsworks, err)
	}
}
