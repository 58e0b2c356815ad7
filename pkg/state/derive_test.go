package state

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podOpt shapes a test pod.
type podOpt func(*corev1.Pod)

func cond(t corev1.PodConditionType, status corev1.ConditionStatus, reason, msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, Message: msg})
	}
}

func component(c string) podOpt {
	return func(p *corev1.Pod) { p.Labels["component"] = c }
}

func noComponent() podOpt { return func(p *corev1.Pod) { delete(p.Labels, "component") } }

// initExit sets the first init container's last termination exit code.
func initExit(code int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: ContainerStorage,
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}}
	}
}

func mainRestarts(n int32) podOpt {
	return func(p *corev1.Pod) {
		if len(p.Status.ContainerStatuses) == 0 {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: ContainerMain}}
		}
		p.Status.ContainerStatuses[0].RestartCount = n
	}
}

// lastExit adds a container whose last termination had this exit code.
func lastExit(code int32) podOpt {
	return func(p *corev1.Pod) {
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "c",
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}})
	}
}

func pod(opts ...podOpt) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"component": "predictor"}}}
	for _, o := range opts {
		o(&p)
	}
	return p
}

var (
	scheduled   = cond(corev1.PodScheduled, "True", "", "")
	initialized = cond(corev1.PodInitialized, "True", "", "")
	cReady      = cond(corev1.ContainersReady, "True", "", "")
	podReady    = cond(corev1.PodReady, "True", "", "")
)

func readyPod(extra ...podOpt) corev1.Pod {
	return pod(append([]podOpt{scheduled, initialized, cReady, podReady}, extra...)...)
}

func show(c Condition) string {
	s := "null"
	if c.Status != nil {
		s = fmt.Sprint(*c.Status)
	}
	return fmt.Sprintf("%s/%s/%q", c.Type, s, c.Reason)
}

func TestDeploymentCondition(t *testing.T) {
	unsched := cond(corev1.PodScheduled, "False", "Unschedulable", "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.")
	tests := []struct {
		name     string
		deployed bool
		artifact bool
		pods     []corev1.Pod
		want     string
	}{
		{"no artifact", true, false, []corev1.Pod{readyPod()}, `STOPPED/null/"Deployment is being prepared"`},
		{"no pods, deployed", true, true, nil, `SCHEDULED/null/"Waiting for being scheduled"`},
		{"no pods, not deployed", false, true, nil, `STOPPED/true/"Deployment is not running"`},
		{"no PodScheduled condition", true, true, []corev1.Pod{pod()}, `SCHEDULED/null/"Waiting for being scheduled"`},
		{"unschedulable", true, true, []corev1.Pod{pod(unsched)}, `SCHEDULED/false/"Failed to be scheduled: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu."`},
		{"scheduler error", true, true, []corev1.Pod{pod(cond(corev1.PodScheduled, "False", "SchedulerError", "boom"))}, `SCHEDULED/false/"Failed to be scheduled: boom"`},
		{"unschedulable while stopping", false, true, []corev1.Pod{pod(unsched)}, `STOPPED/null/"Stopping deployment"`},
		{"pending scheduling, other reason", true, true, []corev1.Pod{pod(cond(corev1.PodScheduled, "False", "SchedulingGated", ""))}, `SCHEDULED/null/"Waiting for being scheduled"`},
		{"no Initialized condition", true, true, []corev1.Pod{pod(scheduled)}, `INITIALIZED/null/"Initializing deployment"`},
		{"init failing, restarts > 2", true, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "ContainersNotInitialized", ""), initExit(1), mainRestarts(3))},
			`INITIALIZED/false/"Failed to initialize: storage initializer finished unsuccessfully"`},
		{"init failing, restarts <= 2 (sic: being prepared)", true, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "ContainersNotInitialized", ""), initExit(1), mainRestarts(2))},
			`STOPPED/null/"Deployment is being prepared"`},
		{"init failing, no main container status", true, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "ContainersNotInitialized", ""), initExit(1))},
			`STOPPED/null/"Deployment is being prepared"`},
		{"init failing while stopping", false, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "ContainersNotInitialized", ""), initExit(1), mainRestarts(5))},
			`STOPPED/null/"Stopping deployment"`},
		{"init running, no termination", true, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "ContainersNotInitialized", ""), initExit(0))},
			`INITIALIZED/null/"Initializing deployment"`},
		{"init not ready, no init statuses (guarded)", true, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "ContainersNotInitialized", ""))},
			`INITIALIZED/null/"Initializing deployment"`},
		{"init not ready, other reason continues", true, true, []corev1.Pod{pod(scheduled, cond(corev1.PodInitialized, "False", "Other", ""))},
			`INITIALIZED/null/"Initializing deployment"`},
		{"no ContainersReady condition", true, true, []corev1.Pod{pod(scheduled, initialized)}, `STARTED/null/"Deployment is starting"`},
		{"no ContainersReady condition, stopping", false, true, []corev1.Pod{pod(scheduled, initialized)}, `STOPPED/null/"Stopping deployment"`},
		{"containers failing", true, true, []corev1.Pod{pod(scheduled, initialized, cond(corev1.ContainersReady, "False", "ContainersNotReady", ""), lastExit(1))},
			`STARTED/false/"Failed to run: predictor terminated unsuccessfully"`},
		{"transformer failing", true, true, []corev1.Pod{pod(component("transformer"), scheduled, initialized, cond(corev1.ContainersReady, "False", "PodFailed", ""), lastExit(2))},
			`STARTED/false/"Failed to run: transformer terminated unsuccessfully"`},
		{"failing pod without component label reads predictor", true, true, []corev1.Pod{pod(noComponent(), scheduled, initialized, cond(corev1.ContainersReady, "False", "PodFailed", ""), lastExit(2))},
			`STARTED/false/"Failed to run: predictor terminated unsuccessfully"`},
		{"containers failing while stopping", false, true, []corev1.Pod{pod(scheduled, initialized, cond(corev1.ContainersReady, "False", "ContainersNotReady", ""), lastExit(1))},
			`STOPPED/null/"Stopping deployment"`},
		{"containers not ready, no failure", true, true, []corev1.Pod{pod(scheduled, initialized, cond(corev1.ContainersReady, "False", "ContainersNotReady", ""), lastExit(0))},
			`STARTED/null/"Deployment is starting"`},
		{"containers not ready, no failure, stopping", false, true, []corev1.Pod{pod(scheduled, initialized, cond(corev1.ContainersReady, "False", "ContainersNotReady", ""))},
			`STOPPED/null/"Stopping deployment"`},
		{"containers not ready, other reason", true, true, []corev1.Pod{pod(scheduled, initialized, cond(corev1.ContainersReady, "False", "", ""))},
			`STARTED/null/"Deployment is starting"`},
		{"no Ready condition", true, true, []corev1.Pod{pod(scheduled, initialized, cReady)}, `READY/null/"Setting up connectivity"`},
		{"no Ready condition, stopping", false, true, []corev1.Pod{pod(scheduled, initialized, cReady)}, `STOPPED/null/"Stopping deployment"`},
		{"ready failing", true, true, []corev1.Pod{pod(scheduled, initialized, cReady, cond(corev1.PodReady, "False", "ReadinessGatesNotReady", "gates not ready"))},
			`READY/false/"Failed to setup connectivity: gates not ready"`},
		{"ready failing, stopping", false, true, []corev1.Pod{pod(scheduled, initialized, cReady, cond(corev1.PodReady, "False", "ContainersNotReady", "x"))},
			`STOPPED/null/"Stopping deployment"`},
		{"ready not true, other reason", true, true, []corev1.Pod{pod(scheduled, initialized, cReady, cond(corev1.PodReady, "False", "", ""))},
			`READY/null/"Setting up connectivity"`},
		{"ready not true, other reason, stopping", false, true, []corev1.Pod{pod(scheduled, initialized, cReady, cond(corev1.PodReady, "False", "", ""))},
			`STOPPED/null/"Stopping deployment"`},
		{"ready", true, true, []corev1.Pod{readyPod()}, `READY/true/"Deployment is ready"`},
		{"ready while stopping: unscheduling", false, true, []corev1.Pod{readyPod()}, `SCHEDULED/null/"Waiting for being unscheduled"`},
		{"first blocking pod decides", true, true, []corev1.Pod{pod(unsched), readyPod()}, `SCHEDULED/false/"Failed to be scheduled: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu."`},
		{"last pod decides when none blocks", true, true, []corev1.Pod{readyPod(), pod(scheduled)}, `INITIALIZED/null/"Initializing deployment"`},
		{"list order matters", true, true, []corev1.Pod{pod(scheduled), readyPod()}, `READY/true/"Deployment is ready"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := show(DeploymentCondition(tc.deployed, tc.artifact, tc.pods)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func isvc(gen int64, rev string, conds ...ISVCCondition) *ISVC {
	return &ISVC{Generation: gen, RevisionLabel: rev, HasStatus: true, HasConditions: true, Conditions: conds}
}

func TestDeriveKServe(t *testing.T) {
	readyTrue := ISVCCondition{Type: "Ready", Status: "True"}
	readyFalse := ISVCCondition{Type: "Ready", Status: "False"}
	failingPod := pod(scheduled, initialized, cond(corev1.ContainersReady, "False", "ContainersNotReady", ""), lastExit(1))
	transformer := readyPod(component("transformer"))
	tests := []struct {
		name       string
		in         Input
		wantStatus Status
		wantCond   string
		pred, tran int
	}{
		{"created: never started", Input{ArtifactExists: true}, Created, `STOPPED/true/"Deployment is not running"`, 0, 0},
		{"stopped", Input{ArtifactExists: true, Revision: "1"}, Stopped, `STOPPED/true/"Deployment is not running"`, 0, 0},
		{"creating: no artifact", Input{Revision: "1"}, Creating, `STOPPED/null/"Deployment is being prepared"`, 0, 0},
		{"stopping: ISVC present", Input{ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", readyTrue)}, Stopping, `STOPPED/true/"Deployment is not running"`, 0, 0},
		{"stopping: pods left", Input{ArtifactExists: true, Revision: "1", Pods: []corev1.Pod{readyPod()}}, Stopping, `SCHEDULED/null/"Waiting for being unscheduled"`, 1, 0},
		{"starting: no ISVC yet", Input{Deployed: true, ArtifactExists: true, Revision: "1"}, Starting, `SCHEDULED/null/"Waiting for being scheduled"`, 0, 0},
		{"starting: no status", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: &ISVC{Generation: 1, RevisionLabel: "1"}}, Starting, `SCHEDULED/null/"Waiting for being scheduled"`, 0, 0},
		{"starting: no conditions", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: &ISVC{Generation: 1, RevisionLabel: "1", HasStatus: true}}, Starting, `SCHEDULED/null/"Waiting for being scheduled"`, 0, 0},
		{"starting: no Ready condition reads False", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", ISVCCondition{Type: "PredictorReady", Status: "True"}), Pods: []corev1.Pod{pod(scheduled)}},
			Starting, `INITIALIZED/null/"Initializing deployment"`, 1, 0},
		{"starting: Ready Unknown", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", ISVCCondition{Type: "Ready", Status: "Unknown"}), Pods: []corev1.Pod{pod(scheduled, initialized)}},
			Starting, `STARTED/null/"Deployment is starting"`, 1, 0},
		{"updating: generation 2", Input{Deployed: true, ArtifactExists: true, Revision: "2", ISVC: isvc(2, "2", readyFalse), Pods: []corev1.Pod{pod(scheduled, initialized, cReady)}},
			Updating, `READY/null/"Setting up connectivity"`, 1, 0},
		{"updating: revision differs", Input{Deployed: true, ArtifactExists: true, Revision: "2", ISVC: isvc(1, "1", readyFalse), Pods: []corev1.Pod{pod(scheduled)}},
			Updating, `INITIALIZED/null/"Initializing deployment"`, 1, 0},
		{"failed", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", readyFalse), Pods: []corev1.Pod{failingPod}},
			Failed, `STARTED/false/"Failed to run: predictor terminated unsuccessfully"`, 1, 0},
		// Without the artifact the condition is STOPPED/null before any pod is read, so the
		// backend's "Creating on a failed condition" branch cannot be reached: it starts.
		{"failing pod without artifact: starting, being prepared", Input{Deployed: true, Revision: "1", ISVC: isvc(1, "1", readyFalse), Pods: []corev1.Pod{failingPod}},
			Starting, `STOPPED/null/"Deployment is being prepared"`, 1, 0},
		{"last Ready condition wins", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", readyFalse, readyTrue), Pods: []corev1.Pod{readyPod()}},
			Running, `READY/true/"Deployment is ready"`, 1, 0},
		{"idle: scaled to zero", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", readyTrue)},
			Idle, `READY/true/"Deployment is ready, but idle. Higher latencies are expected in the first predictions"`, 0, 0},
		{"idle without artifact: creating", Input{Deployed: true, Revision: "1", ISVC: isvc(1, "1", readyTrue)},
			Creating, `STOPPED/null/"Deployment is being prepared"`, 0, 0},
		{"idle: only transformer pods", Input{Deployed: true, ArtifactExists: true, Revision: "1", HasTransformer: true, ISVC: isvc(1, "1", readyTrue), Pods: []corev1.Pod{transformer}},
			Idle, `READY/true/"Deployment is ready, but idle. Higher latencies are expected in the first predictions"`, 0, 1},
		{"idle: transformer scaled to zero", Input{Deployed: true, ArtifactExists: true, Revision: "1", HasTransformer: true, ISVC: isvc(1, "1", readyTrue), Pods: []corev1.Pod{readyPod()}},
			Idle, `READY/true/"Deployment is ready, but idle. Higher latencies are expected in the first predictions"`, 1, 0},
		{"partial idle without artifact: creating", Input{Deployed: true, Revision: "1", HasTransformer: true, ISVC: isvc(1, "1", readyTrue), Pods: []corev1.Pod{readyPod()}},
			Creating, `STOPPED/null/"Deployment is being prepared"`, 1, 0},
		{"running with transformer", Input{Deployed: true, ArtifactExists: true, Revision: "1", HasTransformer: true, ISVC: isvc(1, "1", readyTrue), Pods: []corev1.Pod{readyPod(), transformer}},
			Running, `READY/true/"Deployment is ready"`, 1, 1},
		{"running: pods counted, not readiness", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", readyTrue), Pods: []corev1.Pod{readyPod(), pod()}},
			Running, `READY/true/"Deployment is ready"`, 2, 0},
		{"stopped through KServe's annotation: the object stays, no pod", Input{ArtifactExists: true, Revision: "1", ISVC: &ISVC{Generation: 2, RevisionLabel: "1", StopRequested: true}},
			Stopped, `STOPPED/true/"Deployment is not running"`, 0, 0},
		{"stopping through KServe's annotation: pods left", Input{ArtifactExists: true, Revision: "1", ISVC: &ISVC{Generation: 2, RevisionLabel: "1", StopRequested: true}, Pods: []corev1.Pod{readyPod()}},
			Stopping, `SCHEDULED/null/"Waiting for being unscheduled"`, 1, 0},
		{"an explainer's pod is no transformer", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", readyTrue), Pods: []corev1.Pod{readyPod(), readyPod(component("explainer"))}},
			Running, `READY/true/"Deployment is ready"`, 1, 0},
		{"Ready with an unexpected value reads as true", Input{Deployed: true, ArtifactExists: true, Revision: "1", ISVC: isvc(1, "1", ISVCCondition{Type: "Ready", Status: ""}), Pods: []corev1.Pod{readyPod()}},
			Running, `READY/true/"Deployment is ready"`, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Tool = ToolKServe
			got := Derive(tc.in)
			if got.Status != tc.wantStatus || show(got.Condition) != tc.wantCond {
				t.Errorf("got  %s %s\nwant %s %s", got.Status, show(got.Condition), tc.wantStatus, tc.wantCond)
			}
			if got.AvailableInstances != tc.pred || got.AvailableTransformerInstances == nil || *got.AvailableTransformerInstances != tc.tran {
				t.Errorf("instances: got %d/%v, want %d/%d", got.AvailableInstances, got.AvailableTransformerInstances, tc.pred, tc.tran)
			}
		})
	}
}

func TestDeriveDefault(t *testing.T) {
	i32 := func(v int32) *int32 { return &v }
	dep := func(gen int64, avail *int32, conds ...ISVCCondition) *DeploymentStatus {
		return &DeploymentStatus{ObservedGeneration: gen, AvailableReplicas: avail, Conditions: conds}
	}
	rfTrue := ISVCCondition{Type: "ReplicaFailure", Status: "True"}
	rfFalse := ISVCCondition{Type: "ReplicaFailure", Status: "False"}
	unsched := pod(cond(corev1.PodScheduled, "False", "Unschedulable", "no cpu"))
	tests := []struct {
		name       string
		in         Input
		wantStatus Status
		wantCond   string
		avail      int
	}{
		{"stopped", Input{ArtifactExists: true, Revision: "1"}, Stopped, `STOPPED/true/"Deployment is not running"`, 0},
		{"stopping: deployment present", Input{ArtifactExists: true, Revision: "1", Deployment: dep(1, i32(1))}, Stopping, `STOPPED/true/"Deployment is not running"`, 1},
		{"starting: no deployment", Input{Deployed: true, ArtifactExists: true, Revision: "1"}, Starting, `SCHEDULED/null/"Waiting for being scheduled"`, 0},
		{"failed: replica failure", Input{Deployed: true, ArtifactExists: true, Revision: "1", Deployment: dep(1, nil, rfTrue), Pods: []corev1.Pod{unsched}},
			Failed, `SCHEDULED/false/"Failed to be scheduled: no cpu"`, 0},
		{"replica failure without artifact: creating", Input{Deployed: true, Revision: "1", Deployment: dep(1, nil, rfTrue)},
			Creating, `STOPPED/null/"Deployment is being prepared"`, 0},
		{"first ReplicaFailure false decides", Input{Deployed: true, ArtifactExists: true, Revision: "1", Instances: 1, Deployment: dep(1, i32(1), rfFalse, rfTrue), Pods: []corev1.Pod{readyPod()}},
			Running, `READY/true/"Deployment is ready"`, 1},
		{"failed: restarts > 2", Input{Deployed: true, ArtifactExists: true, Revision: "1", Deployment: dep(1, nil), Pods: []corev1.Pod{pod(mainRestarts(3))}},
			Failed, `STARTED/false/"Failed to run: predictor terminated unsuccessfully"`, 0},
		{"restarts > 2 without artifact: creating", Input{Deployed: true, Revision: "1", Deployment: dep(1, nil), Pods: []corev1.Pod{pod(mainRestarts(3))}},
			Creating, `STOPPED/null/"Deployment is being prepared"`, 0},
		{"failed: condition false", Input{Deployed: true, ArtifactExists: true, Revision: "1", Deployment: dep(1, nil), Pods: []corev1.Pod{unsched}},
			Failed, `SCHEDULED/false/"Failed to be scheduled: no cpu"`, 0},
		{"unschedulable without artifact: starting, being prepared", Input{Deployed: true, Revision: "1", Deployment: dep(1, nil), Pods: []corev1.Pod{unsched}},
			Starting, `STOPPED/null/"Deployment is being prepared"`, 0},
		{"running", Input{Deployed: true, ArtifactExists: true, Revision: "1", Instances: 1, Deployment: dep(1, i32(1)), Pods: []corev1.Pod{readyPod()}},
			Running, `READY/true/"Deployment is ready"`, 1},
		{"starting: not all available, generation 1", Input{Deployed: true, ArtifactExists: true, Revision: "1", Instances: 2, Deployment: dep(1, i32(1)), Pods: []corev1.Pod{readyPod(), pod(scheduled)}},
			Starting, `INITIALIZED/null/"Initializing deployment"`, 1},
		{"updating: none available, generation 2", Input{Deployed: true, ArtifactExists: true, Revision: "1", Instances: 1, Deployment: dep(2, nil), Pods: []corev1.Pod{pod(scheduled, initialized)}},
			Updating, `STARTED/null/"Deployment is starting"`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Tool = ToolDefault
			got := Derive(tc.in)
			if got.Status != tc.wantStatus || show(got.Condition) != tc.wantCond {
				t.Errorf("got  %s %s\nwant %s %s", got.Status, show(got.Condition), tc.wantStatus, tc.wantCond)
			}
			if got.AvailableInstances != tc.avail || got.AvailableTransformerInstances != nil {
				t.Errorf("instances: got %d/%v, want %d/nil", got.AvailableInstances, got.AvailableTransformerInstances, tc.avail)
			}
		})
	}
}
