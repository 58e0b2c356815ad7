package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	xterm "golang.org/x/term"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/spf13/cobra"
)

// explainOptions are the options of the commands that explain one deployment (why,
// timeline): NAME, -o json and --log-lines.
type explainOptions struct {
	*Globals
	verb       string
	Name       string
	Output     string
	LogLines   int64
	FromBundle string
	styleNow   time.Time // a bundle's ages are as of when it was taken
}

// Complete reads NAME (optional with --from-bundle, which holds one deployment).
func (o *explainOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 0 && o.FromBundle == "" {
		return usageErr("%s needs a deployment NAME: kubectl hopsdeploy %s NAME (or --from-bundle FILE)", o.verb, o.verb)
	}
	if len(args) > 0 {
		o.Name = args[0]
	}
	return nil
}

// Validate checks NAME and the flags.
func (o *explainOptions) Validate() error {
	if o.FromBundle == "" || o.Name != "" {
		if err := o.validateDeployment(o.Name); err != nil {
			return err
		}
	}
	if o.Output != "" && o.Output != "json" {
		return usageErr("invalid -o %q: use json", o.Output)
	}
	if o.LogLines < 0 {
		return usageErr("invalid --log-lines %d: it must not be negative", o.LogLines)
	}
	return nil
}

// WhyOptions are the options of `why`.
type WhyOptions struct {
	explainOptions
}

func newWhyCommand(g *Globals) *cobra.Command {
	o := &WhyOptions{explainOptions{Globals: g, verb: "why"}}
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
		RunE:              run(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json")
	cmd.Flags().Int64Var(&o.LogLines, "log-lines", 20, "how many lines of the failing container to show")
	cmd.Flags().StringVar(&o.FromBundle, "from-bundle", "", "read a support bundle (kubectl hopsdeploy bundle) instead of the cluster")
	return cmd
}

// Run explains the deployment.
func (o *WhyOptions) Run(ctx context.Context) error {
	src, ns, name, err := o.sources(ctx)
	if err != nil {
		return err
	}
	w, err := inspect.Why(ctx, src, ns, name, o.LogLines)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return printJSON(o.Streams.Out, w)
	}
	style := o.Style()
	if !o.styleNow.IsZero() {
		style.Now = o.styleNow
	}
	return printers.Why(o.Streams.Out, w, style)
}

// sources are the cluster's, or the bundle's with --from-bundle (which names the namespace
// and the deployment).
func (o *explainOptions) sources(ctx context.Context) (inspect.Sources, string, string, error) {
	if o.FromBundle == "" {
		src, ns, err := o.inspectSources(ctx)
		return src, ns, o.Name, err
	}
	b, err := o.openBundle(o.FromBundle, o.Name)
	if err != nil {
		return inspect.Sources{}, "", "", err
	}
	o.bundleNotice(b)
	o.styleNow = b.Objects.Taken
	return inspect.Sources{Cluster: b.Source()}, b.Objects.Namespace, b.Objects.Name, nil
}

// inspectSources builds the clients, resolves the namespace and OpenSearch (environment and
// config file: these commands have no OpenSearch flags).
func (g *Globals) inspectSources(ctx context.Context) (inspect.Sources, string, error) {
	s, err := g.openSearchSettings(nil)
	if err != nil {
		return inspect.Sources{}, "", err
	}
	c, ns, err := g.clientsAndNamespace(ctx, &s, 0)
	if err != nil {
		return inspect.Sources{}, "", err
	}
	h := g.historyOf(ctx, c, ns, s)
	return inspect.Sources{Cluster: c, History: h.Open, HistoryIndex: h.Index, Hopsworks: h.Serving}, ns, nil
}

// printJSON prints v as JSON, every character a terminal may act on escaped (the same value).
func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(printers.EscapeJSON(b)))
	return err
}

// TimelineOptions are the options of `timeline`.
type TimelineOptions struct {
	explainOptions
	WithLogs bool
	Chart    bool
	Width    int
}

func newTimelineCommand(g *Globals) *cobra.Command {
	o := &TimelineOptions{explainOptions: explainOptions{Globals: g, verb: "timeline"}}
	cmd := &cobra.Command{
		Use:   "timeline NAME",
		Short: "One chronological view across pods: condition transitions, events, container starts and terminations",
		Example: "  kubectl hopsdeploy timeline fraud -n my-project\n" +
			"  kubectl hopsdeploy timeline fraud --logs      # with each container's last log lines in place\n" +
			"  kubectl hopsdeploy timeline fraud --chart     # lanes per pod and container, fitted to the terminal",
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE:              run(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json")
	cmd.Flags().BoolVar(&o.WithLogs, "logs", false, "merge in each container's last log lines (and its previous instance's)")
	cmd.Flags().Int64Var(&o.LogLines, "log-lines", 10, "with --logs: lines per container instance")
	cmd.Flags().StringVar(&o.FromBundle, "from-bundle", "", "read a support bundle (kubectl hopsdeploy bundle) instead of the cluster")
	cmd.Flags().BoolVar(&o.Chart, "chart", false, "draw lanes per pod and container (scheduled, init, running, ready, ended; restarts and warnings marked), fitted to the terminal's width")
	cmd.Flags().IntVar(&o.Width, "width", 0, "with --chart: columns to draw in (default: the terminal's, or $COLUMNS, or 120)")
	return cmd
}

// Validate checks the flags.
func (o *TimelineOptions) Validate() error {
	if err := o.explainOptions.Validate(); err != nil {
		return err
	}
	if o.FromBundle != "" && o.WithLogs {
		return usageErr("--logs places log lines by their timestamps, which a bundle does not keep: drop --logs, or read the bundle's logs with logs --from-bundle")
	}
	if o.Chart && (o.Output != "" || o.WithLogs) {
		return usageErr("--chart draws the lanes: it does not go with -o json or --logs")
	}
	if o.Width != 0 && (!o.Chart || o.Width < 60) {
		return usageErr("invalid --width %d: it goes with --chart, and is 60 columns or more", o.Width)
	}
	return nil
}

// Run prints the timeline.
func (o *TimelineOptions) Run(ctx context.Context) error {
	src, ns, name, err := o.sources(ctx)
	if err != nil {
		return err
	}
	if o.Chart {
		c, err := inspect.Chart(ctx, src, ns, name)
		if err != nil {
			return err
		}
		fancy, _ := term.UseColor(o.Color, o.Streams.Out)
		return printers.Chart(o.Streams.Out, c, printers.ChartOptions{Width: chartWidth(o.Width, o.Streams.Out), Fancy: fancy})
	}
	entries, err := inspect.Timeline(ctx, src, ns, name, o.WithLogs, o.LogLines)
	if err != nil {
		return err
	}
	if o.Output == "json" {
		return printJSON(o.Streams.Out, map[string]any{"name": name, "namespace": ns, "entries": entriesOrEmpty(entries)})
	}
	return printers.Timeline(o.Streams.Out, entries)
}

func entriesOrEmpty(e []diagnose.Entry) []diagnose.Entry {
	if e == nil {
		return []diagnose.Entry{}
	}
	return e
}

// chartWidth is --width, else the terminal's columns, else $COLUMNS, else 120.
func chartWidth(flag int, out io.Writer) int {
	if flag > 0 {
		return flag
	}
	if f, ok := out.(*os.File); ok {
		if w, _, err := xterm.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 120
}
