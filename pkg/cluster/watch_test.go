package cluster

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// status --watch: after a watch expires (410 Gone), the informer lists again and a change made
// meanwhile is still signalled.
func TestWatchChangesSurvivesAnExpiredWatch(t *testing.T) {
	kube := fake.NewClientset()
	expired := watch.NewFake()
	var watches atomic.Int64
	kube.PrependWatchReactor("pods", func(k8stesting.Action) (bool, watch.Interface, error) {
		if watches.Add(1) == 1 {
			return true, expired, nil
		}
		return false, nil, nil
	})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ISVCResource: "InferenceServiceList", state.RevisionResource: "RevisionList", state.PodAutoscalerResource: "PodAutoscalerList"})
	c := &Clients{Kube: kube, Dyn: dyn}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := c.WatchChanges(ctx, "ns", "fraud")
	for deadline := time.Now().Add(5 * time.Second); watches.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	drain := func() {
		for {
			select {
			case <-changes:
			case <-time.After(100 * time.Millisecond):
				return
			}
		}
	}
	drain()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "fraud-predictor-a", Namespace: "ns", Labels: map[string]string{"serving.hops.works/name": "fraud"}}}
	if err := kube.Tracker().Add(pod); err != nil {
		t.Fatal(err)
	}
	expired.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("the pod created while the watch was stale was never signalled")
	}
}
