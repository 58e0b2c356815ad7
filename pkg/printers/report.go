package printers

import (
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

//go:embed html/report.css html/search.js
var pageFiles embed.FS

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
	r := term.Sanitized(p.Report)
	status := "unknown"
	if s := r.Condition.Status; s != nil {
		status = map[bool]string{true: "true", false: "false"}[*s]
	}
	style, err := pageFiles.ReadFile("html/report.css")
	if err != nil {
		return err
	}
	// Every value read from the cluster, a log or a bundle is escaped as text (esc); the
	// page's own style and script are written as they are.
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src '`)
	b.WriteString("sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	fmt.Fprintf(&b, "<title>%s (%s): %s</title>\n<style>\n%s</style>\n</head>\n<body>\n", esc(r.Name), esc(r.Namespace), esc(r.Status), style)
	fmt.Fprintf(&b, "<h1 id=\"title\">%s <span class=\"meta\">namespace %s</span></h1>\n", esc(r.Name), esc(r.Namespace))
	fmt.Fprintf(&b, "<p><span id=\"status\" class=\"status %s\">%s</span>\n condition %s %s: %s\n", esc(r.Status), esc(r.Status), esc(string(r.Condition.Type)), status, esc(r.Condition.Reason))
	fmt.Fprintf(&b, " <span class=\"meta\">· taken %s by kubectl hopsdeploy %s</span></p>\n\n", p.Taken.UTC().Format(time.RFC3339), esc(p.Version))

	b.WriteString("<h2>Diagnosis</h2>\n<div id=\"diagnosis\">\n")
	if d := r.Diagnosis; d != nil {
		fmt.Fprintf(&b, "<p class=\"cause\">%s</p>\n<ul>", esc(d.Cause))
		for _, e := range d.Evidence {
			fmt.Fprintf(&b, "<li>%s</li>", esc(e))
		}
		b.WriteString("</ul>\n")
		if l := d.Logs; l != nil && len(l.Lines) > 0 {
			fmt.Fprintf(&b, "<p class=\"meta\">last lines of %s in %s</p><pre>", esc(l.Container), esc(l.Pod))
			for _, line := range l.Lines {
				b.WriteString(esc(line) + "\n")
			}
			b.WriteString("</pre>")
		}
		fmt.Fprintf(&b, "\n<p class=\"next\">Next: %s</p>", esc(d.Next))
	}
	fmt.Fprintf(&b, "\n</div>\n\n<h2>Timeline</h2>\n<pre id=\"chart\">%s</pre>\n\n", esc(chart.String()))

	b.WriteString("<h2>Events</h2>\n<table id=\"events\"><tr><th>last seen</th><th>count</th><th>type</th><th>object</th><th>reason</th><th>message</th></tr>\n")
	for _, e := range r.Events {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			e.LastSeen.UTC().Format("2006-01-02 15:04:05"), e.Count, esc(e.Type), esc(e.Object), esc(e.Reason), esc(e.Message))
	}
	b.WriteString("</table>\n\n<h2>Logs</h2>\n")
	b.WriteString(`<p><input id="search" type="search" placeholder="search the logs" aria-label="search the logs"><span id="count"></span></p>` + "\n<div id=\"logs\">\n")
	logBlock := func(name string, lines []string) {
		fmt.Fprintf(&b, "<div class=\"log\"><div class=\"meta\">%s</div>", esc(name))
		for _, line := range lines {
			fmt.Fprintf(&b, "<div class=\"line\">%s</div>", esc(line))
		}
		b.WriteString("</div>")
	}
	for _, k := range names {
		logBlock(term.Sanitize(k), term.Sanitized(p.Logs[k]))
		b.WriteString("\n")
	}
	if len(p.History) > 0 {
		logBlock("history (OpenSearch) around the last failure", term.Sanitized(p.History))
	}
	fmt.Fprintf(&b, "\n</div>\n<script>%s</script>\n</body>\n</html>\n", script)
	_, err = io.WriteString(w, b.String())
	return err
}

// esc is s as HTML text, or as a quoted attribute's value.
func esc(s string) string { return html.EscapeString(s) }
