package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A list hands each namespace's snapshots on once the pods (listed in key order) have moved
// past it, in namespace and name order, each deployment once with all of its pods, whether it
// has an InferenceService, a Deployment, pods only, or no pods; the pods of a namespace are
// let go once handed on.
func TestNamespaceStreamHandsOnEachNamespaceInOrder(t *testing.T) {
	isvc := func(ns, name string) unstructured.Unstructured {
		u := unstructured.Unstructured{}
		u.SetNamespace(ns)
		u.SetName(name)
		u.SetLabels(map[string]string{state.LabelName: name})
		return u
	}
	pod := func(ns, name, of string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{state.LabelName: of}}}
	}
	meta := &listed{
		isvcs: []unstructured.Unstructured{isvc("e", "late"), isvc("a", "alone"), isvc("c", "zed"), isvc("c", "both")},
		deps:  []appsv1.Deployment{{ObjectMeta: metav1.ObjectMeta{Namespace: "c", Name: "python-server-dflt", Labels: map[string]string{state.LabelName: "dflt"}}}},
	}
	var got []string
	var held []int
	n := &namespaceStream{now: time.Now(), fn: func(s *state.Snapshot) error {
		got = append(got, s.Namespace+"/"+s.Name+":"+strings.Repeat("p", len(s.Pods)))
		return nil
	}}
	n.index(meta)
	// The pods as the API server pages them: namespace b, then c, then d.
	pages := [][]corev1.Pod{
		{pod("b", "orphan-1", "orphan")},
		{pod("c", "both-1", "both"), pod("c", "both-2", "both"), pod("c", "dflt-1", "dflt")},
		{pod("d", "only-1", "only")},
	}
	ready := func() error { return nil }
	for _, page := range pages {
		for _, p := range page {
			if err := n.add(&p, ready); err != nil {
				t.Fatal(err)
			}
			held = append(held, len(n.pods))
		}
	}
	if err := n.add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a"}}, ready); err == nil || !strings.Contains(err.Error(), "out of namespace order") {
		t.Errorf("a pod out of order: %v", err)
	}
	if err := n.through(true); err != nil {
		t.Fatal(err)
	}
	want := "a/alone: b/orphan:p c/both:pp c/dflt:p c/zed: d/only:p e/late:"
	if strings.Join(got, " ") != want {
		t.Errorf("handed on\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if max := maxOf(held); max > 3 {
		t.Errorf("%d pods held at once: more than one namespace's", max)
	}
	if len(n.meta) != 0 || n.pods != nil {
		t.Errorf("left after the end: %d namespaces, %d pods", len(n.meta), len(n.pods))
	}
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
