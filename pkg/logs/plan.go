package logs

import (
	"fmt"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	corev1 "k8s.io/api/core/v1"
)

// SourcePlan says which sources a run reads, and why (one line on stderr).
type SourcePlan struct {
	History, Live bool
	From, Until   time.Time // the history window; Until is exclusive
	Why           string
}

// PlanSources applies --source: auto reads live logs while pods exist and cover the window,
// history when there are none (idle, stopped, stopping) and for the part of the window before
// the oldest pod started. historyConfigured says whether OpenSearch is set up.
func PlanSources(c *Config, r *diagnose.Report, pods []corev1.Pod, historyConfigured bool) SourcePlan {
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
	oldest := pods[0].CreationTimestamp.Time
	for _, p := range pods {
		if p.CreationTimestamp.Time.Before(oldest) {
			oldest = p.CreationTimestamp.Time
		}
	}
	if !from.IsZero() && from.Before(oldest) && historyConfigured {
		return SourcePlan{History: true, Live: true, From: from, Until: oldest,
			Why: fmt.Sprintf("history before %s (when the oldest pod started), live after", oldest.UTC().Format(time.RFC3339))}
	}
	return SourcePlan{Live: true}
}
