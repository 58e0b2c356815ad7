// Package logs is the log engine: it streams the logs of every (pod, container) of a
// deployment's component through the API server, follows new pods and restarted containers,
// resumes dropped streams without a lost or doubled line, and writes each line whole.
//
//	target.go  which (pod, container) instances to stream, and their container IDs
//	tail.go    one stream: request, parse, resume after a drop
//	sink.go    the output: prefix, colour, JSON, sanitising, one write per line
//	engine.go  no-follow runs and the follow loop driven by a pod watch
package logs

import (
	"fmt"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Target is one container of one pod, and the instance (container ID) being streamed.
type Target struct {
	Namespace   string
	Pod         string
	Component   string
	Container   string
	Init        bool
	ContainerID string
}

// Key identifies a target independent of its instance.
func (t Target) Key() string { return t.Namespace + "/" + t.Pod + "/" + t.Container }

// Selection says which containers of which pods to stream.
type Selection struct {
	Components map[string]bool // predictor, transformer; empty = all
	Containers map[string]bool // container names; empty = all
	Pod        string          // only this pod, if set
}

// Wants tells whether a pod belongs to the selection.
func (s Selection) Wants(p *corev1.Pod) bool {
	if s.Pod != "" && p.Name != s.Pod {
		return false
	}
	return len(s.Components) == 0 || s.Components[state.ComponentOf(p)]
}

// Targets lists the selected containers of a pod, init containers first (so that with one
// stream at a time the output follows the start order), with their current container IDs.
func (s Selection) Targets(p *corev1.Pod) []Target {
	if !s.Wants(p) {
		return nil
	}
	ids := map[string]string{}
	for _, cs := range state.ContainerStatuses(p) {
		ids[cs.Name] = ContainerID(cs)
	}
	var out []Target
	add := func(c corev1.Container, init bool) {
		if len(s.Containers) > 0 && !s.Containers[c.Name] {
			return
		}
		out = append(out, Target{Namespace: p.Namespace, Pod: p.Name, Component: state.ComponentOf(p), Container: c.Name, Init: init, ContainerID: ids[c.Name]})
	}
	for _, c := range p.Spec.InitContainers {
		add(c, true)
	}
	for _, c := range p.Spec.Containers {
		add(c, false)
	}
	return out
}

// ContainerID is the ID of the instance whose log the kubelet serves (as the kubelet's
// validateContainerLogStatus picks it): the running one, else the terminated one, else the
// last terminated one. Empty while the container has not started. A kubelet that reports no
// container IDs (KWOK, some virtual kubelets) gets one made of the instance's start time,
// which is the same for an instance while it runs and after it ended.
func ContainerID(cs corev1.ContainerStatus) string {
	id := func(reported string, started metav1.Time) string {
		if reported != "" {
			return reported
		}
		return "unreported://" + cs.Name + "@" + started.UTC().Format(time.RFC3339Nano)
	}
	switch {
	case cs.State.Running != nil:
		return id(cs.ContainerID, cs.State.Running.StartedAt)
	case cs.State.Terminated != nil:
		if cs.State.Terminated.ContainerID != "" {
			return cs.State.Terminated.ContainerID
		}
		return id(cs.ContainerID, cs.State.Terminated.StartedAt)
	case cs.LastTerminationState.Terminated != nil:
		return id(cs.LastTerminationState.Terminated.ContainerID, cs.LastTerminationState.Terminated.StartedAt)
	}
	return ""
}

// ContainerNames lists every container name of the pods, init containers included.
func ContainerNames(pods []corev1.Pod) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pods {
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			if !seen[c.Name] {
				seen[c.Name] = true
				out = append(out, c.Name)
			}
		}
	}
	return out
}

// Termination describes how a container instance ended, for the lifecycle line.
func Termination(cs corev1.ContainerStatus) (id, text string) {
	t := cs.State.Terminated
	if t == nil {
		t = cs.LastTerminationState.Terminated
	}
	if t == nil {
		return "", ""
	}
	reason := t.Reason
	if reason == "" {
		reason = "Error"
	}
	return t.ContainerID, fmt.Sprintf("%s (exit code %d)", reason, t.ExitCode)
}
