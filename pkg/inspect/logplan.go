package inspect

import (
	"fmt"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
)

// SourcePlan says which sources a run reads, and why (one line on stderr).
type SourcePlan struct {
	History, Live bool
	From, Until   time.Time // the history window; Until is exclusive
	LiveFrom      time.Time // live lines before this are history's (zero: all live lines)
	Why           string
}

// PlanSources applies --source: auto reads live logs while pods exist and cover the window,
// history when there are none (idle, stopped, stopping), and history for the part of the
// window before the newest current instance of the selected containers started. The kubelet
// serves only current (and one previous) instances: the lines of earlier instances of a
// crash-looping container, and of pods replaced during the window, are in history only. So
// history reads up to that instant and live from it (Live.From), and every line of the window
// comes once. containers is the selection (nil: all); historyConfigured says whether
// OpenSearch is set up.
func PlanSources(c *LogsConfig, r *diagnose.Report, pods []corev1.Pod, containers map[string]bool, historyConfigured bool) SourcePlan {
	from := c.windowStart()
	switch {
	case c.Source == SourceLive:
		return SourcePlan{Live: true, Why: diagnose.WhyNoPods(r)}
	case c.Source == SourceHistory:
		return SourcePlan{History: true, From: from, Until: c.Until, Live: c.Follow, Why: "history (--source history)"}
	case !c.Until.IsZero():
		return SourcePlan{History: true, From: from, Until: c.Until, Why: "history (--until asks for a past window)"}
	case c.Previous:
		return SourcePlan{Live: true, Why: diagnose.WhyNoPods(r)}
	}
	if len(pods) == 0 {
		why := diagnose.WhyNoPods(r)
		if !historyConfigured {
			return SourcePlan{Live: c.Follow, Why: why + " (set --opensearch-url to read it)"}
		}
		return SourcePlan{History: true, From: from, Live: c.Follow, Why: "history from OpenSearch: " + why}
	}
	cut := newestInstanceStart(pods, containers)
	if !from.IsZero() && !cut.IsZero() && from.Before(cut) && historyConfigured {
		return SourcePlan{History: true, Live: true, From: from, Until: cut, LiveFrom: cut,
			Why: fmt.Sprintf("history before %s (when the newest container instance started), live after", cut.UTC().Format(time.RFC3339Nano))}
	}
	return SourcePlan{Live: true}
}

// newestInstanceStart is when the newest current instance of the selected containers
// started; before it, some instance that the kubelet no longer serves may have written.
func newestInstanceStart(pods []corev1.Pod, containers map[string]bool) time.Time {
	var newest time.Time
	for i := range pods {
		if pods[i].CreationTimestamp.After(newest) {
			newest = pods[i].CreationTimestamp.Time
		}
		for _, cs := range state.ContainerStatuses(&pods[i]) {
			if len(containers) > 0 && !containers[cs.Name] {
				continue
			}
			var started time.Time
			switch {
			case cs.State.Running != nil:
				started = cs.State.Running.StartedAt.Time
			case cs.State.Terminated != nil:
				started = cs.State.Terminated.StartedAt.Time
			}
			if started.After(newest) {
				newest = started
			}
		}
	}
	return newest
}
