package state

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestPodSelectorOfADefaultDeployment(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "python-server-7"}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"model": "7"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"model": "7"}}}}}
	s := &Snapshot{Name: "legacy", Deployment: d}
	if sel, err := s.PodSelector(); err != nil || sel != "model=7" {
		t.Errorf("a template without the name label: %q %v", sel, err)
	}
	d.Spec.Template.Labels[LabelName] = "legacy"
	if sel, _ := s.PodSelector(); sel != LabelName+"=legacy" {
		t.Errorf("a template with the name label: %q", sel)
	}
}

// KServe's stop annotation counts where KServe acts on it, that is where it writes a Stopped
// condition; KServe 0.15 in Standard mode ignores it, and so does the derivation.
func TestStopAnnotationCountsWhereKServeActsOnIt(t *testing.T) {
	isvc := func(stop string, conds ...any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "m"}, "status": map[string]any{"conditions": conds}}}
		if stop != "" {
			u.SetAnnotations(map[string]string{AnnotKServeStop: stop})
		}
		return u
	}
	stopped := map[string]any{"type": "Stopped", "status": "True"}
	ready := map[string]any{"type": "Ready", "status": "True"}
	for _, tc := range []struct {
		u    *unstructured.Unstructured
		want bool
	}{
		{isvc("true", ready, stopped), true},
		{isvc("TRUE", stopped), true},
		{isvc("true", ready), false}, // not acted on
		{isvc("false", stopped), false},
		{isvc("", stopped), false},
	} {
		if got := ParseISVC(tc.u).StopRequested; got != tc.want {
			t.Errorf("%v: StopRequested %v, want %v", tc.u.Object, got, tc.want)
		}
	}
}
