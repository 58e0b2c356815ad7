//go:build integration

package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
)

// chromium runs Debian's Chromium headless on a local file with the network off (every host
// resolves to nothing, every request goes to a closed proxy), with extra flags.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium: %v (make chromium installs Debian's)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=3000"}
	out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// The report page opens in a real browser with the network off: its chart, its diagnosis and
// its log search are there and work (the search filters the lines); a hostile deployment's
// log lines and events show as text, and no script of theirs runs. A screenshot is taken.
func TestReportPageInABrowser(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := fixtures.PredictorCrashLoop(ns, "churn")
	hostile := []string{`<script>document.title='pwned'</script>`, `<img src=x onerror="document.title='pwned2'">`, `</pre><script>document.body.innerHTML=''</script>`}
	sc.Logs[1].Lines = append(append([]string{}, hostile...), sc.Logs[1].Lines...)
	sc.Events = append(sc.Events, fixtures.EventSpec{Pod: 0, Type: "Warning", Reason: "Evil", Message: `<script>document.title='pwned3'</script>`})
	e.Apply(t, sc)
	dir := t.TempDir()
	page := filepath.Join(dir, "churn.html")
	contains(t, "report", plugin(t, "report", "churn", "-n", ns, "-f", page).must(t).out, "wrote "+page)
	if fi, err := os.Stat(page); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the page: %v, mode %v", err, fi.Mode())
	}
	raw, _ := os.ReadFile(page)
	if regexp.MustCompile(`(?i)(src|href)=["']?(https?:)?//`).Match(raw) {
		t.Errorf("the page loads something from the network")
	}

	dom := chromium(t, "--dump-dom", "file://"+page+"#q=xgboost")
	title := regexp.MustCompile(`<title>([^<]*)</title>`).FindStringSubmatch(dom)
	if title == nil || strings.Contains(title[1], "pwned") || !strings.Contains(title[1], "churn") {
		t.Errorf("the page's title: %q: a script from the cluster ran", title)
	}
	for _, want := range []string{
		`id="chart"`, "pod predictor c9v5b", "CrashLoopBackOff", // the chart's lanes
		`id="diagnosis"`, "crashes on start", "ModuleNotFoundError: No module named 'xgboost'", // the diagnosis
		`id="search"`, "&lt;script&gt;document.title='pwned'&lt;/script&gt;", "&lt;img src=x onerror=", "Evil", // hostile text, as text
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page in the browser lacks %q", want)
		}
	}
	// The search ran in the browser: #q=xgboost hides every line without the word.
	count := regexp.MustCompile(`<span id="count">(\d+) of (\d+) lines</span>`).FindStringSubmatch(dom)
	if count == nil || count[1] == "0" || count[1] == count[2] {
		t.Errorf("the log search did not filter: %q", count)
	}
	if !strings.Contains(dom, `class="line hidden">&lt;script&gt;`) {
		t.Errorf("a line without the searched word is not hidden")
	}
	shot := filepath.Join(dir, "churn.png")
	chromium(t, "--screenshot="+shot, "--window-size=1280,2000", "file://"+page)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 10_000 {
		t.Errorf("screenshot: %v (%d bytes)", err, fi.Size())
	}
	t.Logf("screenshot: %s", shot)
}
