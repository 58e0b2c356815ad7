package diagnose

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

// NodeFit says, node by node, why a pod does not fit: the labels its selector or affinity
// asks for, a taint it does not tolerate, a node cordoned, or the resources it asks for
// against what the node has left (allocatable less what its pods request). It reads what
// the gatherer could read: without nodes it says so; without their pods, the free resources
// are the allocatable ones and it says so. Nodes that fit come last, as "fits".
func NodeFit(pod *corev1.Pod, nodes *state.Nodes) []string {
	if nodes == nil {
		return nil
	}
	if len(nodes.Items) == 0 {
		if nodes.Note != "" {
			return []string{"nodes: " + nodes.Note}
		}
		return []string{"nodes: none in the cluster"}
	}
	asks := state.PodRequests(pod)
	var out, fits []string
	for i := range nodes.Items {
		n := &nodes.Items[i]
		used, known := nodes.Requested[n.Name]
		reasons := nodeReasons(pod, n, asks, used, known)
		if len(reasons) == 0 {
			fits = append(fits, "node "+n.Name+": fits")
			continue
		}
		out = append(out, "node "+n.Name+": "+strings.Join(reasons, "; "))
	}
	if nodes.Note != "" {
		out = append(out, "nodes: "+nodes.Note)
	}
	return append(out, fits...)
}

// nodeReasons are the reasons one node does not take the pod; known says whether the node's
// requested resources were read.
func nodeReasons(pod *corev1.Pod, n *corev1.Node, asks, used corev1.ResourceList, known bool) []string {
	var out []string
	if n.Spec.Unschedulable {
		out = append(out, "cordoned (unschedulable)")
	}
	if ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(n); !ok {
		out = append(out, "labels do not match the pod's "+selectorWords(pod))
	}
	if t, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), n.Spec.Taints, pod.Spec.Tolerations, schedulingTaint, false); untolerated {
		out = append(out, fmt.Sprintf("taint %s=%s:%s not tolerated", t.Key, t.Value, t.Effect))
	}
	names := make([]string, 0, len(asks))
	for name := range asks {
		names = append(names, string(name))
	}
	sort.Strings(names)
	for _, name := range names {
		want := asks[corev1.ResourceName(name)]
		alloc, has := n.Status.Allocatable[corev1.ResourceName(name)]
		if !has || alloc.IsZero() {
			out = append(out, fmt.Sprintf("no %s (asks %s)", name, want.String()))
			continue
		}
		free := alloc.DeepCopy()
		if u, ok := used[corev1.ResourceName(name)]; ok {
			free.Sub(u)
		}
		if free.Cmp(want) < 0 {
			of := "free"
			if !known {
				of = "allocatable"
			}
			out = append(out, fmt.Sprintf("%s %s %s of %s, asks %s", name, of, free.String(), alloc.String(), want.String()))
		}
	}
	return out
}

// schedulingTaint tells whether a taint keeps pods off (PreferNoSchedule does not).
func schedulingTaint(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// untolerated tells whether a pod does not tolerate a taint that keeps pods off.
func untolerated(pod *corev1.Pod, t corev1.Taint) bool {
	return schedulingTaint(&t) && !corev1helpers.TolerationsTolerateTaint(klog.Background(), pod.Spec.Tolerations, &t, false)
}

// selectorWords names what the pod selects nodes by.
func selectorWords(pod *corev1.Pod) string {
	var sel []string
	for k, v := range pod.Spec.NodeSelector {
		sel = append(sel, k+"="+v)
	}
	sort.Strings(sel)
	switch {
	case len(sel) > 0 && pod.Spec.Affinity != nil && pod.Spec.Affinity.NodeAffinity != nil:
		return "nodeSelector " + strings.Join(sel, ",") + " and node affinity"
	case len(sel) > 0:
		return "nodeSelector " + strings.Join(sel, ",")
	}
	return "node affinity"
}

// noNodeHas tells, from the nodes, whether no node has any of the resource at all (a GPU no
// node offers): a wait will not end by itself.
func noNodeHas(nodes *state.Nodes, name string) bool {
	if nodes == nil || len(nodes.Items) == 0 {
		return false
	}
	for _, n := range nodes.Items {
		if q, ok := n.Status.Allocatable[corev1.ResourceName(name)]; ok && q.Cmp(resource.Quantity{}) > 0 {
			return false
		}
	}
	return true
}
