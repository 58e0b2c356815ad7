package diagnose_test

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Every rule of the diagnosis fires on the scenario made for it, with its status and condition
// (the golden files in pkg/printers hold the whole output; this names what each must say).
func TestEveryRuleOnItsScenario(t *testing.T) {
	tests := []struct {
		scenario, status, condition, cause, next string
	}{
		{"running", "Running", "READY", "running and ready", ""},
		{"gpuunschedulable", "Failed", "SCHEDULED", "no node has enough nvidia.com/gpu", "kubectl describe nodes"},
		{"storageinitfailing", "Failed", "INITIALIZED", "The model's path does not exist", "--container storage-initializer --previous"},
		{"storageinitdenied", "Failed", "INITIALIZED", "refuse", "--container storage-initializer --previous"},
		{"storageinitdisk", "Failed", "INITIALIZED", "disk", "--container storage-initializer --previous"},
		{"routenotready", "", "", "Knative route is not ready", ""},
		{"standarddeadline", "", "", "progress deadline", ""},
		{"predictorcrash", "Failed", "STARTED", "crashes on start", "--previous"},
		{"transformercrash", "Failed", "STARTED", "The transformer's kserve-container", "-c transformer"},
		{"oomkilled", "", "", "OOM-killed", ""},
		{"livenesskilled", "", "", "liveness probe", ""},
		{"imagepull", "", "", "cannot start: its image", ""},
		{"readinessfailing", "", "", "fails its readiness probe", ""},
		{"idle", "Idle", "", "Scaled to zero", ""},
		{"revisiondeadline", "Starting", "", "Knative gave up on the predictor's revision stuck-predictor-00001: it did not become ready within its progress deadline", "-c predictor --since 1h"},
		{"standardgap", "Idle", "", "Standard mode does not scale to zero", "--watch"},
		{"stopping", "Stopping", "", "Being stopped", ""},
		{"leftbehind", "", "", "left behind", ""},
		{"startscheduling", "Starting", "SCHEDULED", "waiting for its pods to be scheduled", ""},
		{"startinitializing", "Starting", "INITIALIZED", "initializing", ""},
		{"startstarting", "Starting", "STARTED", "starting the model server", ""},
		{"startconnecting", "Starting", "READY", "setting up connectivity", ""},
		{"updating", "Updating", "", "Updating", ""},
		{"defaultrunning", "Running", "", "running and ready", ""},
		{"defaultfailed", "Failed", "", "python-server crashes on start", ""},
		{"quotaexceeded", "", "", "ResourceQuota hopsworks-quota is used up (requested limits.cpu=4, used limits.cpu=6, limited to limits.cpu=8)", "kubectl describe resourcequota hopsworks-quota"},
		{"limitrangeexceeded", "", "", "a LimitRange of the project says maximum cpu usage per Container is 2, but limit is 4", "kubectl describe limitrange"},
		{"selectorunschedulable", "Failed", "SCHEDULED", "no node has the labels its nodeSelector hopsworks.ai/gpu-type=a100 asks for", "kubectl get nodes --show-labels"},
		{"taintunschedulable", "Failed", "SCHEDULED", "carry the taint hopsworks.ai/dedicated=inference:NoSchedule, which it does not tolerate", "Taints"},
		{"pvcmissing", "Failed", "SCHEDULED", "the PersistentVolumeClaim models-cache that it mounts does not exist", "kubectl get pvc"},
		{"configmapmissing", "", "", "the ConfigMap feature-config that it mounts does not exist", "kubectl get configmap"},
		{"exitszero", "", "", "ends by itself (exit 0, Completed)", "--previous"},
		{"storageinitoom", "Failed", "INITIALIZED", "storage-initializer is OOM-killed", "storageInitializer.memoryLimit"},
		{"nodenotready", "", "", "stopped reporting (NotReady)", "kubectl describe node"},
		{"kservecannotreconcile", "", "", `KServe cannot reconcile the InferenceService: fails to reconcile predictor: Deployment.apps "refused-predictor" is invalid`, "--field-selector involvedObject.name=refused"},
	}
	catalog := fixtures.Catalog("demo")
	if len(tests) != len(catalog) {
		t.Errorf("%d cases for %d scenarios: every scenario needs its case", len(tests), len(catalog))
	}
	for _, tc := range tests {
		t.Run(tc.scenario, func(t *testing.T) {
			sc, ok := catalog[tc.scenario]
			if !ok {
				t.Fatalf("no scenario %q", tc.scenario)
			}
			snap := sc.Snapshot(now)
			r := diagnose.Build(snap)
			d := diagnose.Diagnose(snap, r)
			if l := d.Logs; l != nil {
				d.AttachLogs(sc.LogLines(l.Pod, l.Container, l.Previous))
			}
			if tc.status != "" && r.Status != tc.status {
				t.Errorf("status %s, want %s", r.Status, tc.status)
			}
			if tc.condition != "" && string(r.Condition.Type) != tc.condition {
				t.Errorf("condition %s, want %s", r.Condition.Type, tc.condition)
			}
			if !strings.Contains(d.Cause, tc.cause) {
				t.Errorf("cause %q, want it to say %q", d.Cause, tc.cause)
			}
			if !strings.Contains(d.Next, tc.next) {
				t.Errorf("next %q, want it to say %q", d.Next, tc.next)
			}
		})
	}
}

// The last words of a crash-looping container: its previous instance, and nothing for a
// container that exited 0 or died before the window.
func TestDeaths(t *testing.T) {
	snap := fixtures.PredictorCrashLoop("demo", "churn").Snapshot(now)
	deaths := diagnose.Deaths(snap.Pods, nil, time.Time{})
	if len(deaths) != 1 || deaths[0].Container != state.ContainerMain || !deaths[0].Previous() || deaths[0].ExitCode != 1 {
		t.Fatalf("deaths %+v", deaths)
	}
	if d := diagnose.Deaths(snap.Pods, nil, now); len(d) != 0 {
		t.Errorf("a death before the window is listed: %+v", d)
	}
	if d := diagnose.Deaths(snap.Pods, map[string]bool{"queue-proxy": true}, time.Time{}); len(d) != 0 {
		t.Errorf("a container not asked for is listed: %+v", d)
	}
	if d := diagnose.Deaths(fixtures.Running("demo", "fraud").Snapshot(now).Pods, nil, time.Time{}); len(d) != 0 {
		t.Errorf("a completed storage-initializer is a death: %+v", d)
	}
}

func TestWhyNoPods(t *testing.T) {
	for status, want := range map[string]string{"Idle": "scaled to zero", "Stopped": "Stopped; its past logs", "Stopping": "Stopping", "Starting": "no pod of it exists yet"} {
		if got := diagnose.WhyNoPods(&diagnose.Report{Status: status}); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", status, got, want)
		}
	}
}

// What status --until waits for, and when failing ends a wait for ready.
func TestUntil(t *testing.T) {
	tests := []struct {
		target, status string
		gone           bool
		done, failed   bool
	}{
		{"ready", "Running", false, true, false},
		{"ready", "Idle", false, true, false},
		{"ready", "Starting", false, false, false},
		{"ready", "Failed", false, true, true},
		{"stopped", "Stopping", false, false, false},
		{"stopped", "", true, true, false},
		{"failed", "Failed", false, true, false},
		{"failed", "Running", false, false, false},
	}
	for _, tc := range tests {
		r := &diagnose.Report{Status: tc.status}
		if tc.gone {
			r = nil
		}
		if done, failed := diagnose.Until(tc.target, r, tc.gone); done != tc.done || failed != tc.failed {
			t.Errorf("until %s at %q (gone %v): %v %v, want %v %v", tc.target, tc.status, tc.gone, done, failed, tc.done, tc.failed)
		}
	}
}

// A storage-initializer in a crash loop spends part of each round running a retry: the
// failure it repeats is still the diagnosis, read from the previous instance.
func TestStorageInitRetryRunning(t *testing.T) {
	snap := fixtures.StorageInitFailing("demo", "irisinit").Snapshot(now)
	cs := &snap.Pods[0].Status.InitContainerStatuses[0]
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(now)}}
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error"}}
	d := diagnose.Diagnose(snap, diagnose.Build(snap))
	if !strings.Contains(d.Cause, "cannot download the model") || !strings.Contains(d.Cause, "retrying now") ||
		d.Logs == nil || !d.Logs.Previous || !strings.Contains(d.Next, "--container storage-initializer --previous") {
		t.Errorf("a running retry after failures: %+v", d)
	}
}

// KServe keeps IngressReady False ("Predictor ingress not created", "Transformer ingress not
// created") until the components are ready: a consequence, never named as the cause. Any other
// IngressReady=False of a Standard-mode deployment is its Ingress's, not a Knative route's.
func TestIngressReadyIsAConsequenceUntilTheComponentsAreReady(t *testing.T) {
	for _, tc := range []struct {
		standard      bool
		reason        string
		cause, noWord string
	}{
		{true, "Predictor ingress not created", "", "is not ready:"},
		{true, "Transformer ingress not created", "", "is not ready:"},
		{false, "Predictor ingress not created", "", "is not ready:"},
		{true, "IngressNotConfigured", "KServe's ingress is not ready", "Knative"},
		{false, "IngressNotConfigured", "Knative route is not ready", ""},
	} {
		sc := fixtures.RouteNotReady("demo", "route")
		sc.Serving.Standard = tc.standard
		sc.ISVC.Reason = tc.reason
		sc.ISVC.Extra[1]["reason"] = tc.reason
		snap := sc.Snapshot(now)
		r := diagnose.Build(snap)
		d := diagnose.Diagnose(snap, r)
		if !strings.Contains(d.Cause, tc.cause) || (tc.noWord != "" && strings.Contains(d.Cause, tc.noWord)) {
			t.Errorf("standard=%v %q: cause %q", tc.standard, tc.reason, d.Cause)
		}
		if tc.standard && tc.cause != "" && !strings.Contains(d.Next, "kubectl get ingress") {
			t.Errorf("standard=%v %q: next %q", tc.standard, tc.reason, d.Next)
		}
	}
}

// A crash-looping container is read the same at every instant of the loop: waiting in
// back-off, terminated, or running for a moment between two crashes, STARTED fails and the
// cause stays.
func TestCrashLoopReadsTheSameAtEveryInstant(t *testing.T) {
	type instant struct {
		name  string
		state corev1.ContainerState
	}
	started := metav1.NewTime(now.Add(-2 * time.Second))
	for _, loop := range []struct {
		scenario, cause string
		exit            int32
		reason          string
	}{{"predictorcrash", "crashes on start", 1, "Error"}, {"exitszero", "ends by itself (exit 0", 0, "Completed"}} {
		for _, in := range []instant{
			{"back-off", corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s"}}},
			{"terminated", corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: loop.exit, Reason: loop.reason, FinishedAt: started}}},
			{"running between crashes", corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: started}}},
		} {
			snap := fixtures.Catalog("demo")[loop.scenario].Snapshot(now)
			cs := &snap.Pods[0].Status.ContainerStatuses[0]
			cs.State, cs.Ready = in.state, false
			w := diagnose.Explain(snap)
			if w.FailingStep != "STARTED" || !strings.Contains(w.Diagnosis.Cause, loop.cause) {
				t.Errorf("%s, %s: failing step %q, cause %q, steps %+v", loop.scenario, in.name, w.FailingStep, w.Diagnosis.Cause, w.Steps)
			}
			for _, st := range w.Steps {
				if st.Name == "STARTED" && st.State != diagnose.StepFailed {
					t.Errorf("%s, %s: STARTED is %s", loop.scenario, in.name, st.State)
				}
			}
		}
	}
}

// A spec KServe refuses (no runtime serves its model format): KServe's own words lead the
// diagnosis, which is terminal, instead of "it has no status".
func TestKServesOwnWordsFirst(t *testing.T) {
	sc := fixtures.Scenario{Serving: fixtures.Serving{Name: "noruntime", Namespace: "demo", ID: 68, Standard: true},
		ISVC: &fixtures.ISVCStatus{ModelStatus: map[string]any{"transitionStatus": "InvalidSpec",
			"states":          map[string]any{"targetModelState": "FailedToLoad"},
			"lastFailureInfo": map[string]any{"reason": "NoSupportingRuntime", "message": "No runtime found to support specified framework/version"}}}}
	snap := sc.Snapshot(now)
	snap.Events = append(snap.Events, corev1.Event{Type: "Warning", Reason: "InternalError", Count: 7, LastTimestamp: metav1.NewTime(now),
		InvolvedObject: corev1.ObjectReference{Kind: "InferenceService", Name: "noruntime"},
		Message:        "no runtime found to support predictor with model type: {hopsdeploy-unknown-format <nil>}"})
	r := diagnose.Build(snap)
	d := diagnose.Diagnose(snap, r)
	if !strings.Contains(d.Cause, "KServe refuses the InferenceService's spec: NoSupportingRuntime") || !d.Terminal ||
		!strings.Contains(strings.Join(d.Evidence, "\n"), "event InternalError x7") || !strings.Contains(d.Next, "clusterservingruntimes") {
		t.Errorf("diagnosis %+v", d)
	}
}

// A Ready whose observedGeneration is older than the spec's generation is the previous
// spec's: a wait for ready goes on until KServe (or the Deployment controller) catches up.
func TestUntilReadyWaitsForTheLatestGeneration(t *testing.T) {
	snap := fixtures.Running("demo", "fraud").Snapshot(now)
	snap.ISVC.SetGeneration(3)
	status := snap.ISVC.Object["status"].(map[string]any)
	status["observedGeneration"] = int64(2)
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	if done, _ := diagnose.Until("ready", r, false); done || !r.Stale {
		t.Errorf("ready of generation 2 for spec generation 3: done %v, stale %v", done, r.Stale)
	}
	status["observedGeneration"] = int64(3)
	r = diagnose.Build(snap)
	if done, _ := diagnose.Until("ready", r, false); !done || r.Stale {
		t.Errorf("ready of the latest generation: done %v, stale %v", done, r.Stale)
	}
	// The DEFAULT tool's Deployment likewise.
	dsnap := fixtures.DefaultRunning("demo", "legacy").Snapshot(now)
	dsnap.Deployment.Generation, dsnap.Deployment.Status.ObservedGeneration = 2, 1
	if done, _ := diagnose.Until("ready", diagnose.Build(dsnap), false); done {
		t.Error("a DEFAULT deployment whose controller has not seen its spec counted as ready")
	}
}

// The DEFAULT tool's Deployment past its progress deadline, as the controller-manager says it.
func TestDefaultDeploymentPastItsDeadline(t *testing.T) {
	snap := fixtures.DefaultFailed("demo", "legacybad").Snapshot(now)
	snap.Deployment.Status.Conditions = append(snap.Deployment.Status.Conditions, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing,
		Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "python-server-26-6b8c9d" has timed out progressing.`})
	d := diagnose.Diagnose(snap, diagnose.Build(snap))
	if !strings.Contains(d.Cause, "The rollout of legacybad passed its progress deadline") || !strings.Contains(d.Next, "deployment/python-server-26") {
		t.Errorf("cause %q, next %q", d.Cause, d.Next)
	}
}
