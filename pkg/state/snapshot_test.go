package state

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
