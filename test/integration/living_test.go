//go:build integration

package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"k8s.io/client-go/util/retry"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The DEFAULT serving tool on a cluster that moves by itself: Hopsworks creates a labelled
// Deployment, and the real controller-manager, scheduler and KWOK do the rest; the plugin
// reads what they wrote (ReplicaSet-made pods, the scheduler's own message, conditions).
func TestLivingDefaultDeployment(t *testing.T) {
	l, env := livingProject(t, "living-default")
	ctx, ns := context.Background(), "living-default"
	create := func(name string, id int, gpu bool) {
		d := fixtures.Serving{Name: name, Namespace: ns, ID: id}.DefaultDeployment(1, 0, false)
		d.Status = appsv1.DeploymentStatus{} // the controller-manager writes it
		if gpu {
			// A pod template without Hopsworks' labels: the pods are found by the
			// Deployment's own selector.
			d.Spec.Template.Labels = map[string]string{"model": "42"}
		}
		d.Spec.Template.Spec.TerminationGracePeriodSeconds = ptrTo(int64(2)) // a quick deletion test
		c := &d.Spec.Template.Spec.Containers[0]
		c.Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")}
		if gpu {
			c.Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": resource.MustParse("1")}
		}
		if _, err := l.Kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	create("legacy", 41, false)
	r := pluginEnv(t, env, "status", "legacy", "-n", ns, "--until", "ready", "--timeout", "60s")
	if r.code != 0 {
		t.Fatalf("a Deployment made real did not become ready: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = pluginEnv(t, env, "status", "legacy", "-n", ns).must(t)
	contains(t, "status of a real Deployment", r.out, "Status:     Running", "Condition:  READY true", "Instances:  predictor 1/1 ready", "pod python-server-41-")
	pods, err := l.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) != 1 || len(pods.Items[0].OwnerReferences) == 0 || pods.Items[0].OwnerReferences[0].Kind != "ReplicaSet" ||
		!strings.HasPrefix(pods.Items[0].Spec.NodeName, "kwok-node-") {
		t.Fatalf("the pod should be the ReplicaSet's, on a KWOK node: %v %+v", err, pods.Items)
	}

	// A GPU on GPU-less nodes: the scheduler's own words reach the status and the diagnosis.
	create("gpumodel", 42, true)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = pluginEnv(t, env, "status", "gpumodel", "-n", ns)
		if strings.Contains(r.out, "Insufficient nvidia.com/gpu") || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	contains(t, "status of an unschedulable model", r.out, "Status:     Failed", "Condition:  SCHEDULED false: Failed to be scheduled: 0/2 nodes are available: 2 Insufficient nvidia.com/gpu",
		"no node has enough nvidia.com/gpu")

	// Deleting the Deployment: garbage collection takes the ReplicaSet and the pods with it.
	if err := l.Kube.AppsV1().Deployments(ns).Delete(ctx, "python-server-41", metav1.DeleteOptions{PropagationPolicy: ptrTo(metav1.DeletePropagationBackground)}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	deadline = time.Now().Add(30 * time.Second)
	for {
		r = pluginEnv(t, env, "status", "legacy", "-n", ns)
		if r.code != 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if r.code != 1 || !strings.Contains(r.err, "not found") {
		t.Errorf("after deletion: exit %d %q %q", r.code, r.out, r.err)
	}
	t.Logf("gone %s after the deletion", time.Since(start).Round(100*time.Millisecond))
}

func ptrTo[T any](v T) *T { return &v }

// An InferenceService created as Hopsworks creates it (its labels and annotations, Standard
// mode), made real by the KServe controller (a Deployment, the defaulter, the pod mutator's
// storage-initializer), the controller-manager, the scheduler and KWOK.
func TestLivingInferenceService(t *testing.T) {
	l, env := livingProject(t, "living-kserve")
	ctx, ns := context.Background(), "living-kserve"
	livingISVC(t, l, ns, "fraud", 51, isvcSpec{})
	r := pluginEnv(t, env, "status", "fraud", "-n", ns, "--until", "ready", "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("the InferenceService did not become ready: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	// KServe writes Ready, then the model's status in a later update (a cold CI run caught
	// status between the two): what the controllers write, when they have written it.
	r = awaitStatus(t, env, 30*time.Second, ns, "fraud", "Status:     Running", "Condition:  READY true", "Instances:  predictor 1/1 ready", "KServe Standard",
		"PredictorReady=True", "model: UpToDate; Loaded; 1 copies",
		"deployment fraud-predictor: 1/1 available, 1 updated; Available=True MinimumReplicasAvailable")
	pods, err := l.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods: %v %d", err, len(pods.Items))
	}
	p := pods.Items[0]
	if len(p.Spec.InitContainers) == 0 || p.Spec.InitContainers[0].Name != "storage-initializer" || p.Spec.Containers[0].Name != "kserve-container" {
		t.Errorf("KServe's webhooks did not shape the pod: init %v, containers %v", p.Spec.InitContainers, p.Spec.Containers)
	}
}

// livingProject starts a living cluster with a Hopsworks project's namespace (the project
// named after it, _ for -), and the environment that points the plugin at the cluster.
func livingProject(t *testing.T, ns string) (*testenv.Living, []string) {
	t.Helper()
	l := testenv.StartLiving(t)
	if err := fixtures.EnsureNamespace(context.Background(), l.Kube, ns, map[string]string{"hopsworks.ai/project": strings.ReplaceAll(ns, "-", "_")}); err != nil {
		t.Fatal(err)
	}
	return l, []string{"KUBECONFIG=" + l.Kubeconfig}
}

// isvcSpec is what a living test's InferenceService has beyond what Hopsworks gives every one.
type isvcSpec = fixtures.LivingSpec

// livingISVC creates an InferenceService as Hopsworks does, on a living cluster.
func livingISVC(t *testing.T, l *testenv.Living, ns, name string, id int, o isvcSpec) {
	t.Helper()
	// A short grace period keeps the tests quick: KWOK removes a deleted pod when it ends.
	o.GracePeriod = 2
	u := fixtures.Serving{Name: name, Namespace: ns, ID: id}.LivingISVC(o)
	if _, err := l.Dyn.Resource(fixtures.ISVCResource).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Failure modes on real KServe-made pods, played by KWOK stages: each ends in the state
// Hopsworks would show, with the diagnosis naming the cause.
func TestLivingFailureModes(t *testing.T) {
	l, env := livingProject(t, "living-failures")
	ns := "living-failures"
	livingISVC(t, l, ns, "download", 61, isvcSpec{PredictorStage: "init-crashloop"})
	livingISVC(t, l, ns, "crashy", 62, isvcSpec{PredictorStage: "main-crashloop"})
	livingISVC(t, l, ns, "oom", 63, isvcSpec{PredictorStage: "oomkilled"})
	livingISVC(t, l, ns, "gpu", 64, isvcSpec{GPU: true})
	livingISVC(t, l, ns, "pull", 65, isvcSpec{PredictorStage: "image-pull-backoff"})
	livingISVC(t, l, ns, "transform", 66, isvcSpec{Transformer: true, TransformerStage: "main-crashloop"})
	// A model server that takes long to start: KWOK's own ready stage, delayed.
	livingISVC(t, l, ns, "slow", 67, isvcSpec{PredictorAnnotations: fixtures.SlowStart("40s")})
	// A model format that none of the release's serving runtimes serves: KServe says so.
	livingISVC(t, l, ns, "noruntime", 68, isvcSpec{ModelFormat: "hopsdeploy-unknown-format"})
	for _, tc := range []struct {
		name string
		says []string
	}{
		// Hopsworks reads the main container's restartCount here (a quirk): with a real
		// kubelet it stays 0 while the init container crash-loops, so Hopsworks never says
		// Failed; the diagnosis does.
		// first: it is only slow, and Running 40 s after its start
		{"slow", []string{"Status:     Starting", "Condition:  STARTED unknown: Deployment is starting"}},
		{"download", []string{"Status:     Starting", "Condition:  STOPPED unknown: Deployment is being prepared", "storage-initializer (init)  waiting CrashLoopBackOff",
			"The predictor's storage-initializer cannot download the model"}},
		{"crashy", []string{"Status:     Failed", "STARTED", "CrashLoopBackOff"}},
		{"oom", []string{"Status:     Failed", "OOMKilled"}},
		{"gpu", []string{"Status:     Failed", "SCHEDULED false", "Insufficient nvidia.com/gpu"}},
		{"pull", []string{"ImagePullBackOff"}},
		// KServe (ingress creation on, as installed) keeps IngressReady, and so Ready, False
		// until the transformer is ready: Hopsworks says Failed, as on a real install.
		{"transform", []string{"Status:     Failed", "TransformerReady=False", "IngressReady=False", "The transformer's kserve-container script or model server crashes on start"}},
		// KServe's own words lead, not "it has no status".
		{"noruntime", []string{"KServe refuses the InferenceService's spec: NoSupportingRuntime: No runtime found to support specified framework/version", "clusterservingruntimes"}},
	} {
		var r result
		deadline := time.Now().Add(90 * time.Second)
		for {
			r = pluginEnv(t, env, "status", tc.name, "-n", ns)
			ok := true
			for _, s := range tc.says {
				ok = ok && strings.Contains(r.out, s)
			}
			if ok || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		contains(t, tc.name, r.out, tc.says...)
		t.Logf("%s:\n%s", tc.name, r.out)
	}
	pluginEnv(t, env, "status", "slow", "-n", ns, "--until", "ready", "--timeout", "90s").must(t)
	if r := pluginEnv(t, env, "status", "noruntime", "-n", ns, "--until", "ready", "--timeout", "50s"); r.code != 16 || !strings.Contains(r.err, "NoSupportingRuntime") {
		t.Errorf("--until ready with no runtime: exit %d %q", r.code, r.err)
	}
}

// A deployment's life on the living cluster, watched: created (Starting, then Running), its
// spec changed as Hopsworks changes it (a new revision), deleted (Stopping, then gone).
func TestLivingLifecycle(t *testing.T) {
	l, env := livingProject(t, "living-life")
	ctx, ns := context.Background(), "living-life"
	livingISVC(t, l, ns, "churn", 71, isvcSpec{Transformer: true})
	r := pluginEnv(t, env, "status", "churn", "-n", ns, "--watch", "--until", "ready", "--timeout", "90s")
	if r.code != 0 {
		t.Fatalf("watch until ready: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	t.Logf("created, watched:\n%s", r.out)
	contains(t, "watch of a start", r.out, "Starting", "Running")

	// Hopsworks updates a deployment by writing a new revision and the new spec.
	updateISVC(t, l, ns, "churn", func(isvc *unstructured.Unstructured) {
		labels := isvc.GetLabels()
		labels["serving.hops.works/revision"] = "20261126"
		isvc.SetLabels(labels)
		containers, _, _ := unstructured.NestedSlice(isvc.Object, "spec", "predictor", "containers")
		containers[0].(map[string]any)["image"] = "docker.hops.works/python-env:4.3"
		_ = unstructured.SetNestedSlice(isvc.Object, containers, "spec", "predictor", "containers")
	})
	r = pluginEnv(t, env, "status", "churn", "-n", ns, "--watch", "--until", "ready", "--timeout", "90s")
	t.Logf("updated, watched (exit %d):\n%s%s", r.code, r.out, r.err)
	// The rollout ends with the new ReplicaSet's pods only: counts are not doubled.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = pluginEnv(t, env, "status", "churn", "-n", ns)
		if strings.Contains(r.out, "Instances:  predictor 1/1 ready, transformer 1/1 ready") && strings.Count(r.out, "  pod churn-predictor-") == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	contains(t, "after the rollout", r.out, "Status:     Running", "Instances:  predictor 1/1 ready, transformer 1/1 ready", "INFERENCESERVICE generation 2")
	if n := strings.Count(r.out, "  pod churn-predictor-"); n != 1 {
		t.Errorf("%d predictor pods after the rollout, want 1:\n%s", n, r.out)
	}
	pods, err := l.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "component=predictor"})
	var current []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil { // the old one may still terminate (its grace period)
			current = append(current, p)
		}
	}
	if err != nil || len(current) != 1 || current[0].Spec.Containers[0].Image != "docker.hops.works/python-env:4.3" {
		var seen []string
		for _, p := range pods.Items {
			seen = append(seen, fmt.Sprintf("%s %s deleting=%v labels=%v", p.Name, p.Spec.Containers[0].Image, p.DeletionTimestamp != nil, p.Labels))
		}
		t.Errorf("the predictor's pod after the rollout should be the new spec's: %v\n%s", err, strings.Join(seen, "\n"))
	}

	// Deleted: Stopping while the pods terminate, then nothing in the cluster.
	if err := l.Dyn.Resource(fixtures.ISVCResource).Namespace(ns).Delete(ctx, "churn", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r = pluginEnv(t, env, "status", "churn", "-n", ns, "--watch", "--until", "stopped", "--timeout", "90s")
	t.Logf("deleted, watched (exit %d):\n%s%s", r.code, r.out, r.err)
	if r.code != 0 || !strings.Contains(r.out, "Stopping") {
		t.Errorf("until stopped after deletion: exit %d", r.code)
	}
	if r = pluginEnv(t, env, "status", "churn", "-n", ns); r.code != 1 || !strings.Contains(r.err, "not found") {
		t.Errorf("after the deletion: exit %d %q", r.code, r.err)
	}
	// With the lines it left in OpenSearch, the deleted deployment is Stopped, as in Hopsworks.
	osURL := testenv.OpenSearchURL(t)
	if err := testenv.BulkLoad(osURL, []fixtures.LogDoc{{Timestamp: time.Now().Add(-time.Minute), Message: "INFO:root:Shutting down", Serving: "churn",
		Component: "predictor", Container: "kserve-container", Project: "living_life", Host: "kwok-node-1"}}); err != nil {
		t.Fatal(err)
	}
	r = pluginEnv(t, append(env, "HOPSDEPLOY_OPENSEARCH_URL="+osURL), "status", "churn", "-n", ns).must(t)
	contains(t, "a deleted deployment with history", r.out, "Status:     Stopped", "Condition:  STOPPED true: Deployment is not running")
}

// Logs through KWOK's kubelet on KServe-made pods, and `logs -f` following a rollout: the new
// pod is picked up, the old one ends, no line is lost or doubled.
func TestLivingLogsThroughARollout(t *testing.T) {
	l, env := livingProject(t, "living-logs")
	ctx, ns := context.Background(), "living-logs"
	livingISVC(t, l, ns, "fraud", 81, isvcSpec{})
	pluginEnv(t, env, "status", "fraud", "-n", ns, "--until", "ready", "--timeout", "90s").must(t)
	predictor := func() string {
		pods, err := l.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "component=predictor"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pods.Items {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				return p.Name
			}
		}
		return ""
	}
	old := predictor()
	now := time.Now()
	if err := l.Logs.Append(ns, old, "storage-initializer", now.Add(-time.Minute), "Downloading s3://hopsworks/Projects/p/Models/fraud/1", "Download complete"); err != nil {
		t.Fatal(err)
	}
	if err := l.Logs.Append(ns, old, "kserve-container", now, "INFO:root:Loading model fraud", "INFO:root:Model loaded"); err != nil {
		t.Fatal(err)
	}
	var r result
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if r = pluginEnv(t, env, "logs", "fraud", "-n", ns, "-o", "raw"); r.out == "INFO:root:Loading model fraud\nINFO:root:Model loaded\n" {
			break
		}
	}
	if r.out != "INFO:root:Loading model fraud\nINFO:root:Model loaded\n" {
		p, _ := l.Kube.CoreV1().Pods(ns).Get(ctx, old, metav1.GetOptions{})
		t.Fatalf("logs through KWOK: exit %d %q %q\npod %s phase %s statuses %+v", r.code, r.out, r.err, old, p.Status.Phase, p.Status.ContainerStatuses)
	}
	r = pluginEnv(t, env, "logs", "fraud", "-n", ns, "--container", "storage-initializer", "-o", "raw").must(t)
	if r.out != "Downloading s3://hopsworks/Projects/p/Models/fraud/1\nDownload complete\n" {
		t.Errorf("the storage-initializer's log: %q", r.out)
	}

	// Follow, then roll out a new revision.
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(fctx, testenv.PluginBin, "logs", "fraud", "-n", ns, "-f", "-o", "raw", "--tail", "0")
	cmd.Env = append(os.Environ(), env...)
	var out, errb lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the follower is attached
	for i := 0; i < 5; i++ {
		_ = l.Logs.Append(ns, old, "kserve-container", time.Now(), fmt.Sprintf("old %d", i))
	}
	updateISVC(t, l, ns, "fraud", func(isvc *unstructured.Unstructured) {
		containers, _, _ := unstructured.NestedSlice(isvc.Object, "spec", "predictor", "containers")
		containers[0].(map[string]any)["image"] = "docker.hops.works/python-env:4.3"
		_ = unstructured.SetNestedSlice(isvc.Object, containers, "spec", "predictor", "containers")
	})
	var fresh string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if p := predictor(); p != "" && p != old {
			fresh = p
			break
		}
	}
	if fresh == "" {
		t.Fatal("no new predictor pod after the update")
	}
	time.Sleep(2 * time.Second) // the follower has seen the new pod
	for i := 0; i < 5; i++ {
		_ = l.Logs.Append(ns, fresh, "kserve-container", time.Now(), fmt.Sprintf("new %d", i))
	}
	want := []string{"old 0", "old 1", "old 2", "old 3", "old 4", "new 0", "new 1", "new 2", "new 3", "new 4"}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if len(lines(out.String())) >= len(want) {
			break
		}
	}
	time.Sleep(time.Second) // a doubled line would arrive now
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	if got := lines(out.String()); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("followed through the rollout: %q, want %q\nstderr: %s", got, want, errb.String())
	}
	t.Logf("stderr of the follower:\n%s", errb.String())
}

// lockedBuffer is a bytes.Buffer safe for a process writing while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// KServe's own stop annotation (serving.kserve.io/stop): KServe 0.15 acts on it in Knative
// mode only and writes no Stopped condition in Standard mode, where the pods keep running.
// The plugin says what KServe does: Running, not Stopping. (Where KServe acts on it, the
// Stopped condition makes the deployment Stopping, then Stopped: unit-tested in pkg/state.)
func TestLivingKServeStopAnnotationInStandardMode(t *testing.T) {
	l, env := livingProject(t, "living-stop")
	ns := "living-stop"
	livingISVC(t, l, ns, "paused", 91, isvcSpec{})
	pluginEnv(t, env, "status", "paused", "-n", ns, "--until", "ready", "--timeout", "90s").must(t)
	updateISVC(t, l, ns, "paused", func(isvc *unstructured.Unstructured) {
		a := isvc.GetAnnotations()
		a["serving.kserve.io/stop"] = "true"
		isvc.SetAnnotations(a)
	})
	// The annotation reaches the pod template: a rollout, then Running again.
	var r result
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Second) {
		r = pluginEnv(t, env, "status", "paused", "-n", ns)
		if strings.Contains(r.out, "Instances:  predictor 1/1 ready") && strings.Contains(r.out, "Status:     Running") {
			break
		}
	}
	contains(t, "after the stop annotation", r.out, "Status:     Running", "Instances:  predictor 1/1 ready")
	if strings.Contains(r.out, "Stopping") {
		t.Errorf("the plugin says Stopping where KServe does not stop:\n%s", r.out)
	}
}

// The demo's project, seeded as `make demo` seeds it: each deployment reaches the state the
// demo shows, brought about by the controllers (Knative's for Idle and Stopping).
func TestLivingDemoProject(t *testing.T) {
	l, env := livingProject(t, "demo")
	ctx, ns := context.Background(), "demo"
	if err := fixtures.SeedLivingDemo(ctx, l.Kube, l.Dyn, l.Logs, ns, io.Discard); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"fraud": "Running", "gpumodel": "Failed", "irisinit": "Starting", "churn": "Failed", "recommend": "Failed",
		"bigmodel": "Failed", "slowloader": "Starting", "legacypy": "Running", "idlemodel": "Idle", "stopping": "Stopping", "coldstart": "Running"}
	var got map[string]string
	var r result
	for deadline := time.Now().Add(60 * time.Second); ; {
		r = pluginEnv(t, env, "list", "-n", ns).must(t)
		got = map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(r.out), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 1 {
				got[f[0]] = f[1]
			}
		}
		if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("the demo's states:\n got %v\nwant %v\n%s", got, want, r.out)
	}
	for name, says := range map[string][]string{
		"churn":      {"ModuleNotFoundError: No module named 'xgboost'", "churn-predictor-"},
		"irisinit":   {"cannot download the model", "FileNotFoundError"},
		"bigmodel":   {"OOM-killed"},
		"slowloader": {"runs but fails its readiness probe"},
		"recommend":  {"The transformer's kserve-container"},
	} {
		contains(t, name, pluginEnv(t, env, "status", name, "-n", ns).must(t).out, says...)
	}
	// The logs written for the living pods, served by KWOK's kubelets.
	contains(t, "logs of a living pod", pluginEnv(t, env, "logs", "slowloader", "-n", ns).must(t).out, "Loading tokenizer and 7B weights")
	checkColdStart(t, pluginEnv(t, env, "why", "coldstart", "-n", ns, "-o", "json").must(t).out, fixtures.DemoColdStart)
	// Each demo deployment's bundle says what the cluster says: why's cause and step,
	// timeline's entries, the logs (minus the payloads a bundle leaves out).
	dir := t.TempDir()
	for name := range want {
		file := filepath.Join(dir, name+".tar.gz")
		pluginEnv(t, env, "bundle", name, "-n", ns, "-f", file).must(t)
		offline := []string{"KUBECONFIG=/nonexistent"}
		var wl, wb struct {
			FailingStep string `json:"failing_step"`
			Diagnosis   struct{ Cause string }
		}
		_ = json.Unmarshal([]byte(pluginEnv(t, env, "why", name, "-n", ns, "-o", "json").must(t).out), &wl)
		_ = json.Unmarshal([]byte(pluginEnv(t, offline, "why", "--from-bundle", file, "-o", "json").must(t).out), &wb)
		if blurMoment(wl.Diagnosis.Cause) != blurMoment(wb.Diagnosis.Cause) || wl.FailingStep != wb.FailingStep {
			t.Errorf("%s: why differs on its bundle:\nlive   %+v\nbundle %+v", name, wl, wb)
		}
		pluginEnv(t, offline, "timeline", "--from-bundle", file, "--chart").must(t)
		pluginEnv(t, offline, "logs", "--from-bundle", file, "-c", "all").must(t)
	}
	// Knative's states, made by Knative: the autoscaler's decision, a stopped deployment's pod
	// terminating.
	contains(t, "idlemodel", pluginEnv(t, env, "status", "idlemodel", "-n", ns).must(t).out, "Scaled to zero by Knative", "scale 0 wanted, 0 actual")
	contains(t, "stopping", pluginEnv(t, env, "status", "stopping", "-n", ns).must(t).out, "Terminating", "the InferenceService is gone and its 1 pod(s) are terminating")
}

// checkColdStart checks the anatomy that why -o json reads of a start against the stage
// delays that made it: each step within a second (the cluster keeps its times to the second).
func checkColdStart(t *testing.T, whyJSON string, want fixtures.ColdStart) {
	t.Helper()
	var w struct {
		ColdStart []struct {
			Pod    string `json:"pod"`
			Ready  bool   `json:"ready"`
			Phases []struct {
				Name    string  `json:"name"`
				Seconds float64 `json:"seconds"`
			} `json:"phases"`
		} `json:"cold_start"`
	}
	if err := json.Unmarshal([]byte(whyJSON), &w); err != nil || len(w.ColdStart) == 0 {
		t.Fatalf("why -o json: %v\n%s", err, whyJSON)
	}
	cs := w.ColdStart[0]
	expect := map[string]time.Duration{"scheduling": 0, "image pull, init start": want.Create + want.Pull, "model download": want.Download,
		"model server start": want.Start, "model load, to ready": want.Load}
	if !cs.Ready || len(cs.Phases) != len(expect) {
		t.Fatalf("cold start of %s: ready %v, %d phases, want %d: %+v", cs.Pod, cs.Ready, len(cs.Phases), len(expect), cs.Phases)
	}
	for _, ph := range cs.Phases {
		d, ok := expect[ph.Name]
		if !ok || math.Abs(ph.Seconds-d.Seconds()) > 1 {
			t.Errorf("cold start of %s: %s took %.1fs, the stages made it %s", cs.Pod, ph.Name, ph.Seconds, d)
		}
	}
	t.Logf("cold start of %s: %+v", cs.Pod, cs.Phases)
}

// digitsRX blurs counts that move between two reads of a crash loop.
var digitsRX = regexp.MustCompile(`[0-9]+|\bonce\b|\btwice\b`)

// blurMoment blurs what moves between two reads of a crash loop: its counts, and whether the
// container was between two crashes then ("retrying now").
func blurMoment(cause string) string {
	return digitsRX.ReplaceAllString(strings.ReplaceAll(cause, "; retrying now", ""), "N")
}

// updateISVC changes an InferenceService as Hopsworks (or kubectl) does: on the object as it
// is, again on a conflict (KServe writes its status meanwhile).
func updateISVC(t *testing.T, l *testenv.Living, ns, name string, change func(*unstructured.Unstructured)) {
	t.Helper()
	ctx := context.Background()
	ri := l.Dyn.Resource(fixtures.ISVCResource).Namespace(ns)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		isvc, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(isvc)
		_, err = ri.Update(ctx, isvc, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
