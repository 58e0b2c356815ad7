package diagnose

import (
	"fmt"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

// latestRevisions are the newest revision of each component (Revisions are newest first).
func latestRevisions(s *state.Snapshot) []*state.Revision {
	seen := map[string]bool{}
	var out []*state.Revision
	for i := range s.Revisions {
		r := &s.Revisions[i]
		if !seen[r.Component] {
			seen[r.Component] = true
			out = append(out, r)
		}
	}
	return out
}

// revisionEvidence is a revision's conditions that are not True, and its scale.
func revisionEvidence(r *state.Revision) []string {
	var out []string
	for _, c := range r.Conditions {
		if c.Status != "True" {
			line := fmt.Sprintf("Revision %s %s=%s", r.Name, c.Type, c.Status)
			if c.Reason != "" {
				line += " (" + c.Reason + ")"
			}
			if c.Message != "" {
				line += ": " + c.Message
			}
			out = append(out, line)
		}
	}
	if r.DesiredScale != nil && r.ActualScale != nil {
		out = append(out, fmt.Sprintf("PodAutoscaler %s: wants %d, has %d", r.Name, *r.DesiredScale, *r.ActualScale))
	}
	return out
}

// revisionFailed: Knative gave up on a component's latest revision (Ready=False). Once it
// does, it may have scaled the revision to zero, so that no pod is left to say why: its
// conditions are then the only account (a progress deadline passed, a container that exited).
func revisionFailed(s *state.Snapshot, logsCmd func(string) string) *Diagnosis {
	for _, r := range latestRevisions(s) {
		ready := r.Condition("Ready")
		if ready == nil || ready.Status != "False" {
			continue
		}
		comp := ""
		if r.Component == state.ComponentPredictor || r.Component == state.ComponentTransform {
			comp = " -c " + r.Component
		}
		d := &Diagnosis{Terminal: true, Evidence: revisionEvidence(r),
			Next: logsCmd(comp+" --since 1h") + " (the last instance's lines, from OpenSearch when no pod is left)"}
		gone := ""
		if podsOf(s, r.Component) == 0 {
			gone = ", so no pod is left to show why"
		}
		switch ready.Reason {
		case "ProgressDeadlineExceeded":
			d.Cause = fmt.Sprintf("Knative gave up on the %s's revision %s: it did not become ready within its progress deadline (%q), and Knative scaled it down%s.", r.Component, r.Name, ready.Message, gone)
		default:
			d.Cause = fmt.Sprintf("Knative reports the %s's revision %s failed: %s: %s", r.Component, r.Name, ready.Reason, ready.Message)
		}
		return d
	}
	return nil
}

// podsOf counts the snapshot's pods of a component.
func podsOf(s *state.Snapshot, component string) int {
	n := 0
	for i := range s.Pods {
		if state.ComponentOf(&s.Pods[i]) == component {
			n++
		}
	}
	return n
}

// idleEvidence is what Knative says of a scaled-to-zero deployment's latest revisions.
func idleEvidence(s *state.Snapshot) []string {
	var out []string
	for _, r := range latestRevisions(s) {
		if r.DesiredScale != nil && r.ActualScale != nil {
			line := fmt.Sprintf("PodAutoscaler %s: wants %d, has %d", r.Name, *r.DesiredScale, *r.ActualScale)
			if c := r.Condition("Active"); c != nil && c.Status != "True" {
				line += fmt.Sprintf("; Active=%s %s", c.Status, c.Reason)
			}
			out = append(out, line)
		}
	}
	return out
}
