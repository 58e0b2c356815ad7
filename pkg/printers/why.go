package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// Why prints the human view of a why report: the start sequence, the step that fails, the
// cause, the evidence from every source, the last lines and the next step.
func Why(out io.Writer, w *diagnose.Why, s *Style) error {
	w = term.Sanitized(w) // a copy: the caller's report stays as it is
	b := &strings.Builder{}
	fmt.Fprintf(b, "%s (namespace %s): %s\n", w.Name, w.Namespace, s.StatusWord(w.Status))
	if src := statusSource(w.StatusSource, w.StatusNote); src != "" {
		fmt.Fprintf(b, "Source: %s\n", src)
	}
	fmt.Fprintln(b)
	if w.Pod != "" {
		fmt.Fprintf(b, "START SEQUENCE of pod %s\n", w.Pod)
	} else {
		fmt.Fprintln(b, "START SEQUENCE")
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	marks := map[diagnose.StepState]string{diagnose.StepPassed: "[ok]", diagnose.StepFailed: "[FAILED]", diagnose.StepInProgress: "[...]", diagnose.StepNotReached: "[ ]"}
	for _, st := range w.Steps {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", marks[st.State], st.Name, st.State, term.Sanitize(st.Detail))
	}
	_ = tw.Flush()
	if w.FailingStep != "" {
		fmt.Fprintf(b, "\nSTEP THAT FAILS: %s\n", w.FailingStep)
	}
	coldStarts(b, w.ColdStart)
	d := w.Diagnosis
	fmt.Fprintf(b, "\nCAUSE\n  %s\n", term.Sanitize(d.Cause))
	fmt.Fprintln(b, "\nEVIDENCE")
	for _, e := range d.Evidence {
		fmt.Fprintf(b, "  - %s\n", term.Sanitize(e))
	}
	for _, c := range w.Conditions {
		fmt.Fprintf(b, "  - condition %s\n", strings.TrimSpace(term.Sanitize(c)))
	}
	for _, c := range w.Containers {
		fmt.Fprintf(b, "  - container %s\n", term.Sanitize(c))
	}
	shown := strings.Join(d.Evidence, "\n")
	events, noise := diagnose.WithoutMetricsNoise(w.Events)
	for i, e := range events {
		if i == 5 {
			break
		}
		if strings.Contains(shown, e.Message) {
			continue // already quoted above
		}
		fmt.Fprintf(b, "  - event %s x%d on %s: %s\n", term.Sanitize(e.Reason), e.Count, term.Sanitize(e.Object), term.Sanitize(e.Message))
	}
	if line := diagnose.NoiseLine(noise); line != "" {
		fmt.Fprintf(b, "  - %s\n", line)
	}
	if l := d.Logs; l != nil && len(l.Lines) > 0 {
		fmt.Fprintf(b, "\nLAST LINES of %s (%s)\n", term.Sanitize(l.Container), w.LogSource)
		for _, line := range l.Lines {
			fmt.Fprintf(b, "  | %s\n", term.Sanitize(line))
		}
	}
	for _, cw := range w.LastWords {
		fmt.Fprintf(b, "\nLAST WORDS of the %s in OpenSearch (the last at %s)\n", cw.Component, cw.At.UTC().Format(time.RFC3339))
		for _, line := range cw.Lines {
			fmt.Fprintf(b, "  | %s\n", line)
		}
		if len(cw.Traceback) > 0 && !containsRun(cw.Lines, cw.Traceback) {
			fmt.Fprintln(b, "  last traceback:")
			for _, line := range cw.Traceback {
				fmt.Fprintf(b, "  | %s\n", line)
			}
		}
	}
	// The traceback once: in the last lines when they hold all of it, else on its own.
	if len(w.Traceback) > 0 && (d.Logs == nil || !containsRun(d.Logs.Lines, w.Traceback)) {
		fmt.Fprintln(b, "\nPYTHON TRACEBACK")
		for _, line := range w.Traceback {
			fmt.Fprintf(b, "  | %s\n", term.Sanitize(line))
		}
	}
	fmt.Fprintf(b, "\nNEXT STEP\n  %s\n", term.Sanitize(d.Next))
	_, err := io.WriteString(out, b.String())
	return err
}

// Timeline prints timeline entries as a table, oldest first.
func Timeline(out io.Writer, entries []diagnose.Entry) error {
	entries = term.Sanitized(entries)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tKIND\tOBJECT\tWHAT")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), e.Kind, term.Sanitize(e.Object), term.Sanitize(strings.TrimSpace(e.What)))
	}
	return tw.Flush()
}

// LastWords prints each dead container instance with its exit and final lines; sanitize
// neutralises control sequences in the lines (on a terminal).
func LastWords(out io.Writer, deaths []diagnose.Death, sanitize bool) error {
	b := &strings.Builder{}
	for _, d := range deaths {
		sig := ""
		if d.Signal != "" {
			sig = ", " + d.Signal
		}
		fmt.Fprintf(b, "== %s %s: %s (exit %d%s) at %s, %s instance ==\n", term.Sanitize(d.Pod), term.Sanitize(d.Container), term.Sanitize(d.Reason),
			d.ExitCode, sig, d.At.UTC().Format(time.RFC3339), d.Instance)
		for _, l := range d.Lines {
			if sanitize {
				l = term.Sanitize(l)
			}
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// coldStarts prints the anatomy of each pod's start: each step and how long it took.
func coldStarts(b *strings.Builder, starts []diagnose.ColdStart) {
	for _, cs := range starts {
		if len(cs.Phases) == 0 {
			continue
		}
		total := "so far, not ready"
		if cs.Ready {
			total = "to ready"
		}
		fmt.Fprintf(b, "\nCOLD START of pod %s (%s %s)\n", cs.Pod, diagnose.Seconds(cs.Seconds), total)
		var table strings.Builder
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		for _, ph := range cs.Phases {
			took := diagnose.Seconds(ph.Seconds)
			switch {
			case ph.Unknown:
				took = "?"
			case ph.Ongoing():
				took += " so far"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", ph.Name, took, term.Sanitize(ph.Detail))
		}
		_ = tw.Flush()
		for _, line := range strings.SplitAfter(table.String(), "\n") {
			b.WriteString(strings.TrimRight(line, " \n"))
			if strings.HasSuffix(line, "\n") {
				b.WriteByte('\n')
			}
		}
		if cs.Probe != "" {
			fmt.Fprintf(b, "  %s\n", cs.Probe)
		}
	}
}

// LastWordsJSON prints each death as one JSON object per line, every character a terminal
// may act on escaped.
func LastWordsJSON(out io.Writer, deaths []diagnose.Death) error {
	var b bytes.Buffer
	for _, d := range deaths {
		j, err := json.Marshal(d)
		if err != nil {
			return err
		}
		b.Write(EscapeJSON(j))
		b.WriteByte('\n')
	}
	_, err := out.Write(b.Bytes())
	return err
}

// containsRun tells whether run occurs in lines as consecutive lines.
func containsRun(lines, run []string) bool {
	for i := 0; i+len(run) <= len(lines); i++ {
		if slices.Equal(lines[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
