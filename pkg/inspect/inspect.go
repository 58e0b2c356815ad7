// Package inspect reads one deployment's evidence for the commands that explain it (status,
// why, timeline, bundle): the gatherer's snapshot, the pure core's report and diagnosis, and
// the log lines these quote, live or from history. It decides what to read; pkg/diagnose
// decides what it means, and pkg/printers how it looks.
package inspect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	corev1 "k8s.io/api/core/v1"
)

// Cluster is where a deployment is read from: the API server (*cluster.Clients), or a
// support bundle (*bundle.Source), which holds one deployment as it was.
type Cluster interface {
	// Gather reads the deployment with its warning events; GatherAll with every event.
	Gather(ctx context.Context, ns, name string) (*state.Snapshot, error)
	GatherAll(ctx context.Context, ns, name string) (*state.Snapshot, error)
	// TailLog reads a container instance's last n lines; TailLogStamped with timestamps.
	TailLog(ctx context.Context, ns, pod, container string, previous bool, n int64) ([]string, error)
	TailLogStamped(ctx context.Context, ns, pod, container string, previous bool, n int64) ([]string, error)
}

// Sources are where the evidence comes from.
type Sources struct {
	Cluster Cluster
	// History opens the OpenSearch reader; nil when none is configured.
	History func() (history.Source, error)
	// HistoryIndex is the index pattern; empty means the project's serving indices, which
	// the history source knows.
	HistoryIndex string
	// Hopsworks asks Hopsworks whether it has a deployment of that name, and its status;
	// nil when Hopsworks is not configured.
	Hopsworks func(ctx context.Context, name string) (status string, found bool, err error)
}

// Status gathers a deployment, derives its report and diagnosis, and reads the logLines last
// lines of the container the diagnosis quotes.
//
// A name that nothing in the cluster carries is Stopped when history has seen it (Hopsworks
// deletes a stopped deployment's objects), else a not-found error that says how to look.
func Status(ctx context.Context, src Sources, ns, name string, logLines int64) (*diagnose.Report, error) {
	snap, err := src.Cluster.Gather(ctx, ns, name)
	if nf, ok := notFound(err); ok {
		return stopped(ctx, src, nf)
	}
	if err != nil {
		return nil, err
	}
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	if l := r.Diagnosis.Logs; l != nil && logLines > 0 {
		lines, err := src.Cluster.TailLog(ctx, ns, l.Pod, l.Container, l.Previous, logLines)
		if err != nil {
			r.Diagnosis.Evidence = append(r.Diagnosis.Evidence, "could not read the log: "+term.OneLine(err))
		}
		r.Diagnosis.AttachLogs(lines)
	}
	return r, nil
}

// Why gathers a deployment and explains it, with the failing container's last lines: live,
// or from history when the pods are gone.
func Why(ctx context.Context, src Sources, ns, name string, logLines int64) (*diagnose.Why, error) {
	snap, gone, err := GatherOrGone(ctx, src, ns, name)
	if err != nil {
		return nil, err
	}
	if gone {
		return whyStopped(ctx, src, snap, logLines)
	}
	w := diagnose.Explain(snap)
	switch l := w.Diagnosis.Logs; {
	case logLines <= 0:
	case l != nil:
		lines, err := src.Cluster.TailLog(ctx, ns, l.Pod, l.Container, l.Previous, logLines)
		if err != nil {
			w.Diagnosis.Evidence = append(w.Diagnosis.Evidence, "could not read the log: "+term.OneLine(err))
		}
		source := "live"
		if l.Previous {
			source = "previous instance"
		}
		w.AttachLogs(lines, source)
	case w.PodsGone() && src.History != nil:
		if lines := lastHistoryLines(ctx, src, ns, name, int(logLines)); len(lines) > 0 {
			w.AttachLogs(lines, "OpenSearch (the pods are gone)")
		}
	}
	return w, nil
}

// lastHistoryLines reads the predictor's last lines from history; a failure leaves the
// report without them (why explains the cluster first).
func lastHistoryLines(ctx context.Context, src Sources, ns, name string, n int) []string {
	r, err := src.History()
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lines, err := r.Tail(ctx, history.Query{Index: src.HistoryIndex, Deployment: name, Components: []string{state.ComponentPredictor}, Containers: []string{state.ContainerMain}}, n)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range lines {
		out = append(out, l.Message)
	}
	return out
}

// Timeline gathers a deployment with all its events and merges them in time order with
// condition transitions and container lives; withLogs adds each container instance's last
// logLines lines.
func Timeline(ctx context.Context, src Sources, ns, name string, withLogs bool, logLines int64) ([]diagnose.Entry, error) {
	snap, err := src.Cluster.GatherAll(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	var extra []diagnose.Entry
	if withLogs {
		extra = timelineLogs(ctx, src.Cluster, snap, logLines)
	}
	return diagnose.Timeline(snap, extra), nil
}

// Chart gathers a deployment with all its events and draws its pods and containers as lanes.
func Chart(ctx context.Context, src Sources, ns, name string) (diagnose.Chart, error) {
	snap, err := src.Cluster.GatherAll(ctx, ns, name)
	if err != nil {
		return diagnose.Chart{}, err
	}
	return diagnose.BuildChart(snap), nil
}

// timelineLogs reads the last lines (with timestamps) of every container instance.
func timelineLogs(ctx context.Context, c Cluster, snap *state.Snapshot, n int64) []diagnose.Entry {
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

// BundleLogLines is how many lines of each container instance a bundle keeps.
const BundleLogLines = 200

// PayloadContainer logs the requests and responses of a deployment: its lines are user data.
const PayloadContainer = "inference-logger"

// Bundle gathers everything a support bundle holds: the redacted objects, every container
// instance's last lines (not the inference logger's request payloads unless asked), the
// history around the last failure, and the report.
func Bundle(ctx context.Context, src Sources, ns, name string, includePayloads bool) (*bundle.Bundle, error) {
	snap, err := src.Cluster.GatherAll(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap), Logs: map[string][]string{}}
	for _, p := range snap.Pods {
		for _, cs := range state.ContainerStatuses(&p) {
			if cs.Name == PayloadContainer && !includePayloads {
				continue
			}
			if lines, err := src.Cluster.TailLog(ctx, ns, p.Name, cs.Name, false, BundleLogLines); err == nil {
				b.AddLog(bundle.LogKey(p.Name, cs.Name, false), lines)
			}
			if cs.LastTerminationState.Terminated != nil {
				if lines, err := src.Cluster.TailLog(ctx, ns, p.Name, cs.Name, true, BundleLogLines); err == nil {
					b.AddLog(bundle.LogKey(p.Name, cs.Name, true), lines)
				}
			}
		}
	}
	b.SetHistory(bundleHistory(ctx, src, snap))
	if err := b.SetReport(); err != nil {
		return nil, err
	}
	return b, nil
}

// bundleHistory reads the OpenSearch window around the last failure (10 minutes before it,
// one after), or the last lines when nothing failed; nothing when OpenSearch is not set up.
func bundleHistory(ctx context.Context, src Sources, s *state.Snapshot) []string {
	if src.History == nil {
		return nil
	}
	r, err := src.History()
	if err != nil {
		return []string{"(history not read: " + term.OneLine(err) + ")"}
	}
	var last time.Time
	for _, p := range s.Pods {
		for _, cs := range state.ContainerStatuses(&p) {
			for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t != nil && t.ExitCode != 0 && t.FinishedAt.After(last) {
					last = t.FinishedAt.Time
				}
			}
		}
	}
	q := history.Query{Index: src.HistoryIndex, Deployment: s.Name, ExceptContainers: []string{PayloadContainer}}
	if !last.IsZero() {
		q.Since, q.Until = last.Add(-10*time.Minute), last.Add(time.Minute)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	lines, err := r.Tail(ctx, q, 2000)
	if err != nil {
		return []string{"(history not read: " + term.OneLine(err) + ")"}
	}
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", l.RawTS, l.Host, l.Component, l.Container, l.Message))
	}
	return out
}
