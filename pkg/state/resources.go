package state

import corev1 "k8s.io/api/core/v1"

// PodRequests is what the scheduler counts for a pod: each resource's requests summed over
// its containers (a limit stands for an unset request, as the API server defaults it), or
// the largest init container's when that is more.
func PodRequests(pod *corev1.Pod) corev1.ResourceList {
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
		for name, q := range PodRequests(&pods[i]) {
			cur := sum[name]
			cur.Add(q)
			sum[name] = cur
		}
	}
	return sum
}
