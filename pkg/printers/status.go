// Package printers renders reports for people: the status of a deployment and the list of
// deployments. Machine output (-o json|yaml|name|jsonpath) goes through cli-runtime's
// printers instead (see ToObject).
package printers

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fatih/color"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/duration"
)

// APIVersion and kinds of the plugin's machine-readable objects.
const (
	APIVersion = "hopsdeploy.hops.works/v1alpha1"
	KindStatus = "DeploymentStatus"
)

// Style colours words when colour is on; words always carry the meaning on their own.
type Style struct {
	good, warn, bad, dim, bold *color.Color
	Now                        time.Time
}

// NewStyle returns a Style with colour on or off.
func NewStyle(on bool) *Style {
	mk := func(a ...color.Attribute) *color.Color {
		c := color.New(a...)
		if on {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	return &Style{good: mk(color.FgGreen), warn: mk(color.FgYellow), bad: mk(color.FgRed, color.Bold), dim: mk(color.Faint), bold: mk(color.Bold), Now: time.Now()}
}

// StatusWord colours a Hopsworks status.
func (s *Style) StatusWord(status string) string {
	switch status {
	case "Running", "Idle", "Stopped":
		return s.good.Sprint(status)
	case "Failed":
		return s.bad.Sprint(status)
	}
	return s.warn.Sprint(status)
}

// Condition renders a condition as "TYPE true|false|unknown: reason".
func (s *Style) Condition(r *diagnose.Report) string {
	c := r.Condition
	word := "unknown"
	col := s.warn
	if c.Status != nil {
		word = fmt.Sprint(*c.Status)
		col = s.good
		if !*c.Status {
			col = s.bad
		}
	}
	return fmt.Sprintf("%s %s: %s", c.Type, col.Sprint(word), term.Sanitize(c.Reason))
}

// Age renders how long ago t was, as kubectl does.
func (s *Style) Age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(s.Now.Sub(t))
}

// Status prints the human view of a report. Every string of r is sanitised first (in a copy:
// term.Sanitized, r stays as it is), so that nothing read from the cluster reaches the
// terminal raw.
func Status(w io.Writer, r *diagnose.Report, s *Style) error {
	r = term.Sanitized(r)
	b := &strings.Builder{}
	s.statusHeader(b, r)
	s.statusPods(b, r)
	if isvc := r.InferenceService; isvc != nil {
		s.statusISVC(b, isvc)
	}
	s.statusEvents(b, r)
	if d := r.Diagnosis; d != nil {
		s.statusDiagnosis(b, d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// statusHeader is the name, the Hopsworks status, condition and instances, and where the
// status came from.
func (s *Style) statusHeader(b *strings.Builder, r *diagnose.Report) {
	model := ""
	if r.ModelName != "" {
		model = fmt.Sprintf(", model %s v%s", r.ModelName, r.ModelVersion)
	}
	tool := "KServe"
	if r.Tool == "DEFAULT" {
		tool = "DEFAULT tool,"
	}
	fmt.Fprintf(b, "%s %s\n", s.bold.Sprint(r.Name), s.dim.Sprintf("(namespace %s, %s %s%s)", r.Namespace, tool, r.Mode, model))
	fmt.Fprintf(b, "Status:     %s\n", s.StatusWord(r.Status))
	fmt.Fprintf(b, "Condition:  %s\n", s.Condition(r))
	var inst []string
	for _, c := range r.Components {
		inst = append(inst, fmt.Sprintf("%s %d/%d ready", c.Name, c.Ready, c.Instances))
	}
	fmt.Fprintf(b, "Instances:  %s\n", strings.Join(inst, ", "))
	if h := r.History; h != nil {
		fmt.Fprintf(b, "Last seen:  %s ago in OpenSearch (%s %s, at %s)\n", s.Age(h.At), h.Component, h.Container, h.At.UTC().Format(time.RFC3339))
	}
	if src := statusSource(r.StatusSource, r.StatusNote); src != "" {
		fmt.Fprintf(b, "Source:     %s\n", src)
	}
}

// statusPods is each component's pods and their containers.
func (s *Style) statusPods(b *strings.Builder, r *diagnose.Report) {
	for _, c := range r.Components {
		fmt.Fprintf(b, "\n%s\n", s.bold.Sprint(strings.ToUpper(c.Name)))
		if len(c.Pods) == 0 {
			fmt.Fprintf(b, "  no pods\n")
			continue
		}
		for _, p := range c.Pods {
			ready := "not ready"
			if p.Ready {
				ready = "ready"
			}
			fmt.Fprintf(b, "  pod %s  %s, %s, %d restarts, age %s\n", p.Name, s.podReason(p.Reason), ready, p.Restarts, s.Age(p.Created))
			tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
			for _, ct := range p.Containers {
				name := ct.Name
				if ct.Init {
					name += " (init)"
				}
				fmt.Fprintf(tw, "    %s\t%s\n", name, s.container(ct))
			}
			tw.Flush()
		}
	}
}

// statusISVC is what KServe wrote on the InferenceService.
func (s *Style) statusISVC(b *strings.Builder, isvc *diagnose.ISVCInfo) {
	fmt.Fprintf(b, "\n%s generation %d", s.bold.Sprint("INFERENCESERVICE"), isvc.Generation)
	if og := isvc.ObservedGeneration; og > 0 && og < isvc.Generation {
		fmt.Fprintf(b, " (its status is still generation %d's: KServe has not caught up)", og)
	}
	if isvc.Deleting {
		fmt.Fprint(b, ", being deleted")
	}
	fmt.Fprintln(b)
	if len(isvc.Conditions) == 0 {
		fmt.Fprintln(b, "  no conditions yet")
	}
	for _, c := range isvc.Conditions {
		line := fmt.Sprintf("  %s=%s", c.Type, c.Status)
		if c.Reason != "" || c.Message != "" {
			line += fmt.Sprintf("  %s %s", c.Reason, term.Sanitize(c.Message))
		}
		fmt.Fprintln(b, strings.TrimRight(line, " "))
	}
	if ms := isvc.ModelStatus; ms != nil {
		fmt.Fprintf(b, "  model: %s\n", term.Sanitize(ModelStatusLine(ms)))
	}
	for _, d := range isvc.Deployments {
		line := fmt.Sprintf("  deployment %s: %d/%d available, %d updated", d.Name, d.Available, d.Replicas, d.Updated)
		for _, c := range d.Conditions {
			line += fmt.Sprintf("; %s=%s", c.Type, c.Status)
			if c.Reason != "" {
				line += " " + c.Reason
			}
		}
		fmt.Fprintln(b, term.Sanitize(line))
	}
	for i := range isvc.Revisions {
		fmt.Fprintln(b, term.Sanitize("  "+revisionLine(&isvc.Revisions[i])))
	}
}

// revisionLine is one Knative revision: its component, its conditions that are not True, and
// the scale its PodAutoscaler wants and has.
func revisionLine(r *state.Revision) string {
	line := fmt.Sprintf("revision %s (%s):", r.Name, r.Component)
	if c := r.Condition("Ready"); c != nil {
		line += strings.TrimRight(" Ready="+c.Status+" "+c.Reason, " ")
	}
	for _, c := range r.Conditions {
		if c.Status != "True" && c.Type != "Ready" {
			line += strings.TrimRight(fmt.Sprintf("; %s=%s %s", c.Type, c.Status, c.Reason), " ")
		}
	}
	if r.DesiredScale != nil || r.ActualScale != nil {
		scale := func(v *int64) string {
			switch {
			case v == nil:
				return "?"
			case *v < 0:
				return "undecided"
			}
			return fmt.Sprint(*v)
		}
		line += fmt.Sprintf("; scale %s wanted, %s actual", scale(r.DesiredScale), scale(r.ActualScale))
	}
	return strings.TrimRight(line, " ")
}

// statusEvents is the newest ten warnings, the metrics noise folded into one line.
func (s *Style) statusEvents(b *strings.Builder, r *diagnose.Report) {
	fmt.Fprintf(b, "\n%s\n", s.bold.Sprint("EVENTS (warnings, newest first)"))
	events, noise := diagnose.WithoutMetricsNoise(r.Events)
	if len(events) == 0 && len(noise) == 0 {
		fmt.Fprintln(b, "  none")
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	for i, e := range events {
		if i == 10 {
			fmt.Fprintf(tw, "  ... %d more (-o json shows all)\n", len(events)-10)
			break
		}
		fmt.Fprintf(tw, "  %s ago\tx%d\t%s\t%s\t%s\n", s.Age(e.LastSeen), e.Count, e.Object, s.warn.Sprint(e.Reason), term.Sanitize(e.Message))
	}
	tw.Flush()
	if line := diagnose.NoiseLine(noise); line != "" {
		fmt.Fprintf(b, "  %s\n", line)
	}
}

// statusDiagnosis is the cause, its evidence, the log lines that back it and the next step.
func (s *Style) statusDiagnosis(b *strings.Builder, d *diagnose.Diagnosis) {
	fmt.Fprintf(b, "\n%s\n", s.bold.Sprint("DIAGNOSIS"))
	cause := s.bad.Sprint(term.Sanitize(d.Cause))
	if d.Healthy {
		cause = s.good.Sprint(term.Sanitize(d.Cause))
	}
	fmt.Fprintf(b, "  %s\n", cause)
	for _, e := range d.Evidence {
		fmt.Fprintf(b, "  - %s\n", term.Sanitize(e))
	}
	if l := d.Logs; l != nil && len(l.Lines) > 0 {
		inst := "current"
		if l.Previous {
			inst = "previous"
		}
		fmt.Fprintf(b, "  last lines of %s (%s instance) in %s:\n", l.Container, inst, l.Pod)
		for _, line := range l.Lines {
			fmt.Fprintf(b, "    | %s\n", term.Sanitize(line))
		}
	}
	fmt.Fprintf(b, "  Next: %s\n", d.Next)
}

func (s *Style) podReason(r string) string {
	switch {
	case r == "Running":
		return s.good.Sprint(r)
	case strings.Contains(r, "BackOff") || strings.Contains(r, "Err") || strings.Contains(r, "Unschedulable") || strings.Contains(r, "OOM") || strings.HasPrefix(r, "Init:E"):
		return s.bad.Sprint(r)
	}
	return s.warn.Sprint(r)
}

func (s *Style) container(c diagnose.ContainerInfo) string {
	var parts []string
	switch c.State {
	case "running":
		st := "running"
		if c.Since != nil {
			st += " for " + s.Age(*c.Since)
		}
		if c.Ready {
			parts = append(parts, s.good.Sprint(st)+", ready")
		} else {
			parts = append(parts, st+", "+s.warn.Sprint("not ready"))
		}
	case "waiting":
		w := "waiting"
		if c.Reason != "" {
			w += " " + c.Reason
		}
		col := s.warn
		if c.Reason == "CrashLoopBackOff" || strings.Contains(c.Reason, "Err") || strings.Contains(c.Reason, "BackOff") {
			col = s.bad
		}
		parts = append(parts, col.Sprint(w))
		if c.Message != "" {
			parts = append(parts, term.Sanitize(c.Message))
		}
	case "terminated":
		t := fmt.Sprintf("terminated %s, exit %d", c.Reason, deref(c.ExitCode))
		if deref(c.ExitCode) == 0 {
			parts = append(parts, t)
		} else {
			parts = append(parts, s.bad.Sprint(t))
		}
	}
	if c.Restarts > 0 {
		parts = append(parts, fmt.Sprintf("%d restarts", c.Restarts))
	}
	if l := c.Last; l != nil {
		sig := ""
		if l.Signal != "" {
			sig = ", " + l.Signal
		}
		parts = append(parts, fmt.Sprintf("last: %s exit %d%s %s ago", l.Reason, l.ExitCode, sig, s.Age(l.FinishedAt)))
	}
	return strings.Join(parts, "; ")
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// ToObject turns any report into an unstructured object for cli-runtime's printers, with the
// plugin's apiVersion and the given kind.
func ToObject(v any, kind string) (*unstructured.Unstructured, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion(APIVersion)
	u.SetKind(kind)
	return u, nil
}

// StatusChange prints one line of `status --watch`: the time, the status, the condition and
// the instances, or that nothing is left in the cluster (r nil).
func StatusChange(w io.Writer, at time.Time, r *diagnose.Report, s *Style) error {
	r = term.Sanitized(r)
	ts := at.UTC().Format(time.RFC3339)
	if r == nil {
		_, err := fmt.Fprintf(w, "%s  %s  nothing left in the cluster\n", ts, s.StatusWord("Stopped"))
		return err
	}
	_, err := fmt.Fprintf(w, "%s  %-8s  %s  (instances %d)\n", ts, s.StatusWord(r.Status), s.Condition(r), r.AvailableInstances)
	return err
}

// ModelStatusLine renders KServe's status.modelStatus in words: the transition, the model's
// active and target states, the copies, and the last failure with its exit code.
func ModelStatusLine(ms map[string]any) string {
	str := func(path ...string) string {
		v, _, _ := unstructured.NestedFieldNoCopy(ms, path...)
		switch x := v.(type) {
		case string:
			return x
		case int64, float64:
			return fmt.Sprint(x)
		}
		return ""
	}
	var parts []string
	if t := str("transitionStatus"); t != "" {
		parts = append(parts, t)
	}
	if a := str("states", "activeModelState"); a != "" {
		state := a
		if tg := str("states", "targetModelState"); tg != "" && tg != a {
			state += " (target " + tg + ")"
		}
		parts = append(parts, state)
	}
	if n := str("copies", "totalCopies"); n != "" {
		c := n + " copies"
		if f := str("copies", "failedCopies"); f != "" && f != "0" {
			c += ", " + f + " failed"
		}
		parts = append(parts, c)
	}
	if _, ok, _ := unstructured.NestedMap(ms, "lastFailureInfo"); ok {
		f := "last failure"
		if r := str("lastFailureInfo", "reason"); r != "" {
			f += ": " + r
		}
		if code := str("lastFailureInfo", "exitCode"); code != "" {
			f += " exit " + code
		}
		if m := str("lastFailureInfo", "message"); m != "" {
			f += ": " + m
		}
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		j, _ := json.Marshal(ms)
		return string(j)
	}
	return strings.Join(parts, "; ")
}

// statusSource says where a gone deployment's status comes from, on one line.
func statusSource(source, note string) string {
	switch {
	case source == diagnose.StatusFromHopsworks && note == "":
		return "Hopsworks (it holds the deployment, stopped)"
	case source == diagnose.StatusFromHopsworks:
		return "Hopsworks: " + term.Sanitize(note)
	case source == diagnose.StatusFromHistory:
		return "inferred from history: " + term.Sanitize(note)
	}
	return ""
}
