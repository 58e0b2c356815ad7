package printers_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KServe's Standard-mode Deployments, as the controller-manager writes their status, are
// shown under the InferenceService, sanitised.
func TestStatusShowsStandardModeDeployments(t *testing.T) {
	snap := fixtures.Catalog("demo")["standarddeadline"].Snapshot(now)
	one := int32(1)
	snap.ComponentDeployments = []appsv1.Deployment{{
		ObjectMeta: metav1.ObjectMeta{Name: "fraud-predictor", Labels: map[string]string{"component": "predictor"}},
		Spec:       appsv1.DeploymentSpec{Replicas: &one},
		Status: appsv1.DeploymentStatus{UpdatedReplicas: 1, AvailableReplicas: 0, Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: "False", Reason: "MinimumReplicasUnavailable"},
			{Type: appsv1.DeploymentProgressing, Status: "False", Reason: "ProgressDeadlineExceeded\x1b]52;c;x\x07"}}},
	}}
	r := diagnose.Build(snap)
	var out bytes.Buffer
	style := printers.NewStyle(false)
	style.Now = now
	if err := printers.Status(&out, r, style); err != nil {
		t.Fatal(err)
	}
	want := "deployment fraud-predictor: 0/1 available, 1 updated; Available=False MinimumReplicasUnavailable; Progressing=False ProgressDeadlineExceeded"
	if !strings.Contains(out.String(), want) {
		t.Errorf("status does not show the Standard-mode Deployment %q:\n%s", want, out.String())
	}
	if strings.Contains(out.String(), "\x1b") {
		t.Error("a control sequence from a Deployment reached the output")
	}
	if len(r.InferenceService.Deployments) != 1 || r.InferenceService.Deployments[0].Component != "predictor" {
		t.Errorf("report: %+v", r.InferenceService.Deployments)
	}
}

// A deployment with nothing in the cluster says where its Stopped comes from: Hopsworks, or
// an inference from history (and why), in status and why alike; a hostile note is sanitised.
func TestGoneDeploymentSaysWhereItsStatusComesFrom(t *testing.T) {
	for _, tc := range []struct{ source, note, want string }{
		{diagnose.StatusFromHopsworks, "", "Hopsworks (it holds the deployment, stopped)"},
		{diagnose.StatusFromHistory, "no Hopsworks to ask\x1b[2J", "inferred from history: no Hopsworks to ask"},
	} {
		snap := &state.Snapshot{Namespace: "demo", Name: "oldfraud", Now: now}
		r := diagnose.Build(snap)
		r.StatusSource, r.StatusNote = tc.source, tc.note
		w := diagnose.Explain(snap)
		w.StatusSource, w.StatusNote = tc.source, tc.note
		status, why := statusAndWhy(t, r, w)
		if !strings.Contains(status, "Source:     "+tc.want) || !strings.Contains(why, "Source: "+tc.want) {
			t.Errorf("%s: status\n%s\nwhy\n%s", tc.source, status, why)
		}
		if strings.Contains(status+why, "\x1b") {
			t.Error("a control sequence reached the output")
		}
	}
}

// The autoscaler's complaints that it cannot read metrics (every Standard-mode deployment has
// them where no metrics API is installed) fold into one line at the end of the events, in
// status and why; what bears on the deployment stays.
func TestMetricsNoiseFoldsIntoOneLine(t *testing.T) {
	snap := fixtures.Catalog("demo")["predictorcrash"].Snapshot(now)
	for _, reason := range []string{"FailedGetResourceMetric", "FailedComputeMetricsReplicas"} {
		snap.Events = append(snap.Events, corev1.Event{Type: "Warning", Reason: reason, Count: 2, LastTimestamp: metav1.NewTime(now),
			InvolvedObject: corev1.ObjectReference{Kind: "HorizontalPodAutoscaler", Name: "churn-predictor"},
			Message:        "failed to get cpu utilization: unable to get metrics for resource cpu: unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"})
	}
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	status, why := statusAndWhy(t, r, diagnose.Explain(snap))
	for name, out := range map[string]string{"status": status, "why": why} {
		if strings.Contains(out, "FailedGetResourceMetric") || strings.Contains(out, "pods.metrics.k8s.io") {
			t.Errorf("%s prints the metrics noise:\n%s", name, out)
		}
		if !strings.Contains(out, "and 4 HorizontalPodAutoscaler warning(s) that it cannot read metrics") || !strings.Contains(out, "BackOff") {
			t.Errorf("%s does not fold the noise into one line, or lost the rest:\n%s", name, out)
		}
	}
}

// statusAndWhy renders a report and a why report as the human printers do, at the pinned time.
func statusAndWhy(t *testing.T, r *diagnose.Report, w *diagnose.Why) (string, string) {
	t.Helper()
	var status, why bytes.Buffer
	style := printers.NewStyle(false)
	style.Now = now
	if err := printers.Status(&status, r, style); err != nil {
		t.Fatal(err)
	}
	if err := printers.Why(&why, w, style); err != nil {
		t.Fatal(err)
	}
	return status.String(), why.String()
}
