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
	asks := podRequests(pod)
	var out, fits []string
	for i := range nodes.Items {
		n := &nodes.Items[i]
		reasons := nodeReasons(pod, n, asks, nodes.Requested[n.Name], nodes.Requested != nil)
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
	noSchedule := func(t *corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
	}
	if t, untolerated := corev1helpers.FindMatchingUntoleratedTaint(klog.Background(), n.Spec.Taints, pod.Spec.Tolerations, noSchedule, false); untolerated {
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

// podRequests is what the scheduler counts for a pod: each resource's requests summed over
// its containers (a limit stands for an unset request, as the API server defaults it), or
// the largest init container's when that is more.
func podRequests(pod *corev1.Pod) corev1.ResourceList {
	of := func(c *corev1.Container) corev1.ResourceList {
		out := corev1.ResourceList{}
		for name, q := range c.Resources.Limits {
			out[name] = q.DeepCopy()
		}
		for name, q := range c.Resources.Requests {
			out[name] = q.DeepCopy()
		}
		return out
	}
	sum := corev1.ResourceList{}
	for i := range pod.Spec.Containers {
		for name, q := range of(&pod.Spec.Containers[i]) {
			cur := sum[name]
			cur.Add(q)
			sum[name] = cur
		}
	}
	for i := range pod.Spec.InitContainers {
		for name, q := range of(&pod.Spec.InitContainers[i]) {
			if cur, ok := sum[name]; !ok || q.Cmp(cur) > 0 {
				sum[name] = q
			}
		}
	}
	return sum
}

// NodeRequests sums what the pods on a node request, as the scheduler counts it (pods that
// ended do not count).
func NodeRequests(pods []corev1.Pod) corev1.ResourceList {
	sum := corev1.ResourceList{}
	for i := range pods {
		if p := pods[i].Status.Phase; p == corev1.PodSucceeded || p == corev1.PodFailed {
			continue
		}
		for name, q := range podRequests(&pods[i]) {
			cur := sum[name]
			cur.Add(q)
			sum[name] = cur
		}
	}
	return sum
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
