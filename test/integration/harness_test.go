//go:build integration

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A pod in an arbitrary state, and its logs read through the real API server and KWOK's
// kubelet, with the kubelet's query parameters.
func TestHarnessPodLogsThroughAPIServer(t *testing.T) {
	e := testenv.Get(t)
	ns := e.Namespace(t)
	sc := e.Apply(t, fixtures.PredictorCrashLoop(ns, "crashy"))
	pod := sc.PodNames()[0]
	ctx := context.Background()

	p, err := e.Kube.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Status.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "CrashLoopBackOff" || p.Status.ContainerStatuses[0].RestartCount != 5 {
		t.Fatalf("pod status not kept: %+v", p.Status.ContainerStatuses[0])
	}

	get := func(o corev1.PodLogOptions) string {
		t.Helper()
		b, err := e.Kube.CoreV1().Pods(ns).GetLogs(pod, &o).DoRaw(ctx)
		if err != nil {
			t.Fatalf("logs %+v: %v", o, err)
		}
		return string(b)
	}
	two := int64(2)
	prev := get(corev1.PodLogOptions{Container: "kserve-container", Previous: true, TailLines: &two})
	if prev != "    import xgboost as xgb\nModuleNotFoundError: No module named 'xgboost'\n" {
		t.Errorf("previous, tail 2: %q", prev)
	}
	ts := get(corev1.PodLogOptions{Container: "storage-initializer", Timestamps: true, TailLines: &two})
	if lines := strings.Split(strings.TrimSpace(ts), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "20") {
		t.Errorf("timestamps: %q", ts)
	}
	ten := int64(10)
	if got := get(corev1.PodLogOptions{Container: "storage-initializer", LimitBytes: &ten}); len(got) != 10 {
		t.Errorf("limitBytes 10: %q", got)
	}
	since := int64(60) // the fixture's lines are 10 minutes old
	if got := get(corev1.PodLogOptions{Container: "storage-initializer", SinceSeconds: &since}); got != "" {
		t.Errorf("sinceSeconds 60: %q", got)
	}
	// A container that has not started: a real kubelet refuses ("is waiting to start"), KWOK's
	// does not look at container states and serves the empty log. The plugin decides from
	// the pod's status itself, before it asks (TestLogsPreviousAndNotStarted).
	if got := get(corev1.PodLogOptions{Container: "queue-proxy"}); got != "" {
		t.Errorf("a container without a log: %q", got)
	}

	// Follow: a line appended later streams through.
	fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	rc, err := e.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{Container: "storage-initializer", Follow: true, TailLines: &two}).Stream(fctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc2 := bufio.NewScanner(rc)
	for i := 0; i < 2 && sc2.Scan(); i++ {
	}
	if err := e.Logs.Append(ns, pod, "storage-initializer", time.Time{}, "appended while following"); err != nil {
		t.Fatal(err)
	}
	if !sc2.Scan() || sc2.Text() != "appended while following" {
		t.Errorf("follow: got %q, %v", sc2.Text(), sc2.Err())
	}
}

// The plugin found on PATH by the real kubectl.
func TestHarnessPluginThroughKubectl(t *testing.T) {
	kubectl, env := kubectlPath(t)
	cmd := exec.Command(kubectl, "hopsdeploy", "version", "-o", "json")
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl hopsdeploy version: %v\n%s", err, out)
	}
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil || v["version"] == "" || v["goVersion"] == "" {
		t.Fatalf("version -o json: %v %s", err, out)
	}
	cmd = exec.Command(kubectl, "hopsdeploy", "--help")
	cmd.Env = append(cmd.Environ(), env...)
	out, _ = cmd.CombinedOutput()
	contains(t, "help", string(out), "kubectl hopsdeploy [command]", "--kubeconfig", "--context", "--namespace", "--request-timeout")
}
