package state

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func knObject(kind, name string, created time.Time, status map[string]any) unstructured.Unstructured {
	u := unstructured.Unstructured{Object: map[string]any{"kind": kind, "metadata": map[string]any{
		"name": name, "labels": map[string]any{LabelComponent: "predictor"}}, "status": status}}
	u.SetCreationTimestamp(metav1.NewTime(created))
	return u
}

// Revisions come newest first, with their PodAutoscaler's scale, at most MaxRevisions.
func TestParseRevisions(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	var revs, pas []unstructured.Unstructured
	for i := 1; i <= MaxRevisions+3; i++ {
		name := fmt.Sprintf("m-predictor-%05d", i)
		revs = append(revs, knObject("Revision", name, t0.Add(time.Duration(i)*time.Minute), map[string]any{
			"conditions": []any{map[string]any{"type": "Ready", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "Initial scale was never achieved"}}}))
		pas = append(pas, knObject("PodAutoscaler", name, t0, map[string]any{"desiredScale": int64(0), "actualScale": int64(i % 2)}))
	}
	got := ParseRevisions(revs, pas)
	if len(got) != MaxRevisions {
		t.Fatalf("%d revisions, want the newest %d", len(got), MaxRevisions)
	}
	first := got[0]
	if first.Name != "m-predictor-00013" || first.Component != "predictor" || *first.DesiredScale != 0 || *first.ActualScale != 1 {
		t.Errorf("newest: %+v", first)
	}
	if c := first.Condition("Ready"); c == nil || c.Reason != "ProgressDeadlineExceeded" || first.Condition("Active") != nil {
		t.Errorf("conditions: %+v", first.Conditions)
	}
	if r := ParseRevisions(revs[:1], nil); r[0].DesiredScale != nil || r[0].ActualScale != nil {
		t.Errorf("no PodAutoscaler, yet a scale: %+v", r[0])
	}
}
