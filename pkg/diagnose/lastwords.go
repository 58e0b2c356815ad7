package diagnose

import (
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
)

// Death is a container instance that ended abnormally, with its final lines (read by the
// caller: the live previous or current instance, or history once the pod is gone).
type Death struct {
	Pod       string    `json:"pod"`
	Container string    `json:"container"`
	Reason    string    `json:"reason"`
	ExitCode  int32     `json:"exit_code"`
	Signal    string    `json:"signal,omitempty"`
	At        time.Time `json:"finished_at"`
	Instance  string    `json:"instance"` // current, previous, or last (history)
	Source    string    `json:"source"`   // live or history
	Lines     []string  `json:"lines"`
}

// Previous tells whether the instance is the previous one (read with previous=true).
func (d Death) Previous() bool { return d.Instance == "previous" }

// Deaths lists, for the pods' selected containers (all when wanted is empty), every instance
// (current or previous) that ended abnormally at or after from: a non-zero exit, or an OOM kill.
func Deaths(pods []corev1.Pod, wanted map[string]bool, from time.Time) []Death {
	var out []Death
	for i := range pods {
		p := &pods[i]
		for _, cs := range state.ContainerStatuses(p) {
			if len(wanted) > 0 && !wanted[cs.Name] {
				continue
			}
			for _, inst := range []struct {
				t    *corev1.ContainerStateTerminated
				name string
			}{{cs.State.Terminated, "current"}, {cs.LastTerminationState.Terminated, "previous"}} {
				t := inst.t
				if t == nil || (t.ExitCode == 0 && t.Reason != "OOMKilled") || (!from.IsZero() && t.FinishedAt.Time.Before(from)) {
					continue
				}
				d := Death{Pod: p.Name, Container: cs.Name, Reason: orDefault(t.Reason, "Error"), ExitCode: t.ExitCode,
					Signal: SignalName(t.ExitCode, t.Signal), At: t.FinishedAt.Time, Instance: inst.name, Source: "live"}
				out = append(out, d)
			}
		}
	}
	return out
}
