package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
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
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE: func(cmd *cobra.Command, args []string) error {
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
	return nil
}

// Complete reads the kubeconfig.
func (o *LogsOptions) Complete(ctx context.Context) error {
	var err error
	if o.clients, err = o.Clients(); err != nil {
		return err
	}
	o.namespace, err = o.Namespace(ctx, o.clients)
	return err
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
	containers, err := o.containers(tool, pods)
	if err != nil {
		return err
	}
	sel.Containers = containers

	streams := 0
	for i := range pods {
		streams += len(sel.Targets(&pods[i]))
	}
	color, _ := term.UseColor(o.Color, o.Streams.Out)
	prefix := o.Prefix
	if !o.prefixSet {
		prefix = streams > 1 || o.Follow && (len(containers) != 1 || o.Pod == "")
	}
	sink := logs.NewSink(o.Streams.Out, logs.SinkOptions{Format: o.Output, Prefix: prefix, Timestamps: o.Timestamps, Color: color,
		Sanitize: !o.Raw && term.IsTerminal(o.Streams.Out)})
	engine := &logs.Engine{Kube: o.clients.Kube, Namespace: o.namespace, Deployment: o.Name,
		LabelSelector: labels.Set{state.LabelName: o.Name}.String(), Selection: sel, Options: o.podLogOptions(),
		Following: o.Follow, MaxRequests: o.MaxLogRequests, Sink: sink, ErrOut: o.Streams.ErrOut}
	if snap.ISVC != nil && snap.ISVC.GetLabels()[state.LabelName] == "" {
		engine.LabelSelector = labels.Set{state.LabelISVC: snap.ISVC.GetName()}.String()
	}

	if len(pods) == 0 {
		fmt.Fprintf(o.Streams.ErrOut, "no live logs for %s %s: %s\n", o.Name, o.Component, whyNoPods(report))
		if !o.Follow {
			return nil
		}
	}
	if o.Follow {
		return engine.Follow(ctx)
	}
	if err := engine.Run(ctx, pods); err != nil {
		return err
	}
	if n := engine.Errors(); n > 0 && sink.Lines() == 0 {
		return fmt.Errorf("no stream could be read (%d failed, see above)", n)
	}
	return nil
}

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
