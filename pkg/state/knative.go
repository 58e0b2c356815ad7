package state

import (
	"sort"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Knative's resources that a Serverless deployment's state is read from.
var (
	RevisionResource      = schema.GroupVersionResource{Group: "serving.knative.dev", Version: "v1", Resource: "revisions"}
	PodAutoscalerResource = schema.GroupVersionResource{Group: "autoscaling.internal.knative.dev", Version: "v1alpha1", Resource: "podautoscalers"}
)

// Revision is what Knative says of one revision of a Serverless deployment's component: its
// conditions (Ready, ContainerHealthy, ResourcesAvailable, Active) and, from its
// PodAutoscaler, the scale it wants and has.
type Revision struct {
	Name       string          `json:"name"`
	Component  string          `json:"component"`
	Created    time.Time       `json:"created"`
	Conditions []ISVCCondition `json:"conditions,omitempty"`
	// DesiredScale and ActualScale are the PodAutoscaler's (nil before it says; -1 desired:
	// not decided yet).
	DesiredScale *int64 `json:"desiredScale,omitempty"`
	ActualScale  *int64 `json:"actualScale,omitempty"`
}

// Condition is the revision's condition of a type, nil when it has none.
func (r *Revision) Condition(t string) *ISVCCondition {
	for i := range r.Conditions {
		if r.Conditions[i].Type == t {
			return &r.Conditions[i]
		}
	}
	return nil
}

// MaxRevisions is how many revisions a snapshot keeps, newest first: a rollout's new and old
// and some before, not a history that Knative may keep by the hundred.
const MaxRevisions = 10

// ParseRevisions reads Knative's Revisions and their PodAutoscalers (same name), the newest
// MaxRevisions, newest first.
func ParseRevisions(revs, pas []unstructured.Unstructured) []Revision {
	scale := map[string][2]*int64{}
	for i := range pas {
		scale[pas[i].GetName()] = [2]*int64{nestedInt(&pas[i], "desiredScale"), nestedInt(&pas[i], "actualScale")}
	}
	var out []Revision
	for i := range revs {
		u := &revs[i]
		r := Revision{Name: u.GetName(), Component: u.GetLabels()[LabelComponent], Created: u.GetCreationTimestamp().Time,
			Conditions: conditionsOf(u)}
		if s, ok := scale[r.Name]; ok {
			r.DesiredScale, r.ActualScale = s[0], s[1]
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	if len(out) > MaxRevisions {
		out = out[:MaxRevisions]
	}
	return out
}

func nestedInt(u *unstructured.Unstructured, field string) *int64 {
	v, ok, _ := unstructured.NestedInt64(u.Object, "status", field)
	if !ok {
		return nil
	}
	return &v
}

// conditionsOf reads an object's status.conditions in Knative's shape.
func conditionsOf(u *unstructured.Unstructured) []ISVCCondition {
	raw, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []ISVCCondition
	for _, r := range raw {
		m, _ := r.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		out = append(out, ISVCCondition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: str("message")})
	}
	return out
}
