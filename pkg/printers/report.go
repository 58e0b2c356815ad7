package printers

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

//go:embed html/report.html.tmpl html/search.js
var pageFiles embed.FS

// pageTemplate is the report page. html/template escapes every value read from the cluster,
// a log or a bundle as text; the only script is the page's own, allowed by its hash in the
// page's Content-Security-Policy, so that even a value that escaped would not run.
var pageTemplate = template.Must(template.ParseFS(pageFiles, "html/report.html.tmpl"))

// Page is what the report page shows: the status and diagnosis, the timeline chart, the
// events, and the container logs (scrubbed, in a bundle) with a search box.
type Page struct {
	Report  *diagnose.Report
	Chart   diagnose.Chart
	Logs    map[string][]string // by bundle.LogKey
	History []string
	Taken   time.Time
	Version string
}

type pageLog struct {
	Name  string
	Lines []string
}

// ReportHTML writes the page: one self-contained file (no network, no external script, style
// or font), which a browser opens as it is.
func ReportHTML(w io.Writer, p Page) error {
	script, err := pageFiles.ReadFile("html/search.js")
	if err != nil {
		return err
	}
	sum := sha256.Sum256(script)
	var chart strings.Builder
	if err := Chart(&chart, p.Chart, ChartOptions{Width: 150, Fancy: true}); err != nil {
		return err
	}
	names := make([]string, 0, len(p.Logs))
	for k := range p.Logs {
		names = append(names, k)
	}
	sort.Strings(names)
	var logs []pageLog
	for _, k := range names {
		logs = append(logs, pageLog{Name: k, Lines: p.Logs[k]})
	}
	r := p.Report
	status := "unknown"
	if s := r.Condition.Status; s != nil {
		status = map[bool]string{true: "true", false: "false"}[*s]
	}
	var b bytes.Buffer
	err = pageTemplate.Execute(&b, map[string]any{
		"R": term.Sanitized(r), "ConditionStatus": status, "Chart": chart.String(),
		"Logs": term.Sanitized(logs), "History": term.Sanitized(p.History),
		"Taken": p.Taken.UTC().Format(time.RFC3339), "Version": p.Version,
		"Script": template.JS(script), "ScriptHash": "sha256-" + base64.StdEncoding.EncodeToString(sum[:]),
	})
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}
