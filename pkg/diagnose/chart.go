package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

// A deployment's trouble is a story in time: a chart draws it as lanes, one per pod and one
// per container, each a row of spans (pending, initializing, running, ready, waiting in
// back-off) with marks where something happened (a restart, an end, a warning). The model is
// pure; printers.Chart draws it to a width.

// SpanState is what a lane's pod or container was doing over a span of time.
type SpanState int

// The states a span can be in, from waiting to ready.
const (
	SpanPending SpanState = iota // created, not scheduled
	SpanInit                     // scheduled, init containers running or waiting
	SpanRunning                  // running, not ready
	SpanReady                    // running and ready
	SpanBackOff                  // waiting to be restarted, or to start (image pull...)
)

// Span is a state over [From, To).
type Span struct {
	From, To time.Time
	State    SpanState
}

// MarkKind is what happened at an instant.
type MarkKind int

// The marks a lane can carry.
const (
	MarkRestart MarkKind = iota // a new instance of the container started
	MarkEnd                     // an instance ended (its reason in the text)
	MarkWarning                 // a Warning event
)

// Mark is an instant on a lane.
type Mark struct {
	At   time.Time
	Kind MarkKind
	Text string
}

// Lane is one row: a pod (Container "") or one of its containers.
type Lane struct {
	Pod       string
	Component string
	Container string
	Init      bool
	Spans     []Span
	Marks     []Mark
	// Note is what the lane ends in: a waiting reason, restarts, ready.
	Note string
}

// Chart is the lanes of a deployment over [From, To).
type Chart struct {
	Name, Namespace string
	From, To        time.Time
	Lanes           []Lane
}

// BuildChart draws the snapshot's pods and containers as lanes over the time from the first
// pod's creation (or the first event) to the snapshot's time. The cluster keeps each
// container's current and previous instance only: earlier ones are in the events' counts.
func BuildChart(s *state.Snapshot) Chart {
	c := Chart{Name: s.Name, Namespace: s.Namespace, To: s.Now}
	pods := make([]*corev1.Pod, 0, len(s.Pods))
	for i := range s.Pods {
		pods = append(pods, &s.Pods[i])
	}
	sort.SliceStable(pods, func(i, j int) bool { return pods[i].CreationTimestamp.Before(&pods[j].CreationTimestamp) })
	for _, p := range pods {
		if c.From.IsZero() || p.CreationTimestamp.Time.Before(c.From) {
			c.From = p.CreationTimestamp.Time
		}
		c.Lanes = append(c.Lanes, podLane(p, s.Now))
		for _, cs := range p.Status.InitContainerStatuses {
			c.Lanes = append(c.Lanes, containerLane(p, cs, true, s.Now))
		}
		for _, cs := range p.Status.ContainerStatuses {
			c.Lanes = append(c.Lanes, containerLane(p, cs, false, s.Now))
		}
	}
	for _, e := range s.Events {
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		first, last := eventTimes(&e)
		if c.From.IsZero() || first.Before(c.From) {
			c.From = first
		}
		for i := range c.Lanes {
			l := &c.Lanes[i]
			onPod := e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.Name == l.Pod
			container := strings.TrimSuffix(strings.TrimPrefix(e.InvolvedObject.FieldPath, "spec.containers{"), "}")
			if onPod && (l.Container == "" && !strings.HasPrefix(e.InvolvedObject.FieldPath, "spec.") || l.Container == container) {
				// First and last seen: a warning repeated for twenty minutes shows as long.
				l.Marks = append(l.Marks, Mark{At: last, Kind: MarkWarning, Text: fmt.Sprintf("%s x%d", e.Reason, max(e.Count, 1))})
				if e.Count > 1 && first.Before(last) {
					l.Marks = append(l.Marks, Mark{At: first, Kind: MarkWarning, Text: e.Reason + " first"})
				}
			}
		}
	}
	if c.From.IsZero() || !c.From.Before(c.To) {
		c.From = c.To.Add(-time.Minute)
	}
	return c
}

// podLane is a pod's own row: pending until scheduled, initializing until initialized,
// running until ready, from the conditions' last transitions.
func podLane(p *corev1.Pod, now time.Time) Lane {
	l := Lane{Pod: p.Name, Component: state.ComponentOf(p)}
	created := p.CreationTimestamp.Time
	scheduled, initialized, ready := condTime(p, corev1.PodScheduled), condTime(p, corev1.PodInitialized), condTime(p, corev1.PodReady)
	add := func(from, to time.Time, st SpanState) {
		if !from.IsZero() && from.Before(to) {
			l.Spans = append(l.Spans, Span{From: from, To: to, State: st})
		}
	}
	end := func(ts ...time.Time) time.Time {
		for _, t := range ts {
			if !t.IsZero() {
				return t
			}
		}
		return now
	}
	add(created, end(scheduled), SpanPending)
	add(scheduled, end(initialized), SpanInit)
	add(initialized, end(ready), SpanRunning)
	add(ready, now, SpanReady)
	switch {
	case scheduled.IsZero():
		l.Note = "pending: " + orDefault(condReason(p, corev1.PodScheduled), "not scheduled")
	case !ready.IsZero():
		l.Note = "ready"
	default:
		l.Note = "not ready"
	}
	return l
}

// containerLane is a container's row: its previous instance and its current one, with a mark
// where each ended and where the current one started after restarts.
func containerLane(p *corev1.Pod, cs corev1.ContainerStatus, init bool, now time.Time) Lane {
	l := Lane{Pod: p.Name, Container: cs.Name, Init: init}
	var lastEnd time.Time
	if t := cs.LastTerminationState.Terminated; t != nil {
		l.Spans = append(l.Spans, Span{From: t.StartedAt.Time, To: t.FinishedAt.Time, State: SpanRunning})
		l.Marks = append(l.Marks, Mark{At: t.FinishedAt.Time, Kind: MarkEnd, Text: endText(t)})
		lastEnd = t.FinishedAt.Time
	}
	switch {
	case cs.State.Running != nil:
		from := cs.State.Running.StartedAt.Time
		if !lastEnd.IsZero() && lastEnd.Before(from) {
			l.Spans = append(l.Spans, Span{From: lastEnd, To: from, State: SpanBackOff})
		}
		st := SpanRunning
		if cs.Ready {
			st = SpanReady
		}
		l.Spans = append(l.Spans, Span{From: from, To: now, State: st})
		if cs.RestartCount > 0 {
			l.Marks = append(l.Marks, Mark{At: from, Kind: MarkRestart, Text: fmt.Sprintf("restart %d", cs.RestartCount)})
		}
		l.Note = map[bool]string{true: "ready", false: "running, not ready"}[cs.Ready]
	case cs.State.Terminated != nil:
		t := cs.State.Terminated
		l.Spans = append(l.Spans, Span{From: t.StartedAt.Time, To: t.FinishedAt.Time, State: SpanRunning})
		if !(init && t.ExitCode == 0) {
			l.Marks = append(l.Marks, Mark{At: t.FinishedAt.Time, Kind: MarkEnd, Text: endText(t)})
		}
		l.Note = "ended: " + endText(t)
		if init && t.ExitCode == 0 {
			l.Note = "done"
		}
	case cs.State.Waiting != nil:
		if !lastEnd.IsZero() {
			l.Spans = append(l.Spans, Span{From: lastEnd, To: now, State: SpanBackOff})
		}
		l.Note = orDefault(cs.State.Waiting.Reason, "waiting")
	}
	if cs.RestartCount > 0 {
		l.Note += fmt.Sprintf(", %s", restartsWord(cs.RestartCount))
	}
	return l
}

func endText(t *corev1.ContainerStateTerminated) string {
	return fmt.Sprintf("%s, exit %d", orDefault(t.Reason, "Error"), t.ExitCode)
}

func restartsWord(n int32) string {
	if n == 1 {
		return "1 restart"
	}
	return fmt.Sprintf("%d restarts", n)
}

func condReason(p *corev1.Pod, t corev1.PodConditionType) string {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Reason
		}
	}
	return ""
}
