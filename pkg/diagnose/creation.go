package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

var (
	quotaExceeded = lazyRegexp(`exceeded quota: ([^,]+), requested: ([^,]+(?:,[^:,]+=[^,]+)*), used: ([^,]+(?:,[^:,]+=[^,]+)*), limited: (.+)$`)
	quotaNeeds    = lazyRegexp(`failed quota: ([^:]+): (must specify .+)$`)
	limitRange    = lazyRegexp(`((?:maximum|minimum) \S+ usage per (?:Container|Pod) is [^,]+, but (?:limit|request) is [^,.]+)`)
)

// failedCreate: the controllers cannot create the pods, because the API server refuses them:
// a ResourceQuota of the project is used up (or asks for limits the pods do not set), a
// LimitRange caps what they ask, or an admission webhook says no. The ReplicaSet says so in
// FailedCreate events and the Deployment in its ReplicaFailure condition; no pod exists to
// read. What is true now is the condition; without it, the events count only while the
// component has no pod.
func failedCreate(s *state.Snapshot, r *Report, pods []podCtx) *Diagnosis {
	msg, object := replicaFailure(s, r)
	if msg == "" && len(pods) > 0 {
		return nil
	}
	var evidence []string
	for _, e := range r.Events {
		if e.Reason != "FailedCreate" || e.Type != corev1.EventTypeWarning {
			continue
		}
		if msg == "" {
			msg, object = e.Message, e.Object
		}
		evidence = append(evidence, fmt.Sprintf("event %s x%d on %s: %s", e.Reason, e.Count, e.Object, e.Message))
	}
	if msg == "" {
		return nil
	}
	component := componentOfObject(object, r.Name)
	ns := q(r.Namespace)
	d := &Diagnosis{Evidence: evidence}
	switch m := quotaExceeded().FindStringSubmatch(msg); {
	case m != nil:
		d.Cause = fmt.Sprintf("Kubernetes refuses to create the %s's pods: the project's ResourceQuota %s is used up (requested %s, used %s, limited to %s).", component, m[1], m[2], m[3], m[4])
		d.Next = fmt.Sprintf("see the quota: kubectl describe resourcequota %s -n %s; then stop another deployment, lower this one's resources in Hopsworks, or ask the project's owner to raise the quota", q(m[1]), ns)
		d.Terminal = true
	case quotaNeeds().MatchString(msg):
		m := quotaNeeds().FindStringSubmatch(msg)
		d.Cause = fmt.Sprintf("Kubernetes refuses to create the %s's pods: the project's ResourceQuota %s requires what they do not set (%s).", component, m[1], m[2])
		d.Next = fmt.Sprintf("set the deployment's resource limits in Hopsworks; the quota: kubectl describe resourcequota %s -n %s", q(m[1]), ns)
		d.Terminal = true
	case limitRange().MatchString(msg):
		d.Cause = fmt.Sprintf("Kubernetes refuses to create the %s's pods: a LimitRange of the project says %s.", component, limitRange().FindString(msg))
		d.Next = fmt.Sprintf("lower the deployment's resources in Hopsworks to fit; the limits: kubectl describe limitrange -n %s", ns)
		d.Terminal = true
	default:
		d.Cause = fmt.Sprintf("Kubernetes refuses to create the %s's pods: %s", component, strings.TrimPrefix(msg, "Error creating: "))
		d.Next = fmt.Sprintf("see the refusals: kubectl get events -n %s --field-selector reason=FailedCreate", ns)
	}
	if object != "" && !strings.HasPrefix(object, "ReplicaSet/") {
		d.Evidence = append([]string{fmt.Sprintf("%s: ReplicaFailure=True (FailedCreate): %s", object, msg)}, d.Evidence...)
	}
	return d
}

// replicaFailure is a Deployment's ReplicaFailure condition, when true: KServe's component
// Deployments in Standard mode, the DEFAULT tool's Deployment.
func replicaFailure(s *state.Snapshot, r *Report) (msg, object string) {
	if r.InferenceService != nil {
		for _, d := range r.InferenceService.Deployments {
			for _, c := range d.Conditions {
				if c.Type == "ReplicaFailure" && c.Status == "True" {
					return c.Message, "Deployment/" + d.Name
				}
			}
		}
	}
	if s.Deployment != nil {
		for _, c := range s.Deployment.Status.Conditions {
			if c.Type == "ReplicaFailure" && c.Status == corev1.ConditionTrue {
				return c.Message, "Deployment/" + s.Deployment.Name
			}
		}
	}
	return "", ""
}

// componentOfObject is the component an object of the deployment belongs to, by its name
// (<name>-predictor-..., <name>-transformer-...).
func componentOfObject(object, name string) string {
	n := object[strings.LastIndexByte(object, '/')+1:]
	switch {
	case strings.HasPrefix(n, name+"-transformer"):
		return state.ComponentTransform
	case strings.HasPrefix(n, name+"-predictor"):
		return state.ComponentPredictor
	}
	return "deployment"
}

var missingObject = lazyRegexp(`(configmap|secret) "([^"]+)" not found`)

// failedMount: the kubelet cannot mount a volume of a scheduled pod, so no container of it
// starts (ContainerCreating), init containers included. A ConfigMap or Secret that does not
// exist will not appear by itself.
func failedMount(pods []podCtx, r *Report, ns string) *Diagnosis {
	for _, p := range pods {
		ev := eventsFor(r, p.pod.Name, "FailedMount", "FailedAttachVolume")
		if len(ev) == 0 || podStarted(p.pod) {
			continue
		}
		d := &Diagnosis{
			Cause:    fmt.Sprintf("The %s's pod cannot start: the kubelet cannot mount one of its volumes, so no container is created.", p.component),
			Evidence: append([]string{fmt.Sprintf("pod %s: scheduled on %s, no container started", p.pod.Name, orDefault(p.pod.Spec.NodeName, "a node"))}, ev...),
			Next:     fmt.Sprintf("see the volume: kubectl describe pod %s -n %s", q(p.pod.Name), q(ns)),
		}
		if m := missingObject().FindStringSubmatch(strings.Join(ev, " ")); m != nil {
			kind := map[string]string{"configmap": "ConfigMap", "secret": "Secret"}[m[1]]
			d.Cause = fmt.Sprintf("The %s's pod cannot start: the %s %s that it mounts does not exist.", p.component, kind, m[2])
			d.Next = fmt.Sprintf("create the %s %s in the project's namespace, or remove the volume from the deployment: kubectl get %s -n %s", m[1], m[2], m[1], q(ns))
			d.Terminal = true
		}
		return d
	}
	return nil
}

// podStarted tells whether any container of the pod has started.
func podStarted(p *corev1.Pod) bool {
	for _, cs := range state.ContainerStatuses(p) {
		if cs.State.Running != nil || cs.State.Terminated != nil || cs.LastTerminationState.Terminated != nil {
			return true
		}
	}
	return false
}
