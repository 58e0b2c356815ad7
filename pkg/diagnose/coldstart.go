package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

// The anatomy of a cold start: for each pod, how long each step of its start took, read from
// the times the cluster keeps (the pod's creation and conditions, the containers' states) and
// the kubelet's Pulled events. What KServe users ask most (why is the first request slow, why
// does a large model time out) is answered by which step took the time.

// Phase is one step of a pod's start.
type Phase struct {
	Name    string    `json:"name"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitempty"` // zero while the step lasts
	Seconds float64   `json:"seconds"`       // until End, or until the snapshot's time
	Detail  string    `json:"detail,omitempty"`
	// Unknown: how long it took is not in the cluster any more (a restarted container's
	// first start).
	Unknown bool `json:"unknown,omitempty"`
}

// Ongoing tells whether the step still lasts.
func (p Phase) Ongoing() bool { return p.End.IsZero() }

// ColdStart is the anatomy of one pod's start.
type ColdStart struct {
	Pod       string  `json:"pod"`
	Component string  `json:"component"`
	Phases    []Phase `json:"phases"`
	Seconds   float64 `json:"seconds"` // from creation to ready, or to the snapshot's time
	Ready     bool    `json:"ready"`
	// Probe compares the model load with the liveness probe's budget, when the main
	// container has one.
	Probe string `json:"probe,omitempty"`
	// ProbeKills says the liveness probe kills the model server before its model has loaded.
	ProbeKills bool `json:"probe_kills,omitempty"`
}

// Phase names.
const (
	PhaseScheduling = "scheduling"
	PhaseInitStart  = "image pull, init start"
	PhaseDownload   = "model download"
	PhaseStart      = "model server start"
	PhaseLoad       = "model load, to ready"
)

var pulledIn = lazyRegexp(`Successfully pulled image "([^"]+)" in ([0-9.]+m?s)`)

// ColdStarts is the anatomy of every pod of the deployment, newest first, at most max.
func ColdStarts(s *state.Snapshot, max int) []ColdStart {
	pods := make([]*corev1.Pod, 0, len(s.Pods))
	for i := range s.Pods {
		pods = append(pods, &s.Pods[i])
	}
	sort.SliceStable(pods, func(i, j int) bool { return pods[i].CreationTimestamp.After(pods[j].CreationTimestamp.Time) })
	var out []ColdStart
	for _, p := range pods[:min(len(pods), max)] {
		out = append(out, coldStart(p, s.Events, s.Now))
	}
	return out
}

// coldStart reads one pod's start: created, scheduled, the storage-initializer's run, the main
// container's start, ready.
func coldStart(p *corev1.Pod, events []corev1.Event, now time.Time) ColdStart {
	cs := ColdStart{Pod: p.Name, Component: state.ComponentOf(p)}
	created := p.CreationTimestamp.Time
	scheduled := condTime(p, corev1.PodScheduled)
	ready := condTime(p, corev1.PodReady)
	cs.Ready = !ready.IsZero()
	add := func(name string, from, to time.Time, detail string) bool {
		if from.IsZero() {
			return false
		}
		ph := Phase{Name: name, Start: from, End: to, Detail: detail}
		end := to
		if end.IsZero() {
			end = now
		}
		ph.Seconds = end.Sub(from).Round(100 * time.Millisecond).Seconds()
		cs.Phases = append(cs.Phases, ph)
		return !to.IsZero()
	}
	done := add(PhaseScheduling, created, scheduled, "")
	var initStart, initEnd time.Time
	for _, ic := range p.Status.InitContainerStatuses {
		if ic.Name != state.ContainerStorage {
			continue
		}
		switch {
		case ic.State.Terminated != nil && ic.State.Terminated.ExitCode == 0:
			initStart, initEnd = ic.State.Terminated.StartedAt.Time, ic.State.Terminated.FinishedAt.Time
		case ic.State.Running != nil && ic.RestartCount == 0:
			initStart = ic.State.Running.StartedAt.Time
		}
	}
	main := mainStatus(p)
	if done && len(p.Spec.InitContainers) > 0 {
		done = add(PhaseInitStart, scheduled, initStart, pulled(events, p.Name, state.ContainerStorage))
		if done {
			done = add(PhaseDownload, initStart, initEnd, "")
		}
	}
	serverFrom := initEnd
	if len(p.Spec.InitContainers) == 0 {
		serverFrom = scheduled
	}
	var started time.Time
	if main != nil && main.State.Running != nil {
		started = main.State.Running.StartedAt.Time
	}
	if done && main != nil && main.RestartCount > 0 {
		// A restarted server: its first start is gone; the current instance is measured.
		cs.Phases = append(cs.Phases, Phase{Name: PhaseStart, Start: serverFrom, End: started, Unknown: true,
			Detail: fmt.Sprintf("restarted %s: the first start is not known; the current instance is measured", times(main.RestartCount))})
		done = !started.IsZero()
	} else if done {
		done = add(PhaseStart, serverFrom, started, pulled(events, p.Name, mainName(p)))
	}
	if done {
		add(PhaseLoad, started, ready, "")
	}
	end := ready
	if end.IsZero() {
		end = now
	}
	cs.Seconds = end.Sub(created).Round(100 * time.Millisecond).Seconds()
	cs.Probe, cs.ProbeKills = probeBudget(p, main, started, ready, now)
	return cs
}

// probeBudget compares the model load with the liveness probe's budget: the probe kills a
// server that has not answered within initialDelaySeconds + failureThreshold x periodSeconds.
func probeBudget(p *corev1.Pod, main *corev1.ContainerStatus, started, ready, now time.Time) (string, bool) {
	spec := containerSpec(p, mainName(p))
	if spec == nil || spec.LivenessProbe == nil || main == nil {
		return "", false
	}
	pr := spec.LivenessProbe
	budget := time.Duration(pr.InitialDelaySeconds+max(pr.FailureThreshold, 1)*max(pr.PeriodSeconds, 1)) * time.Second
	if t := main.LastTerminationState.Terminated; t != nil && t.ExitCode == 137 && t.Reason != "OOMKilled" {
		ran := t.FinishedAt.Sub(t.StartedAt.Time).Round(time.Second)
		if ran >= budget-2*time.Second {
			return fmt.Sprintf("the liveness probe allows %s; the last instance ran %s and was killed (exit 137) before it was ready: the probe kills a model load still running", budget, ran), true
		}
	}
	switch {
	case started.IsZero():
		return fmt.Sprintf("the liveness probe allows %s from the server's start", budget), false
	case !ready.IsZero():
		load := ready.Sub(started).Round(time.Second)
		if load > budget*8/10 {
			return fmt.Sprintf("the model loaded in %s, close to the %s the liveness probe allows: a larger model would be killed", load, budget), false
		}
		return fmt.Sprintf("the model loaded in %s; the liveness probe allows %s", load, budget), false
	}
	return fmt.Sprintf("loading for %s; the liveness probe allows %s", now.Sub(started).Round(time.Second), budget), false
}

// condTime is when a pod condition became true; zero while it is not.
func condTime(p *corev1.Pod, t corev1.PodConditionType) time.Time {
	for _, c := range p.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// mainName is the model server's container: KServe's kserve-container, or the DEFAULT tool's
// only one.
func mainName(p *corev1.Pod) string {
	for _, c := range p.Spec.Containers {
		if c.Name == state.ContainerMain {
			return c.Name
		}
	}
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Name
	}
	return ""
}

func mainStatus(p *corev1.Pod) *corev1.ContainerStatus {
	name := mainName(p)
	for i := range p.Status.ContainerStatuses {
		if p.Status.ContainerStatuses[i].Name == name {
			return &p.Status.ContainerStatuses[i]
		}
	}
	return nil
}

// pulled is what the kubelet's Pulled event says of a container's image pull, if it said.
func pulled(events []corev1.Event, pod, container string) string {
	for _, e := range events {
		if e.InvolvedObject.Name != pod || e.Reason != "Pulled" || !strings.Contains(e.InvolvedObject.FieldPath, "{"+container+"}") {
			continue
		}
		if m := pulledIn().FindStringSubmatch(e.Message); m != nil {
			return "image pulled in " + m[2]
		}
		if strings.Contains(e.Message, "already present") {
			return "image already on the node"
		}
	}
	return ""
}

// Slowest is the phase that took the longest, for a one-line summary.
func (c ColdStart) Slowest() (Phase, bool) {
	var best Phase
	found := false
	for _, ph := range c.Phases {
		if !found || ph.Seconds > best.Seconds {
			best, found = ph, true
		}
	}
	return best, found
}
