package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

var (
	insufficient = lazyRegexp(`Insufficient ([A-Za-z0-9./_-]+)`)
	claimMissing = lazyRegexp(`persistentvolumeclaim "([^"]+)" not found`)
	// "untolerated taint(s)" since Kubernetes 1.31; "untolerated taint {k: v}" before.
	taintWords = lazyRegexp(`untolerated taint(?:\(s\)| (\{[^}]*\}))`)
)

// placement is what the scheduler's message says of the nodes, reason by reason.
type placement struct {
	missing  []string // resources no node has enough of
	claim    string   // a PersistentVolumeClaim that does not exist
	unbound  bool     // a claim not bound to a volume yet
	selector bool     // nodes whose labels do not match the selector or affinity
	taints   []string // taints not tolerated
	cordoned bool
}

// readPlacement reads the scheduler's message: "0/3 nodes are available: 1 node(s) had
// untolerated taint {k: v}, 2 Insufficient cpu. preemption: ...".
func readPlacement(msg string) placement {
	var p placement
	for _, m := range insufficient().FindAllStringSubmatch(msg, -1) {
		p.missing = append(p.missing, strings.TrimSuffix(m[1], "."))
	}
	if m := claimMissing().FindStringSubmatch(msg); m != nil {
		p.claim = m[1]
	}
	for _, m := range taintWords().FindAllStringSubmatch(msg, -1) {
		p.taints = append(p.taints, m[1]) // "" when the scheduler does not name it
	}
	p.unbound = strings.Contains(msg, "unbound immediate PersistentVolumeClaims")
	p.selector = strings.Contains(msg, "didn't match Pod's node affinity/selector")
	p.cordoned = strings.Contains(msg, "were unschedulable")
	return p
}

// unschedulable: the scheduler cannot place a pod. The cause is the scheduler's reason that
// no change of load will lift first (a claim that does not exist, resources no node has),
// then selectors and taints; the evidence says node by node why none fits, where the nodes
// could be read.
func unschedulable(s *state.Snapshot, pods []podCtx, r *Report, ns string) *Diagnosis {
	for _, p := range pods {
		for _, c := range p.pod.Status.Conditions {
			if c.Type != corev1.PodScheduled || c.Status == corev1.ConditionTrue || (c.Reason != corev1.PodReasonUnschedulable && c.Reason != corev1.PodReasonSchedulerError) {
				continue
			}
			pl := readPlacement(c.Message)
			d := placementDiagnosis(p, pl, s.Nodes, ns)
			d.Evidence = append([]string{fmt.Sprintf("pod %s: PodScheduled=False (%s): %s", p.pod.Name, c.Reason, c.Message)}, d.Evidence...)
			if req := requests(p.pod); req != "" {
				d.Evidence = append(d.Evidence, fmt.Sprintf("the %s asks for %s", p.component, req))
			}
			d.Evidence = append(d.Evidence, NodeFit(p.pod, s.Nodes)...)
			d.Evidence = append(d.Evidence, eventsFor(r, p.pod.Name, "FailedScheduling")...)
			return d
		}
	}
	return nil
}

// placementDiagnosis words the cause and the next step of one unschedulable pod.
func placementDiagnosis(p podCtx, pl placement, nodes *state.Nodes, ns string) *Diagnosis {
	pod := q(p.pod.Name)
	switch {
	case pl.claim != "":
		return &Diagnosis{Terminal: true,
			Cause: fmt.Sprintf("The %s cannot be scheduled: the PersistentVolumeClaim %s that it mounts does not exist.", p.component, pl.claim),
			Next:  fmt.Sprintf("create the claim, or remove the volume from the deployment: kubectl get pvc -n %s", q(ns))}
	case pl.unbound:
		return &Diagnosis{
			Cause: fmt.Sprintf("The %s cannot be scheduled: a PersistentVolumeClaim it mounts is not bound to a volume yet.", p.component),
			Next:  fmt.Sprintf("see why the claim is pending: kubectl describe pvc -n %s", q(ns))}
	case len(pl.missing) > 0:
		d := &Diagnosis{
			Cause: fmt.Sprintf("The %s cannot be scheduled: no node has enough %s for it.", p.component, strings.Join(pl.missing, ", ")),
			Next:  fmt.Sprintf("lower the %s's resources (or instances) in Hopsworks, or add nodes with %s; see what nodes offer: kubectl describe nodes | grep -A8 Allocatable", p.component, strings.Join(pl.missing, ", "))}
		// A resource that no node offers at all will not come free: the wait ends.
		for _, m := range pl.missing {
			d.Terminal = d.Terminal || noNodeHas(nodes, m)
		}
		return d
	case pl.selector || len(pl.taints) > 0 || pl.cordoned:
		var why []string
		if pl.selector {
			why = append(why, "no node has the labels its "+selectorWords(p.pod)+" asks for")
		}
		for _, t := range taintNames(pl.taints, p.pod, nodes) {
			why = append(why, "the nodes that would fit carry the taint "+t+", which it does not tolerate")
		}
		if pl.cordoned {
			why = append(why, "nodes are cordoned")
		}
		next := fmt.Sprintf("see the nodes' labels and taints: kubectl get nodes --show-labels; kubectl describe nodes | grep Taints; then fix the deployment's node selector or tolerations (or label or untaint a node); the pod: kubectl describe pod %s -n %s", pod, q(ns))
		return &Diagnosis{Terminal: !pl.cordoned, Cause: fmt.Sprintf("The %s cannot be scheduled: %s.", p.component, strings.Join(why, "; ")), Next: next}
	}
	return &Diagnosis{Cause: fmt.Sprintf("The %s cannot be scheduled.", p.component),
		Next: fmt.Sprintf("check node selectors, tolerations and quotas: kubectl describe pod %s -n %s", pod, q(ns))}
}

// taintNames names the untolerated taints: as the scheduler wrote them, else from the nodes
// whose labels the pod matches, else as "a taint".
func taintNames(said []string, pod *corev1.Pod, nodes *state.Nodes) []string {
	var out []string
	for _, t := range said {
		if t != "" {
			out = append(out, t)
		}
	}
	if len(out) > 0 || len(said) == 0 {
		return out
	}
	seen := map[string]bool{}
	if nodes != nil {
		for i := range nodes.Items {
			n := &nodes.Items[i]
			if ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(n); !ok {
				continue
			}
			for _, t := range n.Spec.Taints {
				name := fmt.Sprintf("%s=%s:%s", t.Key, t.Value, t.Effect)
				if !seen[name] && untolerated(pod, t) {
					seen[name] = true
					out = append(out, name)
				}
			}
		}
	}
	if len(out) == 0 {
		return []string{"(the scheduler does not name it; kubectl describe nodes shows the taints)"}
	}
	return out
}

// nodeNotReady: a pod's node stopped reporting. The node controller marks its pods not
// ready at once and evicts them when their toleration of the not-ready taint runs out (300
// seconds unless the pod says otherwise); the ReplicaSet then makes new ones elsewhere.
func nodeNotReady(pods []podCtx, r *Report, ns string) *Diagnosis {
	for _, p := range pods {
		ev := eventsFor(r, p.pod.Name, "NodeNotReady")
		if len(ev) == 0 || podReady(p.pod) {
			continue
		}
		node := orDefault(p.pod.Spec.NodeName, "(unknown)")
		d := &Diagnosis{
			Cause:    fmt.Sprintf("The node %s that the %s runs on stopped reporting (NotReady): the pod was marked not ready, and is evicted and replaced on another node once its toleration runs out.", node, p.component),
			Evidence: append([]string{fmt.Sprintf("pod %s on node %s: Ready=False", p.pod.Name, node)}, ev...),
			Next:     fmt.Sprintf("see the node: kubectl describe node %s; the replacement: kubectl hopsdeploy status %s -n %s --watch", q(node), q(r.Name), q(ns)),
		}
		for _, t := range p.pod.Spec.Tolerations {
			if (t.Key == "node.kubernetes.io/not-ready" || t.Key == "node.kubernetes.io/unreachable") && t.TolerationSeconds != nil {
				d.Evidence = append(d.Evidence, fmt.Sprintf("the pod tolerates the taint %s for %ds, then it is evicted", t.Key, *t.TolerationSeconds))
			}
		}
		d.Evidence = append(d.Evidence, eventsFor(r, node, "NodeNotReady")...)
		return d
	}
	return nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
