package printers_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	appsv1 "k8s.io/api/apps/v1"
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
