// Package diagnose turns a state.Snapshot into the Report that `status` prints: the Hopsworks
// view first (the keys of deployment.get_state().describe()), then what Hopsworks hides (every
// pod and container state, the InferenceService conditions, de-duplicated Warning events) and a
// diagnosis with its evidence and the next command to run. It does no I/O.
package diagnose

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Report is the status of one deployment. The first block holds the keys and values of
// Hopsworks' PredictorState.describe(); the rest is the plugin's own.
type Report struct {
	AvailableInstances            int             `json:"available_instances"`
	AvailableTransformerInstances *int            `json:"available_transformer_instances,omitempty"`
	Condition                     state.Condition `json:"condition"`
	// Deployed is the start time in epoch milliseconds while deployed, false otherwise (the
	// SDK turns a missing value into false).
	Deployed                 any    `json:"deployed"`
	HopsworksInferencePath   string `json:"hopsworks_inference_path,omitempty"`
	ModelServerInferencePath string `json:"model_server_inference_path"`
	Revision                 string `json:"revision,omitempty"`
	Status                   string `json:"status"`

	Name             string         `json:"name"`
	Namespace        string         `json:"namespace"`
	Tool             string         `json:"serving_tool"`
	Mode             string         `json:"mode"`
	ModelName        string         `json:"model_name,omitempty"`
	ModelVersion     string         `json:"model_version,omitempty"`
	ServingID        string         `json:"serving_id,omitempty"`
	Components       []Component    `json:"components"`
	InferenceService *ISVCInfo      `json:"inference_service,omitempty"`
	Events           []EventSummary `json:"events"`
	Diagnosis        *Diagnosis     `json:"diagnosis,omitempty"`
	// Stale says the controllers have not caught up with the latest spec: the status they
	// wrote is the previous generation's, so its Ready does not count for the new one.
	Stale bool `json:"stale,omitempty"`
	// History is when OpenSearch last saw the deployment, for one that left nothing in the
	// cluster (Stopped: Hopsworks deletes its objects).
	History *LastSeen `json:"history,omitempty"`
	// StatusSource says where the status of such a deployment comes from: "hopsworks" (its
	// database still holds the deployment, stopped) or "history" (inferred from history
	// alone: OpenSearch has its lines, Hopsworks was not asked or could not answer);
	// StatusNote says why, for the latter.
	StatusSource string `json:"status_source,omitempty"`
	StatusNote   string `json:"status_note,omitempty"`

	byObject map[string][]EventSummary // the events by object name, made on first use
}

// eventsOf are the events about an object of that name ("Kind/name"), found through an
// index made once: the rules ask for each pod's, and a namespace may hold thousands of both.
func (r *Report) eventsOf(name string) []EventSummary {
	if r.byObject == nil {
		r.byObject = map[string][]EventSummary{}
		for _, e := range r.Events {
			n := e.Object[strings.LastIndexByte(e.Object, '/')+1:]
			r.byObject[n] = append(r.byObject[n], e)
		}
	}
	return r.byObject[name]
}

// Where a gone deployment's status comes from.
const (
	StatusFromHopsworks = "hopsworks"
	StatusFromHistory   = "history"
)

// LastSeen is a deployment's last line in history.
type LastSeen struct {
	At        time.Time `json:"last_seen"`
	Component string    `json:"component,omitempty"`
	Container string    `json:"container,omitempty"`
	Host      string    `json:"host,omitempty"`
	Message   string    `json:"message"`
}

// SeenInHistory turns the report of a deployment with nothing in the cluster (Stopped, as
// Hopsworks says of it) into one that says when and where history last saw it.
func (r *Report) SeenInHistory(l LastSeen) {
	r.History = &l
	if r.Diagnosis == nil {
		return
	}
	who := strings.TrimSpace(l.Component + " " + l.Container)
	r.Diagnosis.Cause = fmt.Sprintf("Stopped: nothing of it is in the cluster (Hopsworks deletes a stopped deployment's objects); OpenSearch last saw it at %s (%s).",
		l.At.UTC().Format(time.RFC3339), who)
	r.Diagnosis.Evidence = append(r.Diagnosis.Evidence, fmt.Sprintf("last line in OpenSearch, from %s on %s: %s", who, orDefault(l.Host, "an unknown host"), l.Message))
}

// Component is the predictor or the transformer with its pods.
type Component struct {
	Name      string    `json:"name"`
	Instances int       `json:"instances"`
	Ready     int       `json:"ready"`
	Pods      []PodInfo `json:"pods"`
}

// PodInfo is one pod's state.
type PodInfo struct {
	Name       string          `json:"name"`
	Phase      string          `json:"phase"`
	Reason     string          `json:"reason"` // as the STATUS column of kubectl get pods
	Ready      bool            `json:"ready"`
	Restarts   int32           `json:"restarts"`
	Node       string          `json:"node,omitempty"`
	Created    time.Time       `json:"created"`
	Deleting   bool            `json:"deleting,omitempty"`
	Containers []ContainerInfo `json:"containers"`
}

// ContainerInfo is one container's state and last termination.
type ContainerInfo struct {
	Name     string       `json:"name"`
	Init     bool         `json:"init,omitempty"`
	State    string       `json:"state"` // running, waiting, terminated
	Ready    bool         `json:"ready"`
	Reason   string       `json:"reason,omitempty"`
	Message  string       `json:"message,omitempty"`
	Since    *time.Time   `json:"since,omitempty"`
	ExitCode *int32       `json:"exit_code,omitempty"`
	Restarts int32        `json:"restarts"`
	Last     *Termination `json:"last_termination,omitempty"`
}

// Termination is how a container instance ended.
type Termination struct {
	Reason     string    `json:"reason"`
	ExitCode   int32     `json:"exit_code"`
	Signal     string    `json:"signal,omitempty"`
	FinishedAt time.Time `json:"finished_at"`
}

// ISVCInfo is the InferenceService's own status.
type ISVCInfo struct {
	URL        string `json:"url,omitempty"`
	Generation int64  `json:"generation"`
	// ObservedGeneration is the generation KServe's status speaks of (0: it does not say).
	ObservedGeneration int64                 `json:"observed_generation,omitempty"`
	Deleting           bool                  `json:"deleting,omitempty"`
	Conditions         []state.ISVCCondition `json:"conditions"`
	ModelStatus        map[string]any        `json:"model_status,omitempty"`
	// Deployments are KServe's Standard-mode Deployments of the components.
	Deployments []DeploymentInfo `json:"deployments,omitempty"`
	// Revisions are Knative's revisions of the components (Serverless mode), newest first.
	Revisions []state.Revision `json:"revisions,omitempty"`
}

// stale tells whether the controllers have not caught up with the latest spec yet: KServe's
// status (or the DEFAULT tool's Deployment's) speaks of an older generation, so a Ready in it
// is the old spec's.
func stale(r *Report, s *state.Snapshot) bool {
	if i := r.InferenceService; i != nil && i.ObservedGeneration > 0 && i.ObservedGeneration < i.Generation {
		return true
	}
	if d := s.Deployment; d != nil && d.Status.ObservedGeneration > 0 && d.Status.ObservedGeneration < d.Generation {
		return true
	}
	return false
}

// DeploymentInfo is a Standard-mode component Deployment: its replicas and conditions
// (Available, Progressing, ReplicaFailure) as the controller-manager writes them.
type DeploymentInfo struct {
	Name       string                `json:"name"`
	Component  string                `json:"component"`
	Replicas   int32                 `json:"replicas"`
	Updated    int32                 `json:"updated"`
	Available  int32                 `json:"available"`
	Conditions []state.ISVCCondition `json:"conditions"`
}

// EventSummary is a de-duplicated event.
type EventSummary struct {
	Type      string    `json:"type"`
	Reason    string    `json:"reason"`
	Object    string    `json:"object"`
	Message   string    `json:"message"`
	Count     int32     `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Build makes the Report of a snapshot, without its diagnosis.
func Build(s *state.Snapshot) *Report {
	in := state.FromCluster(s)
	st := state.Derive(in)
	lbl := s.Labels()
	r := &Report{
		AvailableInstances:            st.AvailableInstances,
		AvailableTransformerInstances: st.AvailableTransformerInstances,
		Condition:                     st.Condition,
		Deployed:                      false,
		Revision:                      lbl[state.LabelRevision],
		Status:                        string(st.Status),
		Name:                          s.Name,
		Namespace:                     s.Namespace,
		Tool:                          strings.ToUpper(string(in.Tool)),
		Mode:                          string(s.Mode()),
		ModelName:                     lbl[state.LabelModelName],
		ModelVersion:                  lbl[state.LabelModelVersion],
		ServingID:                     lbl[state.LabelID],
		Events:                        SummarizeEvents(s.Events),
	}
	if r.Tool == "KSERVE" || lbl[state.LabelModelServer] == "tensorflow_serving" {
		r.ModelServerInferencePath = "/v1/models/" + s.Name
	} else {
		r.ModelServerInferencePath = "/predict"
	}
	if pid := lbl[state.LabelProjectID]; pid != "" {
		r.HopsworksInferencePath = fmt.Sprintf("/project/%s/inference/models/%s", pid, s.Name)
	}
	if in.Deployed {
		switch {
		case s.ISVC != nil:
			r.Deployed = s.ISVC.GetCreationTimestamp().UnixMilli()
		case s.Deployment != nil:
			r.Deployed = s.Deployment.CreationTimestamp.UnixMilli()
		}
	}
	if s.ISVC != nil {
		r.InferenceService = isvcInfo(s)
	}
	r.Stale = stale(r, s)
	r.Components = components(in)
	return r
}

// isvcInfo is what KServe wrote on the InferenceService, and its Deployments in Standard mode.
func isvcInfo(s *state.Snapshot) *ISVCInfo {
	info := &ISVCInfo{Generation: s.ISVC.GetGeneration(), Deleting: s.ISVC.GetDeletionTimestamp() != nil}
	if p := state.ParseISVC(s.ISVC); p != nil {
		info.Conditions = p.Conditions
	}
	info.URL, _, _ = unstructured.NestedString(s.ISVC.Object, "status", "url")
	info.ObservedGeneration, _, _ = unstructured.NestedInt64(s.ISVC.Object, "status", "observedGeneration")
	info.ModelStatus, _, _ = unstructured.NestedMap(s.ISVC.Object, "status", "modelStatus")
	for _, d := range s.ComponentDeployments {
		di := DeploymentInfo{Name: d.Name, Component: d.Labels["component"], Updated: d.Status.UpdatedReplicas, Available: d.Status.AvailableReplicas}
		if d.Spec.Replicas != nil {
			di.Replicas = *d.Spec.Replicas
		}
		for _, c := range d.Status.Conditions {
			di.Conditions = append(di.Conditions, state.ISVCCondition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})
		}
		info.Deployments = append(info.Deployments, di)
	}
	info.Revisions = s.Revisions
	return info
}

// components groups the pods by component: the predictor always, the transformer when the
// deployment has one, then any other component a pod names.
func components(in state.Input) []Component {
	comps := []string{state.ComponentPredictor}
	if in.HasTransformer {
		comps = append(comps, state.ComponentTransform)
	}
	byComp := map[string]*Component{}
	for _, c := range comps {
		byComp[c] = &Component{Name: c}
	}
	for i := range in.Pods {
		p := &in.Pods[i]
		c := state.ComponentOf(p)
		if byComp[c] == nil {
			byComp[c] = &Component{Name: c}
			comps = append(comps, c)
		}
		pi := podInfo(p)
		byComp[c].Pods = append(byComp[c].Pods, pi)
		byComp[c].Instances++
		if pi.Ready {
			byComp[c].Ready++
		}
	}
	out := make([]Component, 0, len(comps))
	for _, c := range comps {
		out = append(out, *byComp[c])
	}
	return out
}

func podInfo(p *corev1.Pod) PodInfo {
	pi := PodInfo{Name: p.Name, Phase: string(p.Status.Phase), Node: p.Spec.NodeName, Created: p.CreationTimestamp.Time,
		Deleting: p.DeletionTimestamp != nil, Reason: PodReason(p)}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			pi.Ready = true
		}
	}
	add := func(cs corev1.ContainerStatus, init bool) {
		ci := ContainerInfo{Name: cs.Name, Init: init, Ready: cs.Ready, Restarts: cs.RestartCount}
		switch {
		case cs.State.Running != nil:
			ci.State = "running"
			t := cs.State.Running.StartedAt.Time
			ci.Since = &t
		case cs.State.Waiting != nil:
			ci.State, ci.Reason, ci.Message = "waiting", cs.State.Waiting.Reason, cs.State.Waiting.Message
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			ci.State, ci.Reason, ci.Message = "terminated", t.Reason, t.Message
			code := t.ExitCode
			ci.ExitCode = &code
			f := t.FinishedAt.Time
			ci.Since = &f
		default:
			ci.State = "waiting"
		}
		if t := cs.LastTerminationState.Terminated; t != nil {
			ci.Last = &Termination{Reason: t.Reason, ExitCode: t.ExitCode, Signal: SignalName(t.ExitCode, t.Signal), FinishedAt: t.FinishedAt.Time}
		}
		if !init {
			pi.Restarts += cs.RestartCount
		}
		pi.Containers = append(pi.Containers, ci)
	}
	for _, cs := range p.Status.InitContainerStatuses {
		add(cs, true)
	}
	for _, cs := range p.Status.ContainerStatuses {
		add(cs, false)
	}
	// Containers without a status yet (pending pods) still show, so that nothing is hidden.
	seen := map[string]bool{}
	for _, c := range pi.Containers {
		seen[c.Name] = true
	}
	for _, c := range p.Spec.InitContainers {
		if !seen[c.Name] {
			pi.Containers = append(pi.Containers, ContainerInfo{Name: c.Name, Init: true, State: "waiting"})
		}
	}
	for _, c := range p.Spec.Containers {
		if !seen[c.Name] {
			pi.Containers = append(pi.Containers, ContainerInfo{Name: c.Name, State: "waiting"})
		}
	}
	return pi
}

// PodReason is the STATUS column of `kubectl get pods` (printPod in kubectl).
func PodReason(p *corev1.Pod) string {
	reason := string(p.Status.Phase)
	if p.Status.Reason != "" {
		reason = p.Status.Reason
	}
	initializing := false
	for i, c := range p.Status.InitContainerStatuses {
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			if c.State.Terminated.Reason != "" {
				reason = "Init:" + c.State.Terminated.Reason
			} else {
				reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
			}
			initializing = true
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
			initializing = true
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
			initializing = true
		}
		break
	}
	if !initializing {
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			c := p.Status.ContainerStatuses[i]
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "":
				reason = c.State.Waiting.Reason
			case c.State.Terminated != nil && c.State.Terminated.Reason != "":
				reason = c.State.Terminated.Reason
			case c.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
			}
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			reason = "Pending (Unschedulable)"
		}
	}
	if p.DeletionTimestamp != nil {
		reason = "Terminating"
	}
	return reason
}

// SignalName names the signal behind an exit code above 128 (137 is SIGKILL).
func SignalName(exit, signal int32) string {
	if signal == 0 && exit > 128 && exit <= 128+31 {
		signal = exit - 128
	}
	names := map[int32]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}
	return names[signal]
}

// WithoutMetricsNoise splits events into those that bear on the deployment and the
// autoscaler's complaints that it cannot read metrics (FailedGetResourceMetric,
// FailedComputeMetricsReplicas): a cluster without the metrics API (metrics.k8s.io) has them
// on every Standard-mode deployment, whatever its state, and they say nothing of why it does
// not start or serve.
func WithoutMetricsNoise(events []EventSummary) (kept, noise []EventSummary) {
	for _, e := range events {
		if strings.HasPrefix(e.Object, "HorizontalPodAutoscaler/") && (e.Reason == "FailedGetResourceMetric" || e.Reason == "FailedComputeMetricsReplicas") {
			noise = append(noise, e)
			continue
		}
		kept = append(kept, e)
	}
	return kept, noise
}

// NoiseLine says, on one line, what WithoutMetricsNoise left out; "" when nothing.
func NoiseLine(noise []EventSummary) string {
	if len(noise) == 0 {
		return ""
	}
	var n int32
	for _, e := range noise {
		n += e.Count
	}
	return fmt.Sprintf("and %d HorizontalPodAutoscaler warning(s) that it cannot read metrics (no metrics API in the cluster?): they bear on autoscaling only (-o json shows them)", n)
}

// triedPod is a pod name in a ReplicaSet's FailedCreate message, with its random suffix.
var triedPod = lazyRegexp(`pods "([a-z0-9.-]+)-[a-z0-9]{5}"`)

// SummarizeEvents de-duplicates events by object, type, reason and message, adding counts,
// newest first. A ReplicaSet's FailedCreate events, one per pod it tried, count as one.

func SummarizeEvents(events []corev1.Event) []EventSummary {
	type key struct{ obj, typ, reason, msg string }
	byKey := map[key]*EventSummary{}
	var order []key
	for _, e := range events {
		msg := e.Message
		if e.Reason == "FailedCreate" {
			// One refusal per pod the ReplicaSet tried, each naming its pod: one line.
			msg = triedPod().ReplaceAllString(strings.TrimPrefix(msg, "(combined from similar events): "), `pods "$1-*"`)
		}
		k := key{e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name, e.Type, e.Reason, msg}
		first, last := eventTimes(&e)
		count := e.Count
		if count == 0 {
			count = 1
		}
		if s, ok := byKey[k]; ok {
			s.Count += count
			if first.Before(s.FirstSeen) {
				s.FirstSeen = first
			}
			if last.After(s.LastSeen) {
				s.LastSeen = last
			}
			continue
		}
		byKey[k] = &EventSummary{Type: e.Type, Reason: e.Reason, Object: k.obj, Message: msg, Count: count, FirstSeen: first, LastSeen: last}
		order = append(order, k)
	}
	out := []EventSummary{}
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	return out
}

func eventTimes(e *corev1.Event) (time.Time, time.Time) {
	first, last := e.FirstTimestamp.Time, e.LastTimestamp.Time
	if e.Series != nil && !e.Series.LastObservedTime.IsZero() {
		last = e.Series.LastObservedTime.Time
	}
	if last.IsZero() {
		last = e.EventTime.Time
	}
	if first.IsZero() {
		first = last
	}
	return first, last
}
