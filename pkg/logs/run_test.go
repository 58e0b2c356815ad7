package logs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// Following more streams than --max-log-requests fails at once with the number needed, as
// kubectl logs -f does: queued followed streams would never get a slot.
func TestFollowMoreStreamsThanTheBoundFailsFast(t *testing.T) {
	var pods []corev1.Pod
	for i := range 4 {
		pods = append(pods, *testPod(fmt.Sprintf("fraud-predictor-%d", i), "predictor", 0, "kserve-container", "queue-proxy"))
	}
	snap := &state.Snapshot{Namespace: "ns", Name: "fraud", Pods: pods}
	var out, errOut syncBuffer
	cfg := Config{Namespace: "ns", Deployment: "fraud", Component: "predictor", Containers: []string{"all"}, Tail: 10, Follow: true,
		Source: SourceAuto, MaxRequests: 5, Out: &out, ErrOut: &errOut}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := Run(ctx, Sources{Kube: fake.NewClientset(), Open: newFakeLogs().open}, snap, cfg)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "following 8 log streams needs --max-log-requests=8 or more (it is 5)") {
		t.Fatalf("err %v", err)
	}
}
