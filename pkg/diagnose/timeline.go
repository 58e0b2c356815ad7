package diagnose

import (
	"fmt"
	"sort"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Entry is one moment of a deployment's history in the cluster.
type Entry struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"` // condition, pod, container, event, log
	Object string    `json:"object"`
	What   string    `json:"what"`
}

// Timeline merges, in time order across pods, the InferenceService's and the pods' condition
// transitions, pod creations, container starts and terminations, and events. extra (log
// lines, for --logs) is merged in.
func Timeline(s *state.Snapshot, extra []Entry) []Entry {
	var out []Entry
	add := func(t time.Time, kind, obj, what string) {
		if !t.IsZero() {
			out = append(out, Entry{Time: t, Kind: kind, Object: obj, What: what})
		}
	}
	if s.ISVC != nil {
		add(s.ISVC.GetCreationTimestamp().Time, "object", "InferenceService/"+s.ISVC.GetName(), "created")
		conds, _, _ := unstructured.NestedSlice(s.ISVC.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			ts, _ := m["lastTransitionTime"].(string)
			t, _ := time.Parse(time.RFC3339, ts)
			add(t, "condition", "InferenceService/"+s.ISVC.GetName(), fmt.Sprintf("%v=%v %v %v", m["type"], m["status"], orEmpty(m["reason"]), orEmpty(m["message"])))
		}
		if dt := s.ISVC.GetDeletionTimestamp(); dt != nil {
			add(dt.Time, "object", "InferenceService/"+s.ISVC.GetName(), "deletion requested (stopping)")
		}
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		obj := "pod/" + p.Name
		add(p.CreationTimestamp.Time, "pod", obj, "created")
		for _, c := range p.Status.Conditions {
			what := fmt.Sprintf("%s=%s", c.Type, c.Status)
			if c.Reason != "" || c.Message != "" {
				what += " " + c.Reason + " " + c.Message
			}
			add(c.LastTransitionTime.Time, "condition", obj, what)
		}
		for _, cs := range state.ContainerStatuses(p) {
			cobj := obj + "/" + cs.Name
			if r := cs.State.Running; r != nil {
				add(r.StartedAt.Time, "container", cobj, "started")
			}
			for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t == nil {
					continue
				}
				add(t.StartedAt.Time, "container", cobj, "started")
				what := fmt.Sprintf("terminated: %s, exit %d", orDefault(t.Reason, "Error"), t.ExitCode)
				if sig := SignalName(t.ExitCode, t.Signal); sig != "" {
					what += " (" + sig + ")"
				}
				add(t.FinishedAt.Time, "container", cobj, what)
			}
			if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" {
				add(s.Now, "container", cobj, "now waiting: "+w.Reason)
			}
		}
	}
	for _, e := range s.Events {
		first, last := eventTimes(&e)
		obj := e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name
		if e.Count > 1 && !first.Equal(last) {
			add(first, "event", obj, fmt.Sprintf("%s %s (first of %d): %s", e.Type, e.Reason, e.Count, e.Message))
		}
		add(last, "event", obj, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Message))
	}
	// The anatomy of each start: when a step ends, how long it took.
	for _, cs := range ColdStarts(s, len(s.Pods)) {
		for _, ph := range cs.Phases {
			if !ph.Ongoing() && !ph.Unknown {
				add(ph.End, "phase", "pod/"+cs.Pod, fmt.Sprintf("%s took %s", ph.Name, seconds(ph.Seconds)))
			}
		}
	}
	out = append(out, extra...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

func orEmpty(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// seconds prints a phase's length: 0.4s, 12s, 4m05s.
func seconds(sec float64) string {
	d := time.Duration(sec * float64(time.Second))
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", sec)
	case d < time.Minute:
		return fmt.Sprintf("%.0fs", sec)
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// Seconds prints a phase's length as timelines and why do.
func Seconds(sec float64) string { return seconds(sec) }
