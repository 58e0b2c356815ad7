package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/logs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Logs prints (or follows) the logs that c asks for, of the deployment in snap: it checks the
// component and containers against the deployment, plans the sources (live, history, or
// history then live) and reads them into one logs.Sink. A history failure after live lines
// were printed comes back as a ReportedError.
func Logs(ctx context.Context, src LogSources, snap *state.Snapshot, c LogsConfig) error {
	src.Open = src.opener()
	pods, sel, err := selectLogs(snap, &c, c.Containers)
	if err != nil {
		return err
	}
	streams := 0
	for i := range pods {
		streams += len(sel.Targets(&pods[i]))
	}
	if c.Follow && c.LimitBytes == 0 && streams > c.MaxRequests {
		// Followed streams never end, so queued ones would wait forever: fail fast, as
		// kubectl logs -f does.
		return usage("following %d log streams needs --max-log-requests=%d or more (it is %d): raise it, or narrow with -c, --container or --pod", streams, streams, c.MaxRequests)
	}
	prefix := streams > 1 || c.Follow && (len(sel.Containers) != 1 || c.Pod == "") || len(pods) == 0
	if c.Prefix != nil {
		prefix = *c.Prefix
	}
	sink := logs.NewSink(c.Out, logs.SinkOptions{Format: c.Format, Prefix: prefix, Timestamps: c.Timestamps, Color: c.Color, Sanitize: c.Sanitize, Grep: c.Grep})
	// The pods are followed as the gatherer found them.
	selector, err := snap.PodSelector()
	if err != nil {
		return usage("%v", err)
	}
	engine := &logs.Engine{Kube: src.Kube, Open: src.Open, Bulk: src.Bulk, Namespace: c.Namespace, Deployment: c.Deployment,
		LabelSelector: selector, Selection: sel, Options: c.PodLogOptions(),
		Following: c.Follow, MaxRequests: c.MaxRequests, Sink: sink, ErrOut: c.ErrOut}
	plan := PlanSources(&c, diagnose.Build(snap), pods, sel.Containers, src.History != nil)
	if !plan.LiveFrom.IsZero() {
		// Live from where history ends: the kubelet's sinceTime is to the second, the tail
		// drops what is earlier to the nanosecond.
		since := metav1.NewTime(plan.LiveFrom.Truncate(time.Second))
		engine.Options.SinceTime, engine.Options.SinceSeconds, engine.Options.TailLines = &since, nil, nil
		engine.NotBefore = plan.LiveFrom
	}
	if snap.Empty() && plan.History {
		plan.Why = fmt.Sprintf("nothing of %s is in the cluster (stopped?): reading history", c.Deployment)
	}
	if src.Reading != nil {
		var reading []logs.Target
		if plan.Live && !(c.Follow && plan.History) {
			reading = engine.Targets(pods)
		}
		src.Reading(reading)
	}
	var histErr error
	if plan.History {
		if histErr = historyPart(ctx, src, &c, sink, sel.Containers, snap.Tool(), plan); histErr != nil && ctx.Err() != nil {
			return ctx.Err() // interrupted: every line read was kept, nothing more to say
		}
	} else if len(pods) == 0 {
		logs.Notice(c.ErrOut, "no live logs for %s %s: %s", c.Deployment, c.Component, plan.Why)
	}
	if plan.Live {
		err = livePart(ctx, engine, sink, pods, c.Follow, plan.History, histErr != nil)
	}
	return finish(sink, err, histErr)
}

// selectLogs checks the component, the pod and the wanted containers against the deployment
// and returns the pods and the selection to read.
func selectLogs(snap *state.Snapshot, c *LogsConfig, want []string) ([]corev1.Pod, logs.Selection, error) {
	if len(snap.Skipped) > 0 {
		logs.Notice(c.ErrOut, "note: you may not list %s in %s: left out; the pods are found by their labels", strings.Join(snap.Skipped, " or "), c.Namespace)
	}
	tool := snap.Tool()
	sel := logs.Selection{Pod: c.Pod}
	if c.Component != "all" {
		if !snap.Empty() && c.Component == state.ComponentTransform && (tool == state.ToolDefault || !snap.HasTransformer()) {
			return nil, sel, fmt.Errorf("deployment %s has no transformer: use -c predictor (transformers exist only in KServe deployments that have one)", c.Deployment)
		}
		sel.Components = map[string]bool{c.Component: true}
	}
	var pods []corev1.Pod
	for i := range snap.Pods {
		if sel.Wants(&snap.Pods[i]) {
			pods = append(pods, snap.Pods[i])
		}
	}
	if c.Pod != "" && len(pods) == 0 {
		var names []string
		for _, p := range snap.Pods {
			names = append(names, p.Name)
		}
		return nil, sel, usage("pod %q is not an instance of %s %s: instances are %s", c.Pod, c.Deployment, c.Component, orNone(names))
	}
	containers, err := resolveContainers(c, tool, pods, want)
	sel.Containers = containers
	return pods, sel, err
}

// historyPart prints the history part of a run; a failure is said on the error stream, in its
// place, and returned.
func historyPart(ctx context.Context, src LogSources, c *LogsConfig, sink *logs.Sink, containers map[string]bool, tool state.Tool, plan SourcePlan) error {
	logs.Notice(c.ErrOut, "source: %s", plan.Why)
	err := readHistory(ctx, src, c, sink, containers, tool, plan)
	if err != nil && ctx.Err() != nil {
		_ = sink.Flush() // interrupted: keep every line already read
		return err
	}
	if err != nil {
		logs.Notice(c.ErrOut, "error: %s", term.OneLine(err))
	}
	if c.Follow {
		// Following may wait long for the next live line: the history part shows now.
		if ferr := sink.Flush(); ferr != nil {
			return ferr
		}
	}
	return err
}

// livePart reads or follows the live streams of pods (a follow starts with them, unless
// history ran first); streams that failed make the run partial, or a failure when nothing at
// all was printed.
func livePart(ctx context.Context, engine *logs.Engine, sink *logs.Sink, pods []corev1.Pod, follow, historyRan, historyFailed bool) error {
	if follow {
		if historyRan {
			pods = nil // read before history: the informer's first list is newer
		}
		return engine.Follow(ctx, pods)
	}
	if err := engine.Run(ctx, pods); err != nil || engine.Errors() == 0 {
		return err
	}
	if sink.Lines() == 0 && !historyFailed {
		return fmt.Errorf("no stream could be read (%d failed, see above)", engine.Errors())
	}
	return &PartialError{Failed: engine.Errors()}
}

// finish flushes the output and picks the run's one error: the output's own failure first,
// then the live part's, then history's (already said in its place).
func finish(sink *logs.Sink, err, histErr error) error {
	if ferr := sink.Flush(); err == nil {
		err = ferr
	}
	if serr := sink.Err(); serr != nil {
		return fmt.Errorf("cannot write the output (%v): stopped, what could not be written is lost", serr)
	}
	if err == nil && histErr != nil {
		return &ReportedError{Err: histErr}
	}
	return err
}

// resolveContainers checks the wanted containers against the pods' containers; nil means all.
func resolveContainers(c *LogsConfig, tool state.Tool, pods []corev1.Pod, want []string) (map[string]bool, error) {
	valid := logs.ContainerNames(pods)
	if len(want) == 0 {
		if tool == state.ToolDefault {
			return nil, nil // the DEFAULT tool's pods have one container
		}
		want = []string{state.ContainerMain}
	}
	out := map[string]bool{}
	for _, w := range want {
		for _, name := range strings.Split(w, ",") {
			if name == "all" {
				return nil, nil
			}
			if len(pods) > 0 && !slices.Contains(valid, name) {
				return nil, usage("unknown container %q in %s %s: valid containers are %s, or all", name, c.Deployment, c.Component, strings.Join(valid, ", "))
			}
			out[name] = true
		}
	}
	return out, nil
}

// historyQuery is the query for the deployment's lines of the selected component and containers.
func historyQuery(src LogSources, c *LogsConfig, containers map[string]bool, tool state.Tool) history.Query {
	// No index: the history source reads the project's serving indices.
	q := history.Query{Index: src.HistoryIndex, Deployment: c.Deployment, Grep: c.Grep}
	// The pipeline writes serving_component and container_name for KServe only.
	if c.Component != "all" && tool != state.ToolDefault {
		q.Components = []string{c.Component}
	}
	if tool != state.ToolDefault {
		for name := range containers {
			q.Containers = append(q.Containers, name)
		}
		slices.Sort(q.Containers)
	}
	return q
}

func noHistory(src LogSources) error {
	return &history.Error{Kind: history.Failed, Msg: "no OpenSearch to read history from: " + src.HistoryHint}
}

// readHistory prints the history part of a run.
func readHistory(ctx context.Context, src LogSources, c *LogsConfig, sink *logs.Sink, containers map[string]bool, tool state.Tool, p SourcePlan) error {
	if src.History == nil {
		return noHistory(src)
	}
	r, err := src.History()
	if err != nil {
		return err
	}
	q := historyQuery(src, c, containers, tool)
	q.Since, q.Until = p.From, p.Until
	var printed int
	var last string
	// One line and one message buffer for all: the sink formats a line before it returns.
	var line logs.Line
	var msg []byte
	write := func(h history.Line) error {
		printed, last = printed+1, h.RawTS
		msg = append(msg[:0], h.Message...)
		line = logs.Line{Timestamp: h.Timestamp, RawTS: h.RawTS, Namespace: c.Namespace, Deployment: c.Deployment, Pod: h.Pod,
			Host: h.Host, Component: h.Component, Container: h.Container, Message: msg, Source: "history"}
		return sink.Write(&line, false)
	}
	// A failure after some lines marks the output as partial, and says where it stopped.
	partial := func(err error) error {
		var he *history.Error
		if err == nil || printed == 0 || !errors.As(err, &he) {
			return err
		}
		return &history.Error{Kind: he.Kind, Msg: fmt.Sprintf("%s; the history output is partial: %d lines printed, the last at %s", he.Msg, printed, last)}
	}
	if c.Tail >= 0 {
		lines, err := r.Tail(ctx, q, int(c.Tail))
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

// LastWords returns, for every container that ended abnormally in c's window, its exit
// reason and its final lines: live from the instance, or from history once the pods are
// gone. What it cannot find is said on c.ErrOut; the caller prints the deaths.
func LastWords(ctx context.Context, src LogSources, snap *state.Snapshot, c LogsConfig) ([]diagnose.Death, error) {
	src.Open = src.opener()
	want := c.Containers
	if len(want) == 0 {
		want = []string{"all"} // every container that died, unless asked otherwise
	}
	pods, sel, err := selectLogs(snap, &c, want)
	if err != nil {
		return nil, err
	}
	n := c.Tail
	if n < 0 {
		n = 10
	}
	from := c.windowStart()
	deaths := diagnose.Deaths(pods, sel.Containers, from)
	for i := range deaths {
		d := &deaths[i]
		lines, err := cluster.TailLines(ctx, src.Open, c.Namespace, d.Pod, d.Container, d.Previous(), n, false)
		if err != nil {
			lines = []string{"(log not available: " + term.OneLine(err) + ")"}
		}
		d.Lines = lines
	}
	if len(pods) == 0 {
		// The pods are gone: OpenSearch still has their last lines, but no exit reason.
		if src.History == nil {
			logs.Notice(c.ErrOut, "no pods of %s %s left to read: set --opensearch-url for their last lines from history", c.Deployment, c.Component)
			return nil, nil
		}
		d, err := lastWordsOfHistory(ctx, src, &c, sel.Containers, from, n)
		if err != nil {
			return nil, err
		}
		deaths = append(deaths, d)
	}
	if len(deaths) == 0 {
		logs.Notice(c.ErrOut, "no container of %s %s ended abnormally in the window", c.Deployment, c.Component)
	}
	return deaths, nil
}

// lastWordsOfHistory is the last lines history holds of gone pods' containers.
func lastWordsOfHistory(ctx context.Context, src LogSources, c *LogsConfig, containers map[string]bool, from time.Time, n int64) (diagnose.Death, error) {
	d := diagnose.Death{Pod: "(gone)", Reason: "unknown (OpenSearch keeps no exit reason)", Instance: "last", Source: "history"}
	r, err := src.History()
	if err != nil {
		return d, err
	}
	q := historyQuery(src, c, containers, state.ToolKServe)
	q.Since = from
	lines, err := r.Tail(ctx, q, int(n))
	if err != nil {
		return d, err
	}
	d.Container = strings.Join(q.Containers, ",")
	for _, l := range lines {
		d.Lines = append(d.Lines, l.Message)
		d.At = l.Timestamp
	}
	return d, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
