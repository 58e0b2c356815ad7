package state

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// Labels and annotations that Hopsworks and KServe put on serving objects (docs/hopsworks-state.md §1).
const (
	LabelID            = "serving.hops.works/id"
	LabelName          = "serving.hops.works/name"
	LabelProjectID     = "serving.hops.works/project-id"
	LabelModelName     = "serving.hops.works/model-name"
	LabelModelVersion  = "serving.hops.works/model-version"
	LabelModelServer   = "serving.hops.works/model-server"
	LabelTool          = "serving.hops.works/tool"
	LabelRevision      = "serving.hops.works/revision"
	LabelComponent     = "component"
	LabelISVC          = "serving.kserve.io/inferenceservice"
	LabelDefaultModel  = "model" // DEFAULT tool pods: model=<serving id>
	LabelProjectNS     = "hopsworks.ai/project"
	AnnotTransformer   = "serving.hops.works/transformer"
	AnnotDeployMode    = "serving.kserve.io/deploymentMode"
	ContainerMain      = "kserve-container"
	ContainerStorage   = "storage-initializer"
	ComponentPredictor = "predictor"
	ComponentTransform = "transformer"
)

// Mode is how a deployment runs: KServe on Knative, KServe Standard (RawDeployment), or the
// DEFAULT tool's plain Deployment.
type Mode string

const (
	ModeKnative  Mode = "Knative"
	ModeStandard Mode = "Standard"
	ModeDefault  Mode = "DEFAULT"
)

// Snapshot is everything read from the cluster about one deployment at one moment.
type Snapshot struct {
	Namespace string
	Name      string // the Hopsworks deployment name
	// ISVC is the InferenceService, nil when there is none.
	ISVC *unstructured.Unstructured
	// Deployment is the DEFAULT tool's Deployment, nil when there is none.
	Deployment *appsv1.Deployment
	// ComponentDeployments are the Deployments KServe made for the InferenceService's
	// components in Standard (RawDeployment) mode.
	ComponentDeployments []appsv1.Deployment
	// Revisions are Knative's revisions of the components (Serverless mode), newest first.
	Revisions []Revision
	// Pods are all pods labelled with the deployment's name, any revision, in list order.
	Pods []corev1.Pod
	// Events are the events of the namespace that concern the deployment's objects.
	Events []corev1.Event
	Now    time.Time
	// Skipped names the resources that could not be read (forbidden) and were left out.
	Skipped []string
	// Nodes are read only when a pod cannot be scheduled, to say why node by node; nil
	// otherwise.
	Nodes *Nodes
}

// Nodes are the cluster's nodes as the user may read them: each node, what the pods on it
// request (nil when they could not be read), and a note of what could not be read.
type Nodes struct {
	Items     []corev1.Node                  `json:"items"`
	Requested map[string]corev1.ResourceList `json:"requested,omitempty"`
	Note      string                         `json:"note,omitempty"`
}

// Unschedulable lists the pods that the scheduler cannot place.
func (s *Snapshot) Unschedulable() []*corev1.Pod {
	var out []*corev1.Pod
	for i := range s.Pods {
		for _, c := range s.Pods[i].Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				out = append(out, &s.Pods[i])
			}
		}
	}
	return out
}

// Tool tells which serving tool the snapshot belongs to.
func (s *Snapshot) Tool() Tool {
	if s.ISVC != nil {
		return ToolKServe
	}
	if s.Deployment != nil {
		return ToolDefault
	}
	for i := range s.Pods {
		if s.Pods[i].Labels[LabelTool] == string(ToolDefault) {
			return ToolDefault
		}
	}
	return ToolKServe
}

// Mode tells the deployment mode.
func (s *Snapshot) Mode() Mode {
	if s.Tool() == ToolDefault {
		return ModeDefault
	}
	if s.ISVC != nil {
		m := strings.ToLower(s.ISVC.GetAnnotations()[AnnotDeployMode])
		if m == "rawdeployment" || m == "standard" {
			return ModeStandard
		}
		if dm, _, _ := unstructured.NestedString(s.ISVC.Object, "status", "deploymentMode"); strings.EqualFold(dm, "RawDeployment") || strings.EqualFold(dm, "Standard") {
			return ModeStandard
		}
	}
	return ModeKnative
}

// Labels returns the labels that identify the deployment: the ISVC's, the Deployment's, or
// those of a remaining pod.
func (s *Snapshot) Labels() map[string]string {
	switch {
	case s.ISVC != nil:
		return s.ISVC.GetLabels()
	case s.Deployment != nil:
		return s.Deployment.Labels
	case len(s.Pods) > 0:
		return s.Pods[0].Labels
	}
	return nil
}

// HasTransformer is the proxy for serving.transformer != null.
func (s *Snapshot) HasTransformer() bool {
	if s.ISVC != nil {
		if _, ok, _ := unstructured.NestedMap(s.ISVC.Object, "spec", "transformer"); ok {
			return true
		}
		if s.ISVC.GetAnnotations()[AnnotTransformer] != "" {
			return true
		}
		return false
	}
	for i := range s.Pods {
		if ComponentOf(&s.Pods[i]) == ComponentTransform {
			return true
		}
	}
	return false
}

// AnnotKServeStop is KServe's stop annotation (0.15 and later).
const AnnotKServeStop = "serving.kserve.io/stop"

// ParseISVC reads the fields the backend uses from an InferenceService.
func ParseISVC(u *unstructured.Unstructured) *ISVC {
	if u == nil {
		return nil
	}
	out := &ISVC{Generation: u.GetGeneration(), RevisionLabel: u.GetLabels()[LabelRevision]}
	stop := strings.EqualFold(u.GetAnnotations()[AnnotKServeStop], "true")
	status, ok := u.Object["status"].(map[string]any)
	if !ok || status == nil {
		return out
	}
	out.HasStatus = true
	raw, ok := status["conditions"].([]any)
	if !ok {
		return out
	}
	out.HasConditions = true
	for _, r := range raw {
		m, _ := r.(map[string]any)
		str := func(k string) string { s, _ := m[k].(string); return s }
		out.Conditions = append(out.Conditions, ISVCCondition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: str("message")})
		// KServe acts on its stop annotation where it writes a Stopped condition; where it
		// does not (KServe 0.15 in Standard mode), the annotation changes nothing.
		if str("type") == "Stopped" && stop {
			out.StopRequested = true
		}
	}
	return out
}

// ContainerStatuses lists a pod's init container statuses, then its containers'.
func ContainerStatuses(p *corev1.Pod) []corev1.ContainerStatus {
	return append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
}

// Empty tells whether the snapshot holds nothing of its deployment (a stopped deployment:
// Hopsworks deleted its objects).
func (s *Snapshot) Empty() bool {
	return s.ISVC == nil && s.Deployment == nil && len(s.Pods) == 0
}

// PodSelector is the label selector of the deployment's pods: Hopsworks' name label, or
// KServe's InferenceService label for an InferenceService that Hopsworks did not label. It is
// built by apimachinery's validating constructor: a name that is no label value is an error.
func (s *Snapshot) PodSelector() (string, error) {
	key, value := LabelName, s.Name
	if s.ISVC != nil && s.ISVC.GetLabels()[LabelName] == "" {
		key, value = LabelISVC, s.ISVC.GetName()
	}
	// A DEFAULT-tool Deployment whose pod template lacks the name label: its pods are those
	// its own selector picks (what its ReplicaSets create).
	if d := s.Deployment; s.ISVC == nil && d != nil && d.Spec.Template.Labels[LabelName] == "" && d.Spec.Selector != nil {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() {
			return "", fmt.Errorf("deployment %s has an unusable selector: %v", d.Name, err)
		}
		return sel.String(), nil
	}
	sel, err := labels.ValidatedSelectorFromSet(labels.Set{key: value})
	if err != nil {
		return "", fmt.Errorf("invalid %s %q: %v", key, value, err)
	}
	return sel.String(), nil
}
