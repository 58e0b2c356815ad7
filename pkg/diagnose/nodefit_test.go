package diagnose_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

func node(name string, labels map[string]string, cpu string, mod func(*corev1.Node)) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("32Gi")}}}
	if mod != nil {
		mod(&n)
	}
	return n
}

// Node by node, each reason a node does not take the pod, from what could be read.
func TestNodeFit(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: map[string]string{"pool": "inference"},
		Containers: []corev1.Container{{Name: "kserve-container", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), "nvidia.com/gpu": resource.MustParse("1")}}}}}}
	inference := map[string]string{"pool": "inference"}
	nodes := &state.Nodes{
		Items: []corev1.Node{
			node("plain", nil, "8", nil),
			node("tainted", inference, "8", func(n *corev1.Node) {
				n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoSchedule}}
				n.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("1")
			}),
			node("busy", inference, "8", func(n *corev1.Node) { n.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("1") }),
			node("cordoned", inference, "4", func(n *corev1.Node) {
				n.Spec.Unschedulable = true
				n.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("2")
			}),
			node("fits", inference, "4", func(n *corev1.Node) { n.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("1") }),
		},
		Requested: map[string]corev1.ResourceList{"busy": {corev1.ResourceCPU: resource.MustParse("7")}},
	}
	got := strings.Join(diagnose.NodeFit(pod, nodes), "\n")
	for _, line := range []string{
		"node plain: labels do not match the pod's nodeSelector pool=inference; no nvidia.com/gpu (asks 1)",
		"node tainted: taint dedicated=gpu:NoSchedule not tolerated",
		"node busy: cpu free 1 of 8, asks 2",
		"node cordoned: cordoned (unschedulable)",
		"node fits: fits",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("node fit lacks %q:\n%s", line, got)
		}
	}
	if strings.Contains(got, "node tainted: taint dedicated=gpu:NoSchedule not tolerated; cpu") {
		t.Errorf("a node whose pods were not read says what is free:\n%s", got)
	}
	// Nodes that cannot be read are said once.
	if got := diagnose.NodeFit(pod, &state.Nodes{Note: "you may not list nodes"}); len(got) != 1 || got[0] != "nodes: you may not list nodes" {
		t.Errorf("no nodes: %q", got)
	}
}

// A GPU that no node offers ends a wait; one that nodes offer but have in use does not.
func TestUnschedulableIsTerminalOnlyWhenNoNodeHasIt(t *testing.T) {
	snap := fixtures.GPUUnschedulable("demo", "gpumodel").Snapshot(now)
	snap.Nodes = &state.Nodes{Items: []corev1.Node{node("cpu-only", nil, "8", nil)}}
	if d := diagnose.Diagnose(snap, diagnose.Build(snap)); !d.Terminal || !strings.Contains(strings.Join(d.Evidence, "\n"), "node cpu-only: no nvidia.com/gpu (asks 1)") {
		t.Errorf("no node has a GPU: terminal %v, evidence %q", d.Terminal, d.Evidence)
	}
	snap.Nodes.Items = append(snap.Nodes.Items, node("gpu", nil, "8", func(n *corev1.Node) { n.Status.Allocatable["nvidia.com/gpu"] = resource.MustParse("1") }))
	if d := diagnose.Diagnose(snap, diagnose.Build(snap)); d.Terminal {
		t.Errorf("a node has a GPU (in use): terminal")
	}
	snap.Nodes = nil
	if d := diagnose.Diagnose(snap, diagnose.Build(snap)); d.Terminal {
		t.Errorf("nodes unknown: terminal")
	}
}
