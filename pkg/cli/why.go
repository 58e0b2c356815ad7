package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
)

// whyReport is `why -o json`.
type whyReport struct {
	Name        string                  `json:"name"`
	Namespace   string                  `json:"namespace"`
	Status      string                  `json:"status"`
	Condition   any                     `json:"condition"`
	Pod         string                  `json:"pod,omitempty"`
	Steps       []diagnose.Step         `json:"steps"`
	FailingStep string                  `json:"failing_step,omitempty"`
	Diagnosis   *diagnose.Diagnosis     `json:"diagnosis"`
	Conditions  []string                `json:"conditions"`
	Containers  []string                `json:"containers"`
	Events      []diagnose.EventSummary `json:"events"`
	LogSource   string                  `json:"log_source,omitempty"`
	Traceback   []string                `json:"traceback,omitempty"`
}

func newWhyCommand(g *Globals) *cobra.Command {
	var output string
	var logLines int64
	cmd := &cobra.Command{
		Use:   "why NAME",
		Short: "Walk a deployment's start sequence, name the step that fails, show the evidence and the next step",
		Long: `Walk the start sequence (SCHEDULED, INITIALIZED, STARTED, READY) of the pod that got least
far, name the step that fails, and show the evidence from every source: pod and
InferenceService conditions, events, container states, and the last lines of the failing
container (its current or previous instance, or OpenSearch when the pod is gone), with the
Python traceback when there is one; then one concrete next step.`,
		Example:           "  kubectl hopsdeploy why fraud -n my-project\n  kubectl hopsdeploy why fraud -o json | jq .failing_step",
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("why needs a deployment NAME: kubectl hopsdeploy why NAME")
			}
			if output != "" && output != "json" {
				return usageErr("invalid -o %q: use json", output)
			}
			if logLines < 0 {
				return usageErr("invalid --log-lines %d: it must not be negative", logLines)
			}
			ctx := cmd.Context()
			c, ns, err := g.clientsAndNamespace(ctx)
			if err != nil {
				return err
			}
			w, err := explain(ctx, c, ns, args[0], logLines)
			if err != nil {
				return err
			}
			if output == "json" {
				b, _ := json.MarshalIndent(w, "", "    ")
				fmt.Fprintln(g.Streams.Out, string(b))
				return nil
			}
			style, err := g.Style()
			if err != nil {
				return err
			}
			printWhy(g, w, style.StatusWord)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json")
	cmd.Flags().Int64Var(&logLines, "log-lines", 20, "how many lines of the failing container to show")
	return cmd
}

// clientsAndNamespace is the usual start of a command.
func (g *Globals) clientsAndNamespace(ctx context.Context) (*cluster.Clients, string, error) {
	c, err := g.Clients()
	if err != nil {
		return nil, "", err
	}
	ns, err := g.Namespace(ctx, c)
	return c, ns, err
}

// gatherAllEvents reads a deployment with events of every type (timelines and bundles want
// the Normal ones too: Scheduled, Pulled, Started, Killing).
func (g *Globals) gatherAllEvents(ctx context.Context, name string) (*cluster.Clients, string, *state.Snapshot, error) {
	c, ns, err := g.clientsAndNamespace(ctx)
	if err != nil {
		return nil, "", nil, err
	}
	c.AllEvents = true
	snap, err := c.Gather(ctx, ns, name)
	return c, ns, snap, err
}

// explain gathers the deployment and builds the why report.
func explain(ctx context.Context, c *cluster.Clients, ns, name string, logLines int64) (*whyReport, error) {
	snap, err := c.Gather(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	r := diagnose.Build(snap)
	d := diagnose.Diagnose(snap, r)
	pod, steps := diagnose.Steps(snap)
	w := &whyReport{Name: name, Namespace: ns, Status: r.Status, Condition: r.Condition, Pod: pod, Steps: steps, Diagnosis: d, Events: r.Events}
	for _, st := range steps {
		if st.State == diagnose.StepFailed || st.State == diagnose.StepInProgress {
			w.FailingStep = st.Name
			break
		}
	}
	in := state.FromCluster(snap)
	for i := range in.Pods {
		p := &in.Pods[i]
		if pod != "" && p.Name != pod {
			continue
		}
		for _, cd := range p.Status.Conditions {
			if cd.Status != corev1.ConditionTrue {
				w.Conditions = append(w.Conditions, fmt.Sprintf("pod %s %s=%s %s %s", p.Name, cd.Type, cd.Status, cd.Reason, cd.Message))
			}
		}
	}
	// The report already describes every pod's containers.
	for _, ct := range r.Components {
		for _, pi := range ct.Pods {
			if pod != "" && pi.Name != pod {
				continue
			}
			for _, ci := range pi.Containers {
				w.Containers = append(w.Containers, containerLine(ci))
			}
		}
	}
	if r.InferenceService != nil {
		for _, cd := range r.InferenceService.Conditions {
			if cd.Status != "True" {
				w.Conditions = append(w.Conditions, fmt.Sprintf("InferenceService %s=%s %s %s", cd.Type, cd.Status, cd.Reason, cd.Message))
			}
		}
	}
	// The failing container's last lines: live, or from OpenSearch when the pod is gone.
	if l := d.Logs; l != nil && logLines > 0 {
		lines, err := c.TailLog(ctx, ns, l.Pod, l.Container, l.Previous, logLines)
		if err != nil {
			d.Evidence = append(d.Evidence, "could not read the log: "+err.Error())
		}
		d.AttachLogs(lines)
		w.LogSource = "live"
		if l.Previous {
			w.LogSource = "previous instance"
		}
	} else if len(in.Pods) == 0 && logLines > 0 && os.Getenv("HOPSDEPLOY_OPENSEARCH_URL") != "" {
		if lines := lastHistoryLines(ctx, ns, name, int(logLines)); len(lines) > 0 {
			d.Logs = &diagnose.LogExcerpt{Container: state.ContainerMain}
			d.AttachLogs(lines)
			w.LogSource = "OpenSearch (the pods are gone)"
		}
	}
	if d.Logs != nil {
		w.Traceback = diagnose.Traceback(d.Logs.Lines)
	}
	return w, nil
}

// lastHistoryLines reads the predictor's last lines from OpenSearch, configured by the
// environment and the config file; failures leave the report without them.
func lastHistoryLines(ctx context.Context, ns, name string, n int) []string {
	r := envHistoryReader()
	if r == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lines, err := r.Tail(ctx, history.Query{Index: history.IndexPattern(ns), Deployment: name, Components: []string{"predictor"}, Containers: []string{state.ContainerMain}}, n)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.Message)
	}
	return out
}

// envHistoryReader is an OpenSearch reader set up by the environment and the config file
// alone (for commands without the OpenSearch flags), or nil when none is configured.
func envHistoryReader() *history.Reader {
	cfg, _ := history.LoadConfig(history.ConfigPath())
	s, err := history.Resolve(cfg, "", os.Getenv, history.Settings{}, func(string) bool { return false })
	if err != nil || s.URL == "" {
		return nil
	}
	r, err := history.NewReader(s)
	if err != nil {
		return nil
	}
	return r
}

func containerLine(c diagnose.ContainerInfo) string {
	s := fmt.Sprintf("%s: %s", c.Name, c.State)
	if c.Reason != "" {
		s += " " + c.Reason
	}
	if c.Restarts > 0 {
		s += fmt.Sprintf(", %d restarts", c.Restarts)
	}
	if l := c.Last; l != nil {
		s += fmt.Sprintf(", last %s exit %d", l.Reason, l.ExitCode)
	}
	return s
}

func printWhy(g *Globals, w *whyReport, statusWord func(string) string) {
	out := g.Streams.Out
	fmt.Fprintf(out, "%s (namespace %s): %s\n\n", w.Name, w.Namespace, statusWord(w.Status))
	if w.Pod != "" {
		fmt.Fprintf(out, "START SEQUENCE of pod %s\n", w.Pod)
	} else {
		fmt.Fprintln(out, "START SEQUENCE")
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, st := range w.Steps {
		mark := map[diagnose.StepState]string{diagnose.StepPassed: "[ok]", diagnose.StepFailed: "[FAILED]", diagnose.StepInProgress: "[...]", diagnose.StepNotReached: "[ ]"}[st.State]
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", mark, st.Name, st.State, term.Sanitize(st.Detail))
	}
	tw.Flush()
	if w.FailingStep != "" {
		fmt.Fprintf(out, "\nSTEP THAT FAILS: %s\n", w.FailingStep)
	}
	d := w.Diagnosis
	fmt.Fprintf(out, "\nCAUSE\n  %s\n", term.Sanitize(d.Cause))
	fmt.Fprintln(out, "\nEVIDENCE")
	for _, e := range d.Evidence {
		fmt.Fprintf(out, "  - %s\n", term.Sanitize(e))
	}
	for _, c := range w.Conditions {
		fmt.Fprintf(out, "  - condition %s\n", strings.TrimSpace(term.Sanitize(c)))
	}
	for _, c := range w.Containers {
		fmt.Fprintf(out, "  - container %s\n", term.Sanitize(c))
	}
	shown := strings.Join(d.Evidence, "\n")
	for i, e := range w.Events {
		if i == 5 {
			break
		}
		if strings.Contains(shown, e.Message) {
			continue // already quoted above
		}
		fmt.Fprintf(out, "  - event %s x%d on %s: %s\n", e.Reason, e.Count, e.Object, term.Sanitize(e.Message))
	}
	if l := d.Logs; l != nil && len(l.Lines) > 0 {
		fmt.Fprintf(out, "\nLAST LINES of %s (%s)\n", l.Container, w.LogSource)
		for _, line := range l.Lines {
			fmt.Fprintf(out, "  | %s\n", term.Sanitize(line))
		}
	}
	if len(w.Traceback) > 0 {
		fmt.Fprintln(out, "\nPYTHON TRACEBACK")
		for _, line := range w.Traceback {
			fmt.Fprintf(out, "  | %s\n", term.Sanitize(line))
		}
	}
	fmt.Fprintf(out, "\nNEXT STEP\n  %s\n", d.Next)
}

func newTimelineCommand(g *Globals) *cobra.Command {
	var output string
	var withLogs bool
	var logLines int64
	cmd := &cobra.Command{
		Use:   "timeline NAME",
		Short: "One chronological view across pods: condition transitions, events, container starts and terminations",
		Example: "  kubectl hopsdeploy timeline fraud -n my-project\n" +
			"  kubectl hopsdeploy timeline fraud --logs      # with each container's last log lines in place",
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("timeline needs a deployment NAME: kubectl hopsdeploy timeline NAME")
			}
			if output != "" && output != "json" {
				return usageErr("invalid -o %q: use json", output)
			}
			ctx := cmd.Context()
			c, ns, snap, err := g.gatherAllEvents(ctx, args[0])
			if err != nil {
				return err
			}
			var extra []diagnose.Entry
			if withLogs {
				extra = timelineLogs(ctx, c, snap, logLines)
			}
			entries := diagnose.Timeline(snap, extra)
			if output == "json" {
				b, _ := json.MarshalIndent(map[string]any{"name": args[0], "namespace": ns, "entries": entries}, "", "    ")
				fmt.Fprintln(g.Streams.Out, string(b))
				return nil
			}
			tw := tabwriter.NewWriter(g.Streams.Out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME\tKIND\tOBJECT\tWHAT")
			for _, e := range entries {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02T15:04:05.000Z"), e.Kind, e.Object, term.Sanitize(strings.TrimSpace(e.What)))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json")
	cmd.Flags().BoolVar(&withLogs, "logs", false, "merge in each container's last log lines (and its previous instance's)")
	cmd.Flags().Int64Var(&logLines, "log-lines", 10, "with --logs: lines per container instance")
	return cmd
}

// timelineLogs reads the last lines (with timestamps) of every container instance.
func timelineLogs(ctx context.Context, c *cluster.Clients, snap *state.Snapshot, n int64) []diagnose.Entry {
	var out []diagnose.Entry
	for _, p := range snap.Pods {
		for _, cs := range state.ContainerStatuses(&p) {
			for _, prev := range []bool{false, true} {
				if prev && cs.LastTerminationState.Terminated == nil {
					continue
				}
				lines, err := c.TailLogStamped(ctx, snap.Namespace, p.Name, cs.Name, prev, n)
				if err != nil {
					continue
				}
				obj := "pod/" + p.Name + "/" + cs.Name
				if prev {
					obj += " (previous)"
				}
				for _, l := range lines {
					ts, msg, ok := strings.Cut(l, " ")
					t, err := time.Parse(time.RFC3339Nano, ts)
					if !ok || err != nil {
						continue
					}
					out = append(out, diagnose.Entry{Time: t, Kind: "log", Object: obj, What: msg})
				}
			}
		}
	}
	return out
}
