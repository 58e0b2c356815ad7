//go:build integration

package integration

import (
	"bytes"

	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	"github.com/xeipuuv/gojsonschema"
	"sigs.k8s.io/yaml"
)

// k9sPlugin is k9s's Plugin (internal/config/plugin.go), to decode the file as k9s does.
type k9sPlugin struct {
	Scopes          []string `json:"scopes"`
	Args            []string `json:"args"`
	ShortCut        string   `json:"shortCut"`
	Override        bool     `json:"override"`
	Pipes           []string `json:"pipes"`
	Description     string   `json:"description"`
	Command         string   `json:"command"`
	Confirm         bool     `json:"confirm"`
	Background      bool     `json:"background"`
	Dangerous       bool     `json:"dangerous"`
	OverwriteOutput bool     `json:"overwriteOutput"`
}

// k9sEnvRX is k9s's argument substitution (internal/view/env.go): $XXX, ${XXX}.
var k9sEnvRX = regexp.MustCompile(`(\$(!?)([\w\-]+))|(\$\{(!?)([\w\-%/: ]+)})`)

// k9sSubstitute substitutes as k9s's Env.Substitute does: longest keys first, unknown ones
// left as they are (the shell's own variables).
func k9sSubstitute(arg string, env map[string]string) string {
	matches := k9sEnvRX.FindAllStringSubmatch(arg, -1)
	sort.Slice(matches, func(i, j int) bool { return len(matches[i][0]) > len(matches[j][0]) })
	for _, m := range matches {
		key := m[3]
		if m[1] == "" {
			key = m[6]
		}
		if v, ok := env[strings.ToUpper(key)]; ok {
			arg = strings.ReplaceAll(arg, m[0], v)
		}
	}
	return arg
}

// The k9s plugin file is what k9s reads: it passes k9s's own schemas (from k9s's module, as
// k9s validates a plugin file: whole, snippet or multi-snippet), decodes into k9s's Plugin
// with unknown fields refused, and each entry, its arguments substituted as k9s substitutes
// them, runs against a cluster with the real kubectl and prints what the plugin prints.
func TestK9sPlugins(t *testing.T) {
	e := testenv.Get(t)
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "contrib", "k9s", "hopsdeploy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := yaml.YAMLToJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	var valid bool
	var errs []string
	for _, schema := range []string{"plugins.json", "plugin.json", "plugin-multi.json"} {
		s, err := os.ReadFile(filepath.Join(e.Assets, "k9s-schemas", schema))
		if err != nil {
			t.Fatalf("k9s's schema %s: %v (make testbin fetches it)", schema, err)
		}
		res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(s), gojsonschema.NewBytesLoader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if res.Valid() {
			valid = schema == "plugins.json"
			break
		}
		for _, re := range res.Errors() {
			errs = append(errs, schema+": "+re.String())
		}
	}
	if !valid {
		t.Fatalf("k9s would refuse the file: %s", strings.Join(errs, "; "))
	}
	var file struct {
		Plugins map[string]k9sPlugin `json:"plugins"`
	}
	if err := yaml.UnmarshalStrict(raw, &file); err != nil {
		t.Fatalf("k9s decodes it with unknown fields refused: %v", err)
	}

	// A deployment to run them on.
	ns := e.Namespace(t)
	sc := fixtures.PredictorCrashLoop(ns, "churn")
	e.Apply(t, sc)
	kubectl, env := kubectlPath(t)
	path := filepath.Dir(kubectl) + string(os.PathListSeparator) + strings.TrimPrefix(env[0], "PATH=")
	ctxName := strings.TrimSpace(run(t, kubectl, env, "config", "current-context"))
	k9sEnv := map[string]string{"NAMESPACE": ns, "CONTEXT": ctxName}
	seen := map[string]bool{}
	for name, p := range file.Plugins {
		if p.Background || len(p.Scopes) == 0 {
			t.Errorf("%s: background %v, scopes %v", name, p.Background, p.Scopes)
		}
		seen[p.Scopes[0]+" "+p.ShortCut] = true
		if strings.Contains(strings.Join(p.Args, " "), " -f") {
			continue // following never ends; its arguments are the ones checked below
		}
		k9sEnv["NAME"] = "churn"
		if p.Scopes[0] == "pods" {
			k9sEnv["NAME"] = sc.PodNames()[0]
		}
		var args []string
		for _, a := range p.Args {
			args = append(args, k9sSubstitute(a, k9sEnv))
		}
		cmd := exec.Command(p.Command, args...)
		cmd.Env = append(os.Environ(), "PATH="+path, env[1], "NO_COLOR=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		t.Logf("%s (%s on %s): %s %q\n%s", name, p.ShortCut, p.Scopes[0], p.Command, args, out.String())
		if err != nil || !strings.Contains(out.String(), "churn") {
			t.Errorf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, out.String(), errb.String())
		}
	}
	for _, want := range []string{"inferenceservices Shift-Y", "inferenceservices Shift-L", "inferenceservices Shift-K", "pods Shift-Y", "pods Shift-L"} {
		if !seen[want] {
			t.Errorf("no plugin for %s: %v", want, seen)
		}
	}
}

// run runs a command and returns its stdout, failing the test on an error.
func run(t *testing.T, name string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}
