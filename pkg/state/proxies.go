package state

import (
	corev1 "k8s.io/api/core/v1"
)

// FromCluster builds the backend's Input from a Snapshot with the Kubernetes-only stand-ins of
// docs/hopsworks-state.md §6 (where each can be wrong is said there), and returns it with the pods that the backend would select, in list order.
//
//   - deployed: the InferenceService (or DEFAULT Deployment) exists and is not being deleted.
//     Hopsworks creates it on START and deletes it on STOP; reading deletionTimestamp maps
//     "being deleted" to Stopping, which Hopsworks shows once its database says "not deployed".
//   - revision: the object's serving.hops.works/revision label, else a remaining pod's.
//   - the artifact is assumed to exist (HopsFS cannot be seen from Kubernetes), so Creating
//     and Created are never derived: "nothing left" reads as Stopped.
//   - transformer: spec.transformer or the serving.hops.works/transformer annotation.
//   - instances (DEFAULT): the Deployment's spec.replicas.
func FromCluster(s *Snapshot) Input {
	in := Input{Tool: s.Tool(), ArtifactExists: true, HasTransformer: s.HasTransformer()}
	labels := s.Labels()
	id := labels[LabelID]
	in.Revision = labels[LabelRevision]
	if in.Revision == "" {
		in.Revision = "unknown" // something existed, so the deployment was started once
	}

	if in.Tool == ToolDefault {
		if d := s.Deployment; d != nil {
			in.Deployed = d.DeletionTimestamp == nil
			ds := &DeploymentStatus{ObservedGeneration: d.Status.ObservedGeneration}
			// The backend reads the JSON Integer, which the API server omits when it is 0.
			if d.Status.AvailableReplicas != 0 {
				v := d.Status.AvailableReplicas
				ds.AvailableReplicas = &v
			}
			for _, c := range d.Status.Conditions {
				ds.Conditions = append(ds.Conditions, ISVCCondition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})
			}
			in.Deployment = ds
			in.Instances = 1
			if d.Spec.Replicas != nil {
				in.Instances = *d.Spec.Replicas
			}
		}
		in.Pods = selectPods(s.Pods, func(p *corev1.Pod) bool { return id == "" || p.Labels[LabelDefaultModel] == id })
		return in
	}

	if s.ISVC != nil {
		in.ISVC = ParseISVC(s.ISVC)
		in.Deployed = s.ISVC.GetDeletionTimestamp() == nil && !in.ISVC.StopRequested
	}
	rev := ""
	if s.ISVC != nil {
		rev = s.ISVC.GetLabels()[LabelRevision]
	}
	in.Pods = selectPods(s.Pods, func(p *corev1.Pod) bool {
		switch {
		case id != "" && p.Labels[LabelID] != id:
			return false
		case id == "" && s.ISVC != nil && p.Labels[LabelISVC] != s.ISVC.GetName():
			return false
		case rev != "" && p.Labels[LabelRevision] != rev:
			return false
		}
		return true
	})
	return in
}

func selectPods(pods []corev1.Pod, keep func(*corev1.Pod) bool) []corev1.Pod {
	// Usually every pod is kept: then the snapshot's own slice (read only) serves, without a
	// copy of every pod; else one allocation.
	all := true
	for i := range pods {
		all = all && keep(&pods[i])
	}
	if all {
		return pods
	}
	out := make([]corev1.Pod, 0, len(pods))
	for i := range pods {
		if keep(&pods[i]) {
			out = append(out, pods[i])
		}
	}
	return out
}
