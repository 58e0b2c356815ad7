//go:build integration

package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type statusJSON struct {
	Status    string `json:"status"`
	Condition struct {
		Type   string `json:"type"`
		Status *bool  `json:"status"`
		Reason string `json:"reason"`
	} `json:"condition"`
	AvailableInstances            int    `json:"available_instances"`
	AvailableTransformerInstances *int   `json:"available_transformer_instances"`
	Revision                      string `json:"revision"`
	ModelServerInferencePath      string `json:"model_server_inference_path"`
	HopsworksInferencePath        string `json:"hopsworks_inference_path"`
	Deployed                      any    `json:"deployed"`
	Mode                          string `json:"mode"`
	Diagnosis                     struct {
		Cause string `json:"cause"`
		Logs  *struct {
			Lines []string `json:"lines"`
		} `json:"logs"`
	} `json:"diagnosis"`
	Components []struct {
		Name string `json:"name"`
		Pods []struct {
			Name       string `json:"name"`
			Containers []struct {
				Name  string `json:"name"`
				State string `json:"state"`
			} `json:"containers"`
		} `json:"pods"`
	} `json:"components"`
	Events []struct {
		Reason string `json:"reason"`
		Count  int    `json:"count"`
	} `json:"events"`
}

func condStatus(s *bool) string {
	if s == nil {
		return "null"
	}
	return fmt.Sprint(*s)
}

func statusOf(t *testing.T, ns, name string) (statusJSON, string) {
	t.Helper()
	r := plugin(t, "status", name, "-n", ns, "-o", "json").must(t)
	var s statusJSON
	if err := json.Unmarshal([]byte(r.out), &s); err != nil {
		t.Fatalf("status -o json: %v\n%s", err, r.out)
	}
	human := plugin(t, "status", name, "-n", ns).must(t).out
	return s, human
}

// Each scenario: the status and condition Hopsworks would show, and the human diagnosis.
func TestStatusScenarios(t *testing.T) {
	e := testenv.Get(t)
	tests := []struct {
		name      string
		scenario  func(ns, name string) fixtures.Scenario
		status    string
		condition string // TYPE/status/reason
		human     []string
	}{
		{"running with transformer", fixtures.Running, "Running", "READY/true/Deployment is ready",
			[]string{"Status:     Running", "predictor 1/1 ready, transformer 1/1 ready", "running and ready"}},
		{"idle", fixtures.Idle, "Idle", "READY/true/Deployment is ready, but idle. Higher latencies are expected in the first predictions",
			[]string{"Scaled to zero", "not a failure"}},
		{"failing to schedule", fixtures.GPUUnschedulable, "Failed",
			"SCHEDULED/false/Failed to be scheduled: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
			[]string{"no node has enough nvidia.com/gpu", "nvidia.com/gpu=1", "FailedScheduling"}},
		{"storage-initializer failing", fixtures.StorageInitFailing, "Failed", "INITIALIZED/false/Failed to initialize: storage initializer finished unsuccessfully",
			[]string{"storage-initializer cannot download the model", "path does not exist", "FileNotFoundError", "--container storage-initializer --previous"}},
		{"predictor crash-looping", fixtures.PredictorCrashLoop, "Failed", "STARTED/false/Failed to run: predictor terminated unsuccessfully",
			[]string{"predictor's kserve-container script or model server crashes", "ModuleNotFoundError: No module named 'xgboost'", "| ModuleNotFoundError", "--previous"}},
		{"transformer crash-looping", fixtures.TransformerCrashLoop, "Failed", "STARTED/false/Failed to run: transformer terminated unsuccessfully",
			[]string{"transformer's kserve-container", "ModuleNotFoundError", "-c transformer"}},
		{"OOM-killed", fixtures.OOMKilled, "Failed", "STARTED/false/Failed to run: predictor terminated unsuccessfully",
			[]string{"OOM-killed", "memory limit of 2Gi"}},
		{"killed by liveness probe", fixtures.LivenessKilled, "Failed", "STARTED/false/Failed to run: predictor terminated unsuccessfully",
			[]string{"killed by its liveness probe", "exit 137", "budget", "= 40s", "Liveness probe failed"}},
		{"image pull", fixtures.ImagePull, "Starting", "STARTED/null/Deployment is starting",
			[]string{"cannot be pulled (ImagePullBackOff)", "pull secret"}},
		{"readiness failing", fixtures.ReadinessFailing, "Starting", "STARTED/null/Deployment is starting",
			[]string{"fails its readiness probe", "statuscode: 503"}},
		{"starting: scheduling", func(ns, n string) fixtures.Scenario { return fixtures.Starting(ns, n, "scheduling") }, "Starting", "SCHEDULED/null/Waiting for being scheduled",
			[]string{"waiting for its pods to be scheduled"}},
		{"starting: initializing", func(ns, n string) fixtures.Scenario { return fixtures.Starting(ns, n, "initializing") }, "Starting", "INITIALIZED/null/Initializing deployment",
			[]string{"Init:0/1", "initializing"}},
		{"starting: started", func(ns, n string) fixtures.Scenario { return fixtures.Starting(ns, n, "starting") }, "Starting", "STARTED/null/Deployment is starting",
			[]string{"starting the model server"}},
		{"starting: connectivity", func(ns, n string) fixtures.Scenario { return fixtures.Starting(ns, n, "connecting") }, "Starting", "READY/null/Setting up connectivity",
			[]string{"setting up connectivity"}},
		{"updating", fixtures.Updating, "Updating", "INITIALIZED/null/Initializing deployment",
			[]string{"generation 2"}},
		{"stopping: InferenceService being deleted", fixtures.Stopping, "Stopping", "SCHEDULED/null/Waiting for being unscheduled",
			[]string{"Being stopped", "being deleted"}},
		{"stopping: pods left after it is gone", fixtures.LeftBehind, "Stopping", "STOPPED/null/Stopping deployment",
			[]string{"left behind", "kubectl delete pod"}},
		{"Standard mode running", func(ns, n string) fixtures.Scenario {
			sc := fixtures.Running(ns, n)
			sc.Serving.Standard = true
			return sc
		},
			"Running", "READY/true/Deployment is ready", []string{"KServe Standard", "running and ready"}},
		{"DEFAULT tool running", fixtures.DefaultRunning, "Running", "READY/true/Deployment is ready",
			[]string{"DEFAULT tool, DEFAULT", "running and ready"}},
		{"DEFAULT tool failed", fixtures.DefaultFailed, "Failed", "STARTED/false/Failed to run: predictor terminated unsuccessfully",
			[]string{"crashes on start"}},
	}
	ns := e.Namespace(t)
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("dep%d", i)
			sc := tc.scenario(ns, name)
			sc.Serving.ID = 100 + i
			e.Apply(t, sc)
			s, human := statusOf(t, ns, name)
			got := fmt.Sprintf("%s/%s/%s", s.Condition.Type, condStatus(s.Condition.Status), s.Condition.Reason)
			if s.Status != tc.status || got != tc.condition {
				t.Errorf("got  %s %s\nwant %s %s", s.Status, got, tc.status, tc.condition)
			}
			contains(t, "human status", human, tc.human...)
			if t.Failed() {
				t.Log(human)
			}
		})
	}
}

// The JSON keys and values of Hopsworks' describe(), and what the plugin adds.
func TestStatusJSONSchema(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	r := plugin(t, "status", "fraud", "-n", ns, "-o", "json").must(t)
	var m map[string]any
	if err := json.Unmarshal([]byte(r.out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"available_instances", "available_transformer_instances", "condition", "deployed", "hopsworks_inference_path",
		"model_server_inference_path", "revision", "status", "components", "events", "diagnosis", "inference_service", "mode"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	if m["model_server_inference_path"] != "/v1/models/fraud" || m["hopsworks_inference_path"] != "/project/119/inference/models/fraud" || m["revision"] != "04718352" {
		t.Errorf("paths/revision: %v %v %v", m["model_server_inference_path"], m["hopsworks_inference_path"], m["revision"])
	}
	if _, ok := m["deployed"].(float64); !ok {
		t.Errorf("deployed should be epoch millis while deployed: %v", m["deployed"])
	}
	if strings.Index(r.out, `"available_instances"`) > strings.Index(r.out, `"status"`) {
		t.Errorf("keys are not sorted as describe() sorts them")
	}
	// jsonpath and yaml through cli-runtime's printers
	if out := plugin(t, "status", "fraud", "-n", ns, "-o", "jsonpath={.status} {.condition.type}").must(t).out; out != "Running READY" {
		t.Errorf("jsonpath: %q", out)
	}
	contains(t, "yaml", plugin(t, "status", "fraud", "-n", ns, "-o", "yaml").must(t).out, "status: Running", "type: READY")
	// A stopped deployment's condition status is null, and deployed is false.
	e.Apply(t, fixtures.LeftBehind(ns, "gone"))
	out := plugin(t, "status", "gone", "-n", ns, "-o", "json").must(t).out
	contains(t, "stopping json", out, `"status": null`, `"deployed": false`)
}

func TestStatusProjectAndNames(t *testing.T) {
	e := testenv.Get(t)
	// A namespace labelled hopsworks.ai/project wins over the derived name.
	ns := e.Namespace(t, "hopsworks.ai/project", "Fraud_Detection")
	e.Apply(t, fixtures.Running(ns, "fraud"))
	s := plugin(t, "status", "fraud", "--project", "Fraud_Detection", "-o", "jsonpath={.namespace}").must(t)
	if s.out != ns {
		t.Errorf("--project resolved to %q, want %q", s.out, ns)
	}
	// Without a label: lower-cased, [^a-z0-9-] replaced by "-".
	r := plugin(t, "status", "fraud", "--project", "My_Project")
	if r.code != 1 || !strings.Contains(r.err, `namespace "my-project" not found`) {
		t.Errorf("derived project namespace: %d %q", r.code, r.err)
	}
}

func TestStatusBadInput(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	e.Apply(t, fixtures.Idle(ns, "fraudv2"))
	e.Apply(t, fixtures.Idle(ns, "churn"))

	r := plugin(t, "status", "frud", "-n", ns)
	if r.code != 1 || strings.Count(r.err, "\n") != 1 {
		t.Errorf("unknown name: exit %d, stderr %q", r.code, r.err)
	}
	contains(t, "unknown name", r.err, `deployment "frud" not found`, "closest first: fraud, fraudv2, churn")

	r = plugin(t, "status", "fraud", "-n", "no-such-namespace")
	if r.code != 1 || !strings.Contains(r.err, `namespace "no-such-namespace" not found`) {
		t.Errorf("unknown namespace: %d %q", r.code, r.err)
	}

	r = pluginEnv(t, []string{"KUBECONFIG=/nonexistent/kubeconfig"}, "status", "fraud")
	if r.code != 1 || !strings.Contains(r.err, "kubeconfig") {
		t.Errorf("no kubeconfig: %d %q", r.code, r.err)
	}

	r = plugin(t, "status", "fraud", "-n", ns, "--server", "https://127.0.0.1:1", "--insecure-skip-tls-verify")
	if r.code != 1 || !strings.Contains(r.err, "cannot reach the Kubernetes API server at https://127.0.0.1:1") {
		t.Errorf("unreachable server: %d %q", r.code, r.err)
	}

	r = plugin(t, "status", "fraud", "-n", ns, "--until", "soon")
	if r.code != 2 || !strings.Contains(r.err, `invalid --until "soon": use ready, stopped or failed`) {
		t.Errorf("bad --until: %d %q", r.code, r.err)
	}
	r = plugin(t, "status", "fraud", "-n", ns, "-o", "xml")
	if r.code != 2 || !strings.Contains(r.err, `invalid -o "xml"`) {
		t.Errorf("bad -o: %d %q", r.code, r.err)
	}
}

// A user without the rights gets the verb and the resource named; with exactly the documented
// Role, status and list work.
func TestStatusRBAC(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	kc, err := e.KubeconfigFor("viewer-"+ns, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := pluginEnv(t, []string{"KUBECONFIG=" + kc}, "status", "fraud", "-n", ns)
	if r.code != 1 {
		t.Fatalf("without rights: exit %d", r.code)
	}
	contains(t, "forbidden", r.err, "forbidden: you cannot list")
	e.GrantRole(t, ns, "viewer-"+ns, MinimalRules)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "status", "fraud", "-n", ns).must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "list", "-n", ns).must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "logs", "fraud", "-n", ns).must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "logs", "fraud", "-n", ns, "--last-words").must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "why", "fraud", "-n", ns).must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "timeline", "fraud", "-n", ns, "--logs").must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "bundle", "fraud", "-n", ns, "-f", filepath.Join(t.TempDir(), "b.tar.gz")).must(t)
	pluginEnv(t, []string{"KUBECONFIG=" + kc}, "status", "fraud", "-n", ns, "--until", "ready", "--timeout", "10s").must(t)
	f := startFollower(t, []string{"KUBECONFIG=" + kc}, []string{"logs", "fraud", "-n", ns, "-f", "--tail", "1"})
	f.waitFor(t, false, "200 OK")
}

// With exactly the documented ClusterRole, list -A works; without it, it names what is missing.
func TestListAllNamespacesRBAC(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	user := "auditor-" + ns
	kc, err := e.KubeconfigFor(user, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := pluginEnv(t, []string{"KUBECONFIG=" + kc}, "list", "-A")
	if r.code != 1 || !strings.Contains(r.err, "forbidden: you cannot list") || !strings.Contains(r.err, "at cluster scope") {
		t.Errorf("-A without rights: %d %q", r.code, r.err)
	}
	ctx := context.Background()
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: MinimalRules}
	if _, err := e.Kube.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: user},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: user, APIGroup: "rbac.authorization.k8s.io"}}}
	if _, err := e.Kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	contains(t, "list -A as the auditor", pluginEnv(t, []string{"KUBECONFIG=" + kc}, "list", "-A").must(t).out, ns, "fraud")
}

// MinimalRules is the Role the README documents.
var MinimalRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"serving.kserve.io"}, Resources: []string{"inferenceservices"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"pods", "events"}, Verbs: []string{"get", "list", "watch"}},
	{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
}

func TestList(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	e.Apply(t, fixtures.GPUUnschedulable(ns, "gpumodel"))
	e.Apply(t, fixtures.Idle(ns, "idlemodel"))
	e.Apply(t, fixtures.DefaultRunning(ns, "legacypy"))

	out := plugin(t, "list", "-n", ns).must(t).out
	contains(t, "list", out, "NAME", "STATUS", "INSTANCES", "fraud", "Running", "1/1 +t 1/1", "Knative", "gpumodel", "Failed", "idlemodel", "Idle", "legacypy", "DEFAULT")
	wide := plugin(t, "list", "-n", ns, "-o", "wide").must(t).out
	contains(t, "wide", wide, "TYPE", "READY", "SCHEDULED")
	var l struct {
		Items []struct{ Name, Status, Namespace string } `json:"items"`
	}
	if err := json.Unmarshal([]byte(plugin(t, "list", "-n", ns, "-o", "json", "--status", "failed,idle").must(t).out), &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 2 || l.Items[0].Name != "gpumodel" || l.Items[1].Name != "idlemodel" {
		t.Errorf("--status filter: %+v", l.Items)
	}
	all := plugin(t, "list", "-A").must(t).out
	contains(t, "list -A", all, "NAMESPACE", ns)
	r := plugin(t, "list", "-n", ns, "--status", "sleepy")
	if r.code != 2 || !strings.Contains(r.err, `invalid --status "sleepy"`) {
		t.Errorf("bad --status: %d %q", r.code, r.err)
	}
}

// --watch prints the start sequence; --until ready waits and exits 0 when it is reached.
func TestStatusWatchUntilReady(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.Starting(ns, "warming", "initializing"))
	pod := sc.PodNames()[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, testenv.PluginBin, "status", "warming", "-n", ns, "--until", "ready", "--timeout", "50s")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+e.Kubeconfig, "NO_COLOR=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	steps := []fixtures.PodState{{NotReady: true}, {ReadyPending: true}, {}}
	for _, st := range steps {
		p := sc.Serving.Pod(fixtures.PodSpec{Component: "predictor", Suffix: "st4rt", State: st})
		e.UpdatePodStatus(t, ns, pod, func(cur *corev1.Pod) { cur.Status = p.Status })
		time.Sleep(1500 * time.Millisecond)
	}
	u, err := e.Dyn.Resource(fixtures.ISVCResource).Namespace(ns).Get(context.Background(), "warming", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Object["status"] = fixtures.ISVCStatus{Ready: "True"}.Object("warming", ns)
	if _, err := e.Dyn.Resource(fixtures.ISVCResource).Namespace(ns).UpdateStatus(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("--until ready: %v\n%s", err, out.String())
	}
	contains(t, "watch output", out.String(), "INITIALIZED unknown", "STARTED unknown: Deployment is starting", "READY unknown: Setting up connectivity", "Running", "READY true: Deployment is ready")

	// --until with a timeout that passes first: exit code 3.
	r := plugin(t, "status", "warming", "-n", ns, "--until", "stopped", "--timeout", "2s")
	if r.code != 3 || !strings.Contains(r.err, "timed out after 2s") {
		t.Errorf("timeout: %d %q", r.code, r.err)
	}
}

// logs needs only the pods: a user who may not list events or InferenceServices still reads
// them, with one line saying what was left out (events, which logs never reads, are not
// named). --project says when namespaces cannot be
// listed, and refuses to choose between namespaces that carry the same project label.
func TestLogsWithPartialRightsAndProjects(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	e.Apply(t, fixtures.Running(ns, "fraud"))
	user := "podsonly-" + ns
	kc, err := e.KubeconfigFor(user, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.GrantRole(t, ns, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{""}, Resources: []string{"pods/log"}, Verbs: []string{"get"}},
	})
	r := pluginEnv(t, []string{"KUBECONFIG=" + kc}, "logs", "fraud", "-n", ns, "-o", "raw").must(t)
	contains(t, "logs without events and InferenceServices", r.out, "Application startup complete.")
	contains(t, "what was left out", r.err, "note: you may not list inferenceservices.serving.kserve.io in "+ns+": left out")

	// --project when namespaces cannot be listed: Hopsworks' rule, said so.
	r = pluginEnv(t, []string{"KUBECONFIG=" + kc}, "logs", "fraud", "--project", ns, "-o", "raw").must(t)
	contains(t, "project by rule", r.err, "you may not list namespaces, so project "+ns+"'s namespace is taken by Hopsworks' naming rule: "+ns)

	// Two namespaces labelled with one project: no silent choice.
	project := "twin_" + strings.ReplaceAll(ns, "-", "_")
	for _, n := range []string{ns + "-a", ns + "-b"} {
		if err := fixtures.EnsureNamespace(t.Context(), e.Kube, n, map[string]string{"hopsworks.ai/project": project}); err != nil {
			t.Fatal(err)
		}
	}
	if r := plugin(t, "list", "--project", project); r.code != 1 || !strings.Contains(r.err, "several namespaces carry hopsworks.ai/project="+project+" ("+ns+"-a, "+ns+"-b): name one with -n") {
		t.Errorf("twin projects: exit %d %q", r.code, r.err)
	}
}

// A wait for ready on an image that does not exist ends at once with its own exit code and
// the diagnosis, not at its timeout (which would be exit 3).
func TestUntilReadyFailsFastOnATerminalDiagnosis(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := fixtures.ImagePull(ns, "noimage")
	sc.Events[0].Message = "Failed to pull image \"docker.hops.works/python-env:9.9\": rpc error: code = NotFound desc = failed to pull and unpack image: manifest unknown"
	e.Apply(t, sc)
	r := plugin(t, "status", "noimage", "-n", ns, "--until", "ready", "--timeout", "50s")
	if r.code != 16 || !strings.Contains(r.err, "will not become ready without a change") || !strings.Contains(r.err, "The image or tag does not exist") {
		t.Errorf("exit %d %q", r.code, r.err)
	}
}

// A namespace of many deployments (more warnings than status's first page of events): status
// reads the namespace's events page by page, keeping its deployment's, and finds the same ones
// as in a small namespace: a crash-looping pod's, and a ReplicaSet's that could create no pod
// (the quota refused it). The timeline, which reads every type, finds them too.
func TestStatusInACrowdedNamespace(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	ctx := t.Context()
	crash := fixtures.PredictorCrashLoop(ns, "churn")
	crash.Serving.ID = 300
	quota := fixtures.QuotaExceeded(ns, "quota")
	quota.Serving.ID = 301
	e.Apply(t, crash)
	e.Apply(t, quota)
	events := func(name string) string {
		s, _ := statusOf(t, ns, name)
		if len(s.Events) == 0 {
			t.Fatalf("status %s shows no event", name)
		}
		return fmt.Sprint(s.Events)
	}
	small := map[string]string{"churn": events("churn"), "quota": events("quota")}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range 1100 {
		g.Go(func() error {
			pod := fmt.Sprintf("other%02d-predictor-00001-deployment-7d9f8b-p%d", i%40, i)
			ev := fixtures.Event(ns, "Pod", pod, corev1.EventTypeWarning, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", 1, time.Now(), "spec.containers{kserve-container}")
			_, err := e.Kube.CoreV1().Events(ns).Create(gctx, ev, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	for name, want := range small {
		if got := events(name); got != want {
			t.Errorf("%s's events among 1,100 others: %s\nwant (in a small namespace) %s", name, got, want)
		}
	}
	contains(t, "why quota", plugin(t, "why", "quota", "-n", ns).must(t).out, "exceeded quota")
	contains(t, "timeline quota", plugin(t, "timeline", "quota", "-n", ns).must(t).out, "FailedCreate")
}
