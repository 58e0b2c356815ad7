package printers_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

// The page escapes everything read from the cluster, runs only its own script (its hash in
// the page's Content-Security-Policy), and loads nothing from the network.
func TestReportPageIsSelfContainedAndEscaped(t *testing.T) {
	snap := fixtures.Catalog("demo")["predictorcrash"].Snapshot(now)
	evil := `<script>alert('x')</script>`
	snap.Events[0].Message = evil
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	r.Diagnosis.Evidence = append(r.Diagnosis.Evidence, evil)
	var b bytes.Buffer
	err := printers.ReportHTML(&b, printers.Page{Report: r, Chart: diagnose.BuildChart(snap), Taken: now, Version: "test",
		Logs: map[string][]string{"p/kserve-container.log": {evil, "\x1b[31mred\x1b[0m", "ok line"}}})
	if err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Count(page, "<script>") != 1 || strings.Contains(page, evil) || !strings.Contains(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") {
		t.Errorf("a value read from the cluster is not escaped, or more than the page's own script is there")
	}
	if strings.Contains(page, "\x1b") {
		t.Error("a control sequence reached the page")
	}
	if regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//|@import|url\(`).MatchString(page) {
		t.Error("the page loads something from elsewhere")
	}
	script, _ := os.ReadFile("html/search.js")
	sum := sha256.Sum256(script)
	if !strings.Contains(page, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(page, "<script>"+string(script)+"</script>") {
		t.Error("the page's script is not the one its Content-Security-Policy allows")
	}
	for _, want := range []string{`id="chart"`, "pod predictor c9v5b", `id="diagnosis"`, "crashes on start", `id="search"`, "ok line"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if os.Getenv("HOPSDEPLOY_WRITE_PAGE") != "" {
		_ = os.WriteFile(os.Getenv("HOPSDEPLOY_WRITE_PAGE"), b.Bytes(), 0o600)
	}
}
