//go:build integration

package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// A Serverless deployment made by Knative Serving's own controller, webhook and autoscaler
// (KServe in its default mode): it comes to Running with a Knative revision, the autoscaler
// scales it to zero (Idle), a new revision rolls out beside the old (Updating, then Running on
// the new one), and KServe's stop annotation stops it.
func TestLivingServerless(t *testing.T) {
	l, env := livingProject(t, "living-knative")
	ns := "living-knative"
	livingISVC(t, l, ns, "knmodel", 81, isvcSpec{Serverless: true, ScaleToZero: true})
	r := pluginEnv(t, env, "status", "knmodel", "-n", ns, "--until", "ready", "--timeout", "120s")
	if r.code != 0 {
		t.Fatalf("the Serverless deployment did not become ready: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = awaitStatus(t, env, 30*time.Second, ns, "knmodel", "Status:     Running", "KServe Knative", "revision knmodel-predictor-00001 (predictor): Ready=True")

	// No request comes: the autoscaler scales the revision to zero once its windows pass.
	r = awaitStatus(t, env, 90*time.Second, ns, "knmodel", "Status:     Idle", "scale 0 wanted, 0 actual")
	if strings.Contains(r.out, "  pod knmodel-predictor-") {
		t.Errorf("Idle with a pod left:\n%s", r.out)
	}
	w := pluginEnv(t, env, "why", "knmodel", "-n", ns).must(t)
	contains(t, "why Idle", w.out, "Scaled to zero by Knative", "PodAutoscaler knmodel-predictor-00001: wants 0, has 0", "Active=False NoTraffic")

	// Hopsworks updates it: a second revision starts (slowly) beside the first.
	updateISVC(t, l, ns, "knmodel", func(isvc *unstructured.Unstructured) {
		labels := isvc.GetLabels()
		labels["serving.hops.works/revision"] = "20261206"
		isvc.SetLabels(labels)
		_ = unstructured.SetNestedStringMap(isvc.Object, fixtures.SlowStart("10s"), "spec", "predictor", "annotations")
	})
	r = pluginEnv(t, env, "status", "knmodel", "-n", ns, "--watch", "--until", "ready", "--timeout", "120s")
	t.Logf("updated, watched (exit %d):\n%s%s", r.code, r.out, r.err)
	contains(t, "a new revision rolling out", r.out, "Updating", "Running")
	awaitStatus(t, env, 30*time.Second, ns, "knmodel", "Status:     Running", "revision knmodel-predictor-00002 (predictor): Ready=True", "revision knmodel-predictor-00001 (predictor)")

	// Stopped through KServe's stop annotation, which KServe acts on in Serverless mode.
	updateISVC(t, l, ns, "knmodel", func(isvc *unstructured.Unstructured) {
		a := isvc.GetAnnotations()
		a["serving.kserve.io/stop"] = "true"
		isvc.SetAnnotations(a)
	})
	r = pluginEnv(t, env, "status", "knmodel", "-n", ns, "--watch", "--until", "stopped", "--timeout", "90s")
	t.Logf("stopped, watched (exit %d):\n%s%s", r.code, r.out, r.err)
	if r.code != 0 {
		t.Errorf("until stopped after the stop annotation: exit %d", r.code)
	}
	awaitStatus(t, env, 30*time.Second, ns, "knmodel", "Status:     Stopped")
	w = pluginEnv(t, env, "why", "knmodel", "-n", ns).must(t)
	contains(t, "why stopped", w.out, "stop annotation")
}

// A revision that never becomes ready: Knative gives up at its progress deadline and scales
// it down, so that no pod is left; the diagnosis reads Knative's own conditions.
func TestLivingServerlessRevisionFails(t *testing.T) {
	l, env := livingProject(t, "living-knfail")
	ns := "living-knfail"
	livingISVC(t, l, ns, "stuck", 82, isvcSpec{Serverless: true, ScaleToZero: true, PredictorStage: "never-ready",
		PredictorAnnotations: map[string]string{"serving.knative.dev/progress-deadline": "20s"}})
	r := pluginEnv(t, env, "status", "stuck", "-n", ns, "--until", "ready", "--timeout", "120s")
	t.Logf("until ready (exit %d):\n%s%s", r.code, r.out, r.err)
	if r.code == 0 {
		t.Fatalf("a revision that is never ready reached ready")
	}
	awaitStatus(t, env, 60*time.Second, ns, "stuck", "revision stuck-predictor-00001 (predictor): Ready=False ProgressDeadlineExceeded", "scale 0 wanted, 0 actual")
	w := pluginEnv(t, env, "why", "stuck", "-n", ns)
	t.Logf("why (exit %d):\n%s%s", w.code, w.out, w.err)
	contains(t, "why a revision failed", w.out, "Knative gave up on the predictor's revision stuck-predictor-00001",
		"Revision stuck-predictor-00001 Ready=False (ProgressDeadlineExceeded)")
}
