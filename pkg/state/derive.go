// Package state is the Hopsworks state machine: it turns what the cluster shows of one
// deployment into the status and condition that the Hopsworks backend would report.
//
// This file follows the backend's own code (Hopsworks 3.8 KubeKServeController,
// KubeDeploymentServingController and KubeServingUtils.getDeploymentCondition) branch for
// branch, quirks included; docs/hopsworks-state.md §2 to §5 says the rules in words, and §7
// the quirks kept on purpose. What only Hopsworks' database knows comes in through Input as
// the Kubernetes-only stand-ins of §6; FromCluster computes them. It does no I/O.
package state

import (
	corev1 "k8s.io/api/core/v1"
)

// Status is the Hopsworks deployment status, spelled as the REST API and the SDK spell it.
type Status string

const (
	Creating Status = "Creating"
	Created  Status = "Created"
	Starting Status = "Starting"
	Failed   Status = "Failed"
	Running  Status = "Running"
	Idle     Status = "Idle"
	Updating Status = "Updating"
	Stopping Status = "Stopping"
	Stopped  Status = "Stopped"
)

// AllStatuses lists every status in the order of the Hopsworks enum.
var AllStatuses = []Status{Creating, Created, Starting, Failed, Running, Idle, Updating, Stopping, Stopped}

// ConditionType is a step of the start or stop sequence.
type ConditionType string

const (
	TypeStopped     ConditionType = "STOPPED"
	TypeScheduled   ConditionType = "SCHEDULED"
	TypeInitialized ConditionType = "INITIALIZED"
	TypeStarted     ConditionType = "STARTED"
	TypeReady       ConditionType = "READY"
)

// Condition is the Hopsworks condition. Status is nil while the step is in progress
// (JSON null, "Unknown" in the docs), true when it succeeded and false when it failed.
type Condition struct {
	Type   ConditionType `json:"type"`
	Status *bool         `json:"status"`
	Reason string        `json:"reason"`
}

// The condition messages of ServingStatusCondition and KubeServingUtils, verbatim.
const (
	msgScheduledInProgress   = "Waiting for being scheduled"
	msgScheduledFailed       = "Failed to be scheduled: "
	msgInitializedInProgress = "Initializing deployment"
	msgInitializedFailed     = "Failed to initialize: "
	msgStartedInProgress     = "Deployment is starting"
	msgStartedFailed         = "Failed to run: "
	msgReadyInProgress       = "Setting up connectivity"
	msgReadySuccess          = "Deployment is ready"
	msgReadyFailed           = "Failed to setup connectivity: "
	msgUnscheduledInProgress = "Waiting for being unscheduled"
	msgStoppedInProgress     = "Stopping deployment"
	msgStoppedSuccess        = "Deployment is not running"
	msgStoppedCreating       = "Deployment is being prepared"

	msgStartedFailedSuffix  = " terminated unsuccessfully"
	msgReadySuccessIdle     = "Deployment is ready, but idle. Higher latencies are expected in the first predictions"
	msgStorageInitializerKO = "storage initializer finished unsuccessfully"
)

var (
	yes = func() *bool { b := true; return &b }()
	no  = func() *bool { b := false; return &b }()
)

func inProgress(t ConditionType, reason string) Condition { return Condition{Type: t, Reason: reason} }
func succeeded(t ConditionType, reason string) Condition {
	return Condition{Type: t, Status: yes, Reason: reason}
}
func failed(t ConditionType, reason string) Condition {
	return Condition{Type: t, Status: no, Reason: reason}
}

// Tool is the Hopsworks serving tool.
type Tool string

const (
	ToolKServe  Tool = "kserve"
	ToolDefault Tool = "default"
)

// ISVCCondition is one entry of an InferenceService's status.conditions.
type ISVCCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ISVC holds the parts of an InferenceService that the backend reads.
type ISVC struct {
	Generation int64
	// RevisionLabel is metadata.labels["serving.hops.works/revision"].
	RevisionLabel string
	// HasStatus and HasConditions tell a missing status or conditions key apart from an empty one.
	HasStatus     bool
	HasConditions bool
	Conditions    []ISVCCondition
	// StopRequested is KServe's own stop (annotation serving.kserve.io/stop: "true", acted
	// on: the InferenceService has a Stopped condition): the controller deletes the component
	// objects and keeps the InferenceService. Hopsworks stops by deleting the
	// InferenceService instead; either way the deployment is not deployed.
	StopRequested bool
}

// DeploymentStatus holds the parts of an apps/v1 Deployment status that the DEFAULT tool reads.
type DeploymentStatus struct {
	ObservedGeneration int64
	AvailableReplicas  *int32
	Conditions         []ISVCCondition
}

// Input is what the backend knows about one serving. The first block stands for the
// database and HopsFS (see FromCluster for the Kubernetes proxies), the second for the cluster.
type Input struct {
	Tool Tool

	Deployed       bool   // serving.deployed != null
	Revision       string // serving.revision ("" = null, never started)
	ArtifactExists bool   // the artifact zip exists in HopsFS
	HasTransformer bool   // serving.transformer != null
	Instances      int32  // serving.instances (DEFAULT tool)

	ISVC       *ISVC             // KServe: nil when no InferenceService exists
	Deployment *DeploymentStatus // DEFAULT: nil when no Deployment exists
	Pods       []corev1.Pod      // the serving's pods, in API list order
}

// State is the derived Hopsworks state.
type State struct {
	Status    Status
	Condition Condition
	// AvailableInstances counts predictor pods (a pod count, not a Ready count, as Hopsworks does);
	// for the DEFAULT tool it is the Deployment's availableReplicas.
	AvailableInstances int
	// AvailableTransformerInstances is nil for the DEFAULT tool, which has no transformers.
	AvailableTransformerInstances *int
}

// Derive computes the Hopsworks state from in, as the backend does.
func Derive(in Input) State {
	var st State
	if in.Tool == ToolDefault {
		st.Status, st.Condition = deriveDefault(in)
		if in.Deployment != nil && in.Deployment.AvailableReplicas != nil {
			st.AvailableInstances = int(*in.Deployment.AvailableReplicas)
		}
		return st
	}
	st.Status, st.Condition = deriveKServe(in)
	pred, trans := countComponents(in.Pods)
	st.AvailableInstances = pred
	st.AvailableTransformerInstances = &trans
	return st
}

// ComponentOf returns a pod's component as the backend reads it: the "component" label,
// predictor when absent.
func ComponentOf(p *corev1.Pod) string {
	if c, ok := p.Labels["component"]; ok {
		return c
	}
	return "predictor"
}

func countComponents(pods []corev1.Pod) (pred, trans int) {
	for i := range pods {
		// The backend counts every other pod as a transformer; Hopsworks deploys no
		// explainers, so an explainer's pod (a foreign InferenceService) counts as neither.
		switch ComponentOf(&pods[i]) {
		case "predictor":
			pred++
		case "transformer":
			trans++
		}
	}
	return pred, trans
}

// notDeployed is the shared head of both tools: created, stopped or stopping.
func notDeployed(in Input, objectExists bool) (Status, Condition) {
	cond := DeploymentCondition(false, in.ArtifactExists, in.Pods)
	if !objectExists && len(in.Pods) == 0 {
		switch {
		case !in.ArtifactExists:
			return Creating, cond
		case in.Revision == "":
			return Created, cond
		default:
			return Stopped, cond
		}
	}
	return Stopping, cond
}

// deriveKServe is KubeKServeController.getServingStatusAndCondition (docs/hopsworks-state.md §3).
func deriveKServe(in Input) (Status, Condition) {
	if !in.Deployed {
		// A stop through KServe's annotation keeps the object: it is Stopped once no pod is left.
		return notDeployed(in, in.ISVC != nil && !in.ISVC.StopRequested)
	}
	if in.ISVC == nil || !in.ISVC.HasStatus || !in.ISVC.HasConditions {
		return Starting, inProgress(TypeScheduled, msgScheduledInProgress)
	}
	var ready *ISVCCondition
	for i := range in.ISVC.Conditions {
		if in.ISVC.Conditions[i].Type == "Ready" {
			ready = &in.ISVC.Conditions[i] // the last match wins, as in the backend's loop
		}
	}
	readyStatus := "False"
	if ready != nil {
		readyStatus = ready.Status
	}
	if readyStatus == "False" || readyStatus == "Unknown" {
		cond := DeploymentCondition(true, in.ArtifactExists, in.Pods)
		if cond.Status != nil && !*cond.Status {
			if in.ArtifactExists {
				return Failed, cond
			}
			return Creating, cond
		}
		if in.ISVC.Generation == 1 && in.ISVC.RevisionLabel == in.Revision {
			return Starting, cond
		}
		return Updating, cond
	}
	// Ready is True (or a value the backend does not test for): running or idle.
	idle := func() (Status, Condition) {
		if in.ArtifactExists {
			return Idle, succeeded(TypeReady, msgReadySuccessIdle)
		}
		return Creating, inProgress(TypeStopped, msgStoppedCreating)
	}
	if len(in.Pods) == 0 {
		return idle()
	}
	pred, trans := countComponents(in.Pods)
	if pred == 0 || (in.HasTransformer && trans == 0) {
		return idle()
	}
	return Running, succeeded(TypeReady, msgReadySuccess)
}

// deriveDefault is KubeDeploymentServingController.getServingStatusAndCondition (docs/hopsworks-state.md §4).
func deriveDefault(in Input) (Status, Condition) {
	if !in.Deployed {
		return notDeployed(in, in.Deployment != nil)
	}
	if in.Deployment == nil {
		return Starting, inProgress(TypeScheduled, msgScheduledInProgress)
	}
	for _, c := range in.Deployment.Conditions {
		if c.Type == "ReplicaFailure" { // the first match decides
			if c.Status == "True" {
				cond := DeploymentCondition(true, in.ArtifactExists, in.Pods)
				if in.ArtifactExists {
					return Failed, cond
				}
				return Creating, cond
			}
			break
		}
	}
	for i := range in.Pods {
		cs := in.Pods[i].Status.ContainerStatuses
		if len(cs) > 0 && cs[0].RestartCount > 2 {
			if in.ArtifactExists {
				return Failed, failed(TypeStarted, msgStartedFailed+"predictor"+msgStartedFailedSuffix)
			}
			return Creating, inProgress(TypeStopped, msgStoppedCreating)
		}
	}
	cond := DeploymentCondition(true, in.ArtifactExists, in.Pods)
	if cond.Status != nil && !*cond.Status {
		if in.ArtifactExists {
			return Failed, cond
		}
		return Creating, cond
	}
	status := Running
	if in.Deployment.AvailableReplicas == nil || *in.Deployment.AvailableReplicas != in.Instances {
		if in.Deployment.ObservedGeneration == 1 {
			status = Starting
		} else {
			status = Updating
		}
	}
	return status, cond
}

// DeploymentCondition is KubeServingUtils.getDeploymentCondition: the pods' conditions turned
// into one Hopsworks condition (docs/hopsworks-state.md §5). The first pod that blocks decides;
// otherwise the last pod does.
// Pods must be in API list order: sorting them would change the result for mixed states.
func DeploymentCondition(deployed, artifactExists bool, pods []corev1.Pod) Condition {
	if !artifactExists {
		return inProgress(TypeStopped, msgStoppedCreating)
	}
	if len(pods) == 0 {
		if deployed {
			return inProgress(TypeScheduled, msgScheduledInProgress)
		}
		return succeeded(TypeStopped, msgStoppedSuccess)
	}
	var cond Condition
	for i := range pods {
		var last bool
		if cond, last = podCondition(&pods[i], deployed); last {
			break
		}
	}
	return cond
}

// verdict is what one step of a pod says to the backend's loop over the pods: go on to the
// next step of this pod, go on to the next pod (Java's continue), or stop there (break).
type verdict int

const (
	nextStep verdict = iota
	nextPod
	lastPod
)

// podStep is one of the four steps the backend checks on each pod, in order.
type podStep func(pod *corev1.Pod, cm map[corev1.PodConditionType]*corev1.PodCondition, deployed bool) (Condition, verdict)

// podCondition is the backend's loop body for one pod; last says the loop stops at it.
func podCondition(pod *corev1.Pod, deployed bool) (cond Condition, last bool) {
	cm := map[corev1.PodConditionType]*corev1.PodCondition{}
	for j := range pod.Status.Conditions {
		cm[pod.Status.Conditions[j].Type] = &pod.Status.Conditions[j]
	}
	for _, step := range []podStep{scheduledStep, initializedStep, containersReadyStep, readyStep} {
		if cond, v := step(pod, cm, deployed); v != nextStep {
			return cond, v == lastPod
		}
	}
	if deployed {
		return succeeded(TypeReady, msgReadySuccess), false
	}
	return inProgress(TypeScheduled, msgUnscheduledInProgress), false
}

// stoppingCond is the condition of a pod of a deployment that is being stopped.
func stoppingCond() Condition { return inProgress(TypeStopped, msgStoppedInProgress) }

// scheduledStep: 1) PodScheduled.
func scheduledStep(_ *corev1.Pod, cm map[corev1.PodConditionType]*corev1.PodCondition, deployed bool) (Condition, verdict) {
	c, ok := cm[corev1.PodScheduled]
	switch {
	case !ok:
		return inProgress(TypeScheduled, msgScheduledInProgress), nextPod
	case c.Status == corev1.ConditionTrue:
		return Condition{}, nextStep
	case c.Reason != corev1.PodReasonUnschedulable && c.Reason != corev1.PodReasonSchedulerError:
		return inProgress(TypeScheduled, msgScheduledInProgress), lastPod
	case deployed:
		return failed(TypeScheduled, msgScheduledFailed+c.Message), lastPod
	}
	return stoppingCond(), lastPod
}

// initializedStep: 2) Initialized, and the storage initializer's failures.
func initializedStep(pod *corev1.Pod, cm map[corev1.PodConditionType]*corev1.PodCondition, deployed bool) (Condition, verdict) {
	c, ok := cm[corev1.PodInitialized]
	switch {
	case !ok:
		return inProgress(TypeInitialized, msgInitializedInProgress), nextPod
	case c.Status == corev1.ConditionTrue:
		return Condition{}, nextStep
	case c.Reason != "ContainersNotInitialized":
		return inProgress(TypeInitialized, msgInitializedInProgress), nextPod
	}
	var t *corev1.ContainerStateTerminated
	if ics := pod.Status.InitContainerStatuses; len(ics) > 0 { // Java would throw here; guard
		t = ics[0].LastTerminationState.Terminated
	}
	if t == nil || t.ExitCode <= 0 {
		return inProgress(TypeInitialized, msgInitializedInProgress), lastPod
	}
	var restarts int32
	if cs := pod.Status.ContainerStatuses; len(cs) > 0 {
		restarts = cs[0].RestartCount
	}
	switch {
	case !deployed:
		return stoppingCond(), lastPod
	case restarts > 2:
		return failed(TypeInitialized, msgInitializedFailed+msgStorageInitializerKO), lastPod
	}
	return inProgress(TypeStopped, msgStoppedCreating), lastPod // sic: the backend's StoppedCreating
}

// startedOrStopping is the condition of a pod whose containers are starting.
func startedOrStopping(deployed bool) Condition {
	if !deployed {
		return stoppingCond()
	}
	return inProgress(TypeStarted, msgStartedInProgress)
}

// containersReadyStep: 3) ContainersReady, and containers that failed.
func containersReadyStep(pod *corev1.Pod, cm map[corev1.PodConditionType]*corev1.PodCondition, deployed bool) (Condition, verdict) {
	c, ok := cm[corev1.ContainersReady]
	switch {
	case !ok:
		return startedOrStopping(deployed), nextPod
	case c.Status == corev1.ConditionTrue:
		return Condition{}, nextStep
	case c.Reason != "PodFailed" && c.Reason != "ContainersNotReady":
		return startedOrStopping(deployed), nextPod
	}
	anyFailing := false
	for _, s := range pod.Status.ContainerStatuses {
		if t := s.LastTerminationState.Terminated; t != nil && t.ExitCode > 0 {
			anyFailing = true
		}
	}
	if anyFailing && deployed {
		return failed(TypeStarted, msgStartedFailed+ComponentOf(pod)+msgStartedFailedSuffix), lastPod
	}
	return startedOrStopping(deployed), lastPod
}

// readyStep: 4) Ready.
func readyStep(_ *corev1.Pod, cm map[corev1.PodConditionType]*corev1.PodCondition, deployed bool) (Condition, verdict) {
	c, ok := cm[corev1.PodReady]
	switch {
	case !ok && deployed:
		return inProgress(TypeReady, msgReadyInProgress), nextPod
	case !ok:
		return stoppingCond(), nextPod
	case c.Status == corev1.ConditionTrue:
		return Condition{}, nextStep
	case !deployed:
		return stoppingCond(), lastPod
	case c.Reason == "PodFailed" || c.Reason == "ContainersNotReady" || c.Reason == "ReadinessGatesNotReady":
		return failed(TypeReady, msgReadyFailed+c.Message), lastPod
	}
	return inProgress(TypeReady, msgReadyInProgress), lastPod
}
