package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/logs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// LogsOptions are the options of `logs`.
type LogsOptions struct {
	*Globals
	Name           string
	Component      string
	Containers     []string
	Pod            string
	Tail           int64
	Follow         bool
	Since          time.Duration
	SinceTime      string
	Timestamps     bool
	Previous       bool
	LimitBytes     int64
	Prefix         bool
	Output         string
	Raw            bool
	MaxLogRequests int
	Source         string
	LastWords      bool
	Until          string
	Grep           string
	OpenSearch     history.Settings

	until     time.Time
	flagSet   func(string) bool
	prefixSet bool
	tailSet   bool
	sinceTime time.Time
	clients   *cluster.Clients
	namespace string
}

const tailUnset = -2

func newLogsCommand(g *Globals) *cobra.Command {
	o := &LogsOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print or follow the logs of every pod of a deployment's component, by container",
		Long: `Print the logs of every pod of a component (predictor or transformer) of a Hopsworks
deployment, for one or more containers: kserve-container (the default), storage-initializer,
queue-proxy, agent, inference-logger, or all. With -f, follow them: new pods and restarted
containers are picked up, dropped streams resume without a lost or doubled line, and a line on
stderr says when a container dies.

Without -f and without --since, each container shows its last 10 lines, as Hopsworks does.`,
		Example: `  kubectl hopsdeploy logs fraud
  kubectl hopsdeploy logs fraud -c transformer -f
  kubectl hopsdeploy logs fraud -c all --container all --since 15m --timestamps
  kubectl hopsdeploy logs fraud --container storage-initializer --previous
  kubectl hopsdeploy logs fraud -f -o json | jq -r .message`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.flagSet = cmd.Flags().Changed
			o.prefixSet = cmd.Flags().Changed("prefix")
			o.tailSet = cmd.Flags().Changed("tail")
			if err := o.Validate(args); err != nil {
				return err
			}
			if err := o.Complete(cmd.Context()); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Component, "component", "c", "predictor", "component: predictor, transformer or all")
	f.StringArrayVar(&o.Containers, "container", nil, "container to read (repeatable): kserve-container (default), storage-initializer, queue-proxy, agent, inference-logger... or all")
	f.StringVar(&o.Pod, "pod", "", "only this pod (instance) of the component")
	f.Int64Var(&o.Tail, "tail", tailUnset, "lines of recent log per container; -1 for all (default 10, or all with --since/--since-time)")
	f.BoolVarP(&o.Follow, "follow", "f", false, "follow the logs, picking up new pods and restarted containers")
	f.DurationVar(&o.Since, "since", 0, "only lines newer than this duration, e.g. 10m or 2h")
	f.StringVar(&o.SinceTime, "since-time", "", "only lines after this time (RFC3339, e.g. 2026-11-25T10:00:00Z)")
	f.BoolVar(&o.Timestamps, "timestamps", false, "print each line's timestamp")
	f.BoolVarP(&o.Previous, "previous", "p", false, "read the previous instance of each container (after a restart)")
	f.Int64Var(&o.LimitBytes, "limit-bytes", 0, "at most this many bytes of log per container")
	f.BoolVar(&o.Prefix, "prefix", false, "prefix lines with pod and container (default: on when more than one stream)")
	f.StringVarP(&o.Output, "output", "o", "", "output: raw (messages only) or json (one object per line)")
	f.BoolVar(&o.Raw, "raw", false, "print log lines as they are, control sequences included, even on a terminal")
	f.IntVar(&o.MaxLogRequests, "max-log-requests", 50, "most streams at once; more wait for a free slot")
	f.BoolVar(&o.LastWords, "last-words", false, "for every container that ended abnormally (in the --since window), its exit reason and final lines: from its previous instance, or from OpenSearch once the pod is gone")
	f.StringVar(&o.Source, "source", "auto", "where logs come from: auto (live while pods cover the window, else OpenSearch history), live or history")
	f.StringVar(&o.Until, "until", "", "history: only lines before this time (RFC3339) or this long ago (e.g. 1h)")
	f.StringVar(&o.Grep, "grep", "", "only lines that match these words (an OpenSearch match query on history; a case-insensitive substring on live lines)")
	f.StringVar(&o.OpenSearch.URL, "opensearch-url", "", "OpenSearch URL, may carry a path (env HOPSDEPLOY_OPENSEARCH_URL, or the config file)")
	f.StringVar(&o.OpenSearch.User, "opensearch-user", "", "OpenSearch user; the password comes from HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file, never a flag")
	f.StringVar(&o.OpenSearch.PasswordFile, "opensearch-password-file", "", "file holding the OpenSearch password")
	f.StringVar(&o.OpenSearch.CAFile, "opensearch-ca", "", "PEM file of the CA that signed OpenSearch's certificate")
	f.BoolVar(&o.OpenSearch.InsecureSkipVerify, "opensearch-insecure-skip-verify", false, "do not verify OpenSearch's TLS certificate (insecure; only when you must)")
	f.StringVar(&o.OpenSearch.Index, "index", "", "OpenSearch index pattern (default <project>_serving-*, the project being the namespace with - turned into _)")
	_ = cmd.RegisterFlagCompletionFunc("source", cobra.FixedCompletions([]string{"auto", "live", "history"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("component", cobra.FixedCompletions([]string{"predictor", "transformer", "all"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("container", cobra.FixedCompletions([]string{"kserve-container", "storage-initializer", "queue-proxy", "agent", "inference-logger", "all"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"raw", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Validate checks the flags on their own, before any API call.
func (o *LogsOptions) Validate(args []string) error {
	if len(args) == 0 {
		return usageErr("logs needs a deployment NAME: kubectl hopsdeploy logs NAME (list them with kubectl hopsdeploy list)")
	}
	o.Name = args[0]
	switch o.Component {
	case "predictor", "transformer", "all":
	default:
		return usageErr("invalid --component %q: use predictor, transformer or all", o.Component)
	}
	if o.tailSet && o.Tail < -1 {
		return usageErr("invalid --tail %d: give a number of lines, 0 or more, or -1 for all", o.Tail)
	}
	if o.Since < 0 {
		return usageErr("invalid --since %s: it must be positive, e.g. 10m", o.Since)
	}
	if o.Since > 0 && o.SinceTime != "" {
		return usageErr("--since and --since-time both set where to start: give one of them")
	}
	if o.SinceTime != "" {
		t, err := time.Parse(time.RFC3339, o.SinceTime)
		if err != nil {
			return usageErr("invalid --since-time %q: use RFC3339, e.g. 2026-11-25T10:00:00Z", o.SinceTime)
		}
		o.sinceTime = t
	}
	if o.LimitBytes < 0 {
		return usageErr("invalid --limit-bytes %d: it must be positive", o.LimitBytes)
	}
	if o.MaxLogRequests < 1 {
		return usageErr("invalid --max-log-requests %d: it must be at least 1", o.MaxLogRequests)
	}
	switch o.Output {
	case "", "raw", "json":
	default:
		return usageErr("invalid -o %q: use raw or json", o.Output)
	}
	if o.Previous && o.Follow {
		return usageErr("--previous and --follow do not go together: a previous instance has ended")
	}
	switch o.Source {
	case "auto", "live", "history":
	default:
		return usageErr("invalid --source %q: use auto, live or history", o.Source)
	}
	if o.Until != "" {
		t, err := parseTimeOrAgo(o.Until)
		if err != nil {
			return usageErr("invalid --until %q: use RFC3339 (2026-11-25T10:00:00Z) or a duration ago (1h)", o.Until)
		}
		o.until = t
		if o.Source == "live" {
			return usageErr("--until reads history: it does not go with --source live")
		}
		if o.Follow {
			return usageErr("--until and --follow do not go together: following has no end")
		}
	}
	if o.LastWords && (o.Follow || o.Previous) {
		return usageErr("--last-words reads instances that ended: it does not go with --follow or --previous")
	}
	if o.Source == "history" && o.Previous {
		return usageErr("--previous reads a live container: it does not go with --source history")
	}
	return nil
}

func parseTimeOrAgo(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("invalid time %q", s)
	}
	return time.Now().Add(-d), nil
}

// Complete reads the kubeconfig.
func (o *LogsOptions) Complete(ctx context.Context) error {
	var err error
	if o.clients, err = o.Clients(); err != nil {
		return err
	}
	if o.namespace, err = o.Namespace(ctx, o.clients); err != nil {
		return err
	}
	cfg, err := history.LoadConfig(history.ConfigPath())
	if err != nil {
		return usageErr("%v", err)
	}
	raw, _ := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	kubeContext := raw.CurrentContext
	if o.ConfigFlags.Context != nil && *o.ConfigFlags.Context != "" {
		kubeContext = *o.ConfigFlags.Context
	}
	o.OpenSearch.Timeout = o.requestTimeout()
	if o.OpenSearch, err = history.Resolve(cfg, kubeContext, os.Getenv, o.OpenSearch, o.flagSet); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// requestTimeout applies --request-timeout to OpenSearch calls too.
func (o *LogsOptions) requestTimeout() time.Duration {
	if o.ConfigFlags.Timeout == nil {
		return 0
	}
	d, err := time.ParseDuration(*o.ConfigFlags.Timeout)
	if err != nil {
		if n, err2 := strconv.Atoi(*o.ConfigFlags.Timeout); err2 == nil {
			return time.Duration(n) * time.Second
		}
		return 0
	}
	return d
}

// Run resolves the deployment, checks the component and containers against it, and streams.
func (o *LogsOptions) Run(ctx context.Context) error {
	snap, err := o.clients.Gather(ctx, o.namespace, o.Name)
	if err != nil {
		return err
	}
	report := diagnose.Build(snap)
	tool := snap.Tool()
	sel := logs.Selection{Pod: o.Pod}
	if o.Component != "all" {
		if o.Component == state.ComponentTransform && (tool == state.ToolDefault || !snap.HasTransformer()) {
			return fmt.Errorf("deployment %s has no transformer: use -c predictor (transformers exist only in KServe deployments that have one)", o.Name)
		}
		sel.Components = map[string]bool{o.Component: true}
	}
	var pods []corev1.Pod
	for i := range snap.Pods {
		if sel.Wants(&snap.Pods[i]) {
			pods = append(pods, snap.Pods[i])
		}
	}
	if o.Pod != "" && len(pods) == 0 {
		var names []string
		for _, p := range snap.Pods {
			names = append(names, p.Name)
		}
		return usageErr("pod %q is not an instance of %s %s: instances are %s", o.Pod, o.Name, o.Component, orNone(names))
	}
	if o.LastWords && len(o.Containers) == 0 {
		o.Containers = []string{"all"} // every container that died, unless asked otherwise
	}
	containers, err := o.containers(tool, pods)
	if err != nil {
		return err
	}
	sel.Containers = containers
	if o.LastWords {
		return o.lastWords(ctx, snap, sel, pods)
	}

	streams := 0
	for i := range pods {
		streams += len(sel.Targets(&pods[i]))
	}
	color, _ := term.UseColor(o.Color, o.Streams.Out)
	prefix := o.Prefix
	if !o.prefixSet {
		prefix = streams > 1 || o.Follow && (len(containers) != 1 || o.Pod == "") || len(pods) == 0
	}
	sink := logs.NewSink(o.Streams.Out, logs.SinkOptions{Format: o.Output, Prefix: prefix, Timestamps: o.Timestamps, Color: color,
		Sanitize: !o.Raw && term.IsTerminal(o.Streams.Out), Grep: o.Grep})
	engine := &logs.Engine{Kube: o.clients.Kube, Namespace: o.namespace, Deployment: o.Name,
		LabelSelector: labels.Set{state.LabelName: o.Name}.String(), Selection: sel, Options: o.podLogOptions(),
		Following: o.Follow, MaxRequests: o.MaxLogRequests, Sink: sink, ErrOut: o.Streams.ErrOut}
	if snap.ISVC != nil && snap.ISVC.GetLabels()[state.LabelName] == "" {
		engine.LabelSelector = labels.Set{state.LabelISVC: snap.ISVC.GetName()}.String()
	}

	plan := o.plan(report, pods)
	var histErr error
	if plan.history {
		fmt.Fprintf(o.Streams.ErrOut, "source: %s\n", plan.why)
		histErr = o.readHistory(ctx, sink, sel.Containers, tool, plan)
		if histErr != nil {
			fmt.Fprintf(o.Streams.ErrOut, "error: %s\n", oneLine(histErr))
		}
	} else if len(pods) == 0 {
		fmt.Fprintf(o.Streams.ErrOut, "no live logs for %s %s: %s\n", o.Name, o.Component, plan.why)
	}
	if plan.live {
		if o.Follow {
			err = engine.Follow(ctx)
		} else if err = engine.Run(ctx, pods); err == nil && engine.Errors() > 0 && sink.Lines() == 0 && histErr == nil {
			err = fmt.Errorf("no stream could be read (%d failed, see above)", engine.Errors())
		}
	}
	if ferr := sink.Flush(); err == nil {
		err = ferr
	}
	if err == nil && histErr != nil {
		return &ExitError{Code: historyExitCode(histErr), Err: histErr, Reported: true}
	}
	return err
}

// death is a container instance that ended abnormally.
type death struct {
	Pod       string    `json:"pod"`
	Container string    `json:"container"`
	Reason    string    `json:"reason"`
	ExitCode  int32     `json:"exit_code"`
	Signal    string    `json:"signal,omitempty"`
	At        time.Time `json:"finished_at"`
	Instance  string    `json:"instance"` // current or previous
	Source    string    `json:"source"`   // live or history
	Lines     []string  `json:"lines"`
}

// lastWords prints, for every container that ended abnormally in the window, its exit
// reason and its final lines.
func (o *LogsOptions) lastWords(ctx context.Context, snap *state.Snapshot, sel logs.Selection, pods []corev1.Pod) error {
	n := o.Tail
	if !o.tailSet || n < 0 {
		n = 10
	}
	from := o.windowStart()
	var deaths []death
	for i := range pods {
		p := &pods[i]
		for _, cs := range state.ContainerStatuses(p) {
			if len(sel.Containers) > 0 && !sel.Containers[cs.Name] {
				continue
			}
			for _, inst := range []struct {
				t    *corev1.ContainerStateTerminated
				prev bool
			}{{cs.State.Terminated, false}, {cs.LastTerminationState.Terminated, true}} {
				t := inst.t
				if t == nil || (t.ExitCode == 0 && t.Reason != "OOMKilled") || (!from.IsZero() && t.FinishedAt.Time.Before(from)) {
					continue
				}
				d := death{Pod: p.Name, Container: cs.Name, Reason: t.Reason, ExitCode: t.ExitCode, Signal: diagnose.SignalName(t.ExitCode, t.Signal),
					At: t.FinishedAt.Time, Instance: "current", Source: "live"}
				if d.Reason == "" {
					d.Reason = "Error"
				}
				if inst.prev {
					d.Instance = "previous"
				}
				lines, err := o.clients.TailLog(ctx, o.namespace, p.Name, cs.Name, inst.prev, n)
				if err != nil {
					lines = []string{"(log not available: " + oneLine(err) + ")"}
				}
				d.Lines = lines
				deaths = append(deaths, d)
			}
		}
	}
	if len(pods) == 0 {
		// The pods are gone: OpenSearch still has their last lines, but no exit reason.
		if o.OpenSearch.URL == "" {
			fmt.Fprintf(o.Streams.ErrOut, "no pods of %s %s left to read: set --opensearch-url for their last lines from history\n", o.Name, o.Component)
			return nil
		}
		r, err := history.NewReader(o.OpenSearch)
		if err != nil {
			return err
		}
		q := history.Query{Index: history.IndexPattern(o.namespace), Deployment: o.Name, Since: from}
		if o.OpenSearch.Index != "" {
			q.Index = o.OpenSearch.Index
		}
		if o.Component != "all" {
			q.Components = []string{o.Component}
		}
		for c := range sel.Containers {
			q.Containers = append(q.Containers, c)
		}
		lines, err := r.Tail(ctx, q, int(n))
		if err != nil {
			return &ExitError{Code: historyExitCode(err), Err: err}
		}
		d := death{Pod: "(gone)", Container: strings.Join(q.Containers, ","), Reason: "unknown (OpenSearch keeps no exit reason)", Instance: "last", Source: "history"}
		for _, l := range lines {
			d.Lines = append(d.Lines, l.Message)
			d.At = l.Timestamp
		}
		deaths = append(deaths, d)
	}
	if len(deaths) == 0 {
		fmt.Fprintf(o.Streams.ErrOut, "no container of %s %s ended abnormally in the window\n", o.Name, o.Component)
		return nil
	}
	for _, d := range deaths {
		if o.Output == "json" {
			b, _ := json.Marshal(d)
			fmt.Fprintln(o.Streams.Out, string(b))
			continue
		}
		sig := ""
		if d.Signal != "" {
			sig = ", " + d.Signal
		}
		fmt.Fprintf(o.Streams.Out, "== %s %s: %s (exit %d%s) at %s, %s instance ==\n", d.Pod, d.Container, d.Reason, d.ExitCode, sig, d.At.UTC().Format(time.RFC3339), d.Instance)
		for _, l := range d.Lines {
			if !o.Raw && term.IsTerminal(o.Streams.Out) {
				l = term.Sanitize(l)
			}
			fmt.Fprintln(o.Streams.Out, l)
		}
	}
	return nil
}

// sourcePlan says which sources a run reads, and why (one line on stderr).
type sourcePlan struct {
	history, live bool
	from, until   time.Time // the history window; until is exclusive
	why           string
}

// plan applies --source: auto reads live logs while pods exist and cover the window, history
// when there are none (idle, stopped, stopping) and for the part of the window before the
// oldest pod started.
func (o *LogsOptions) plan(r *diagnose.Report, pods []corev1.Pod) sourcePlan {
	from := o.windowStart()
	switch {
	case o.Source == "live":
		return sourcePlan{live: true, why: whyNoPods(r)}
	case o.Source == "history":
		return sourcePlan{history: true, from: from, until: o.until, live: o.Follow, why: "history (--source history)"}
	case !o.until.IsZero():
		return sourcePlan{history: true, from: from, until: o.until, why: "history (--until asks for a past window)"}
	case o.Previous:
		return sourcePlan{live: true, why: whyNoPods(r)}
	}
	if len(pods) == 0 {
		why := whyNoPods(r)
		if o.OpenSearch.URL == "" {
			return sourcePlan{live: o.Follow, why: why + " (set --opensearch-url to read it)"}
		}
		return sourcePlan{history: true, from: from, live: o.Follow, why: "history from OpenSearch: " + why}
	}
	oldest := pods[0].CreationTimestamp.Time
	for _, p := range pods {
		if p.CreationTimestamp.Time.Before(oldest) {
			oldest = p.CreationTimestamp.Time
		}
	}
	if !from.IsZero() && from.Before(oldest) && o.OpenSearch.URL != "" {
		return sourcePlan{history: true, live: true, from: from, until: oldest,
			why: fmt.Sprintf("history before %s (when the oldest pod started), live after", oldest.UTC().Format(time.RFC3339))}
	}
	return sourcePlan{live: true}
}

func (o *LogsOptions) windowStart() time.Time {
	switch {
	case o.Since > 0:
		return time.Now().Add(-o.Since)
	case !o.sinceTime.IsZero():
		return o.sinceTime
	}
	return time.Time{}
}

// readHistory prints the history part of a run.
func (o *LogsOptions) readHistory(ctx context.Context, sink *logs.Sink, containers map[string]bool, tool state.Tool, p sourcePlan) error {
	if o.OpenSearch.URL == "" {
		return &history.Error{Kind: history.Failed, Msg: "no OpenSearch to read history from: pass --opensearch-url, set HOPSDEPLOY_OPENSEARCH_URL, or add it to " + history.ConfigPath()}
	}
	r, err := history.NewReader(o.OpenSearch)
	if err != nil {
		return err
	}
	q := history.Query{Index: o.OpenSearch.Index, Deployment: o.Name, Since: p.from, Until: p.until, Grep: o.Grep}
	if q.Index == "" {
		q.Index = history.IndexPattern(o.namespace)
	}
	// The pipeline writes serving_component and container_name for KServe only.
	if o.Component != "all" && tool != state.ToolDefault {
		q.Components = []string{o.Component}
	}
	if tool != state.ToolDefault {
		for c := range containers {
			q.Containers = append(q.Containers, c)
		}
	}
	var printed int
	var last string
	write := func(h history.Line) error {
		printed, last = printed+1, h.RawTS
		return sink.Write(&logs.Line{Timestamp: h.Timestamp, RawTS: h.RawTS, Namespace: o.namespace, Deployment: o.Name, Pod: h.Pod,
			Host: h.Host, Component: h.Component, Container: h.Container, Message: []byte(h.Message), Source: "history"}, false)
	}
	// A failure after some lines marks the output as partial, and says where it stopped.
	partial := func(err error) error {
		var he *history.Error
		if err == nil || printed == 0 || !errors.As(err, &he) {
			return err
		}
		return &history.Error{Kind: he.Kind, Msg: fmt.Sprintf("%s; the history output is partial: %d lines printed, the last at %s", he.Msg, printed, last)}
	}
	tail := o.Tail
	if !o.tailSet {
		tail = 10
		if !p.from.IsZero() {
			tail = -1
		}
	}
	if tail >= 0 {
		lines, err := r.Tail(ctx, q, int(tail))
		if err != nil {
			return partial(err)
		}
		for _, l := range lines {
			if err := write(l); err != nil {
				return err
			}
		}
		return nil
	}
	return partial(r.Stream(ctx, q, write))
}

func historyExitCode(err error) int {
	var he *history.Error
	if errors.As(err, &he) {
		switch he.Kind {
		case history.Refused:
			return ExitHistoryRefused
		case history.TLSFailure:
			return ExitHistoryTLS
		case history.NoIndex:
			return ExitHistoryNoIndex
		}
	}
	return ExitHistoryUnreachable
}

func oneLine(err error) string { return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ") }

// containers resolves --container against the pods' containers.
func (o *LogsOptions) containers(tool state.Tool, pods []corev1.Pod) (map[string]bool, error) {
	valid := logs.ContainerNames(pods)
	want := o.Containers
	if len(want) == 0 {
		if tool == state.ToolDefault {
			return nil, nil // the DEFAULT tool's pods have one container
		}
		want = []string{state.ContainerMain}
	}
	out := map[string]bool{}
	for _, w := range want {
		for _, c := range strings.Split(w, ",") {
			if c == "all" {
				return nil, nil
			}
			if len(pods) > 0 && !contains(valid, c) {
				return nil, usageErr("unknown container %q in %s %s: valid containers are %s, or all", c, o.Name, o.Component, strings.Join(valid, ", "))
			}
			out[c] = true
		}
	}
	return out, nil
}

func (o *LogsOptions) podLogOptions() corev1.PodLogOptions {
	opts := corev1.PodLogOptions{Previous: o.Previous}
	tail := o.Tail
	if !o.tailSet {
		tail = 10
		if o.Since > 0 || o.SinceTime != "" {
			tail = -1
		}
	}
	if tail >= 0 {
		opts.TailLines = &tail
	}
	if o.Since > 0 {
		s := int64((o.Since + time.Second - 1) / time.Second)
		opts.SinceSeconds = &s
	}
	if !o.sinceTime.IsZero() {
		t := metav1.NewTime(o.sinceTime)
		opts.SinceTime = &t
	}
	if o.LimitBytes > 0 {
		opts.LimitBytes = &o.LimitBytes
	}
	return opts
}

// whyNoPods says why nothing runs, from the derived state.
func whyNoPods(r *diagnose.Report) string {
	switch state.Status(r.Status) {
	case state.Idle:
		return "the deployment is Idle, scaled to zero (no pod runs until a request arrives); its past logs are in OpenSearch"
	case state.Stopped, state.Stopping:
		return fmt.Sprintf("the deployment is %s; its past logs are in OpenSearch", r.Status)
	}
	return fmt.Sprintf("no pod of it exists yet (status %s: %s)", r.Status, r.Condition.Reason)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
