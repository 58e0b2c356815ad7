package cluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// crowded is a namespace of others' events (before fraud's in a list's order, so that a first
// page holds none of fraud's) and fraud's: a warning on its pod, on a ReplicaSet that has no
// pod, and on its InferenceService, and a Normal event on its pod. Its events list answers as
// an API server does: the field selector applied, a limit kept, a continue token when more
// are left, read from where it says. lists records each list's selector, limit and token.
func crowded(t *testing.T, others int) (c *Clients, lists *[]string) {
	t.Helper()
	labels := map[string]string{state.LabelName: "fraud"}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "fraud-predictor-00001-deployment-7d9f8b-a", Namespace: "ns", Labels: labels}}
	refused := "fraud-predictor-00001-deployment-6c9f7b" // a ReplicaSet the quota let create no pod
	event := func(i int, kind, name, typ, reason string) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%04d", name, i), Namespace: "ns"},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Name: name, Namespace: "ns"}, Type: typ, Reason: reason}
	}
	objs := []runtime.Object{pod,
		event(1, "Pod", pod.Name, corev1.EventTypeWarning, "BackOff"),
		event(2, "Pod", pod.Name, corev1.EventTypeNormal, "Pulled"),
		event(3, "ReplicaSet", refused, corev1.EventTypeWarning, "FailedCreate"),
		event(4, "InferenceService", "fraud", corev1.EventTypeWarning, "InternalError")}
	for i := range others {
		objs = append(objs, event(i, "Pod", fmt.Sprintf("another-predictor-%d", i%40), corev1.EventTypeWarning, "Unhealthy"))
	}
	kube := fake.NewClientset(objs...)
	lists = &[]string{}
	kube.PrependReactor("list", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		l := a.(k8stesting.ListActionImpl)
		sel := l.GetListRestrictions().Fields
		all, err := kube.Tracker().List(schema.GroupVersionResource{Version: "v1", Resource: "events"}, schema.GroupVersionKind{Version: "v1", Kind: "Event"}, "ns")
		if err != nil {
			return true, nil, err
		}
		out := &corev1.EventList{}
		for _, e := range all.(*corev1.EventList).Items {
			if sel.Matches(fields.Set{"involvedObject.name": e.InvolvedObject.Name, "type": e.Type}) {
				out.Items = append(out.Items, e)
			}
		}
		slices.SortFunc(out.Items, func(a, b corev1.Event) int { return strings.Compare(a.Name, b.Name) })
		from := 0
		if tok := l.ListOptions.Continue; tok != "" {
			from, _ = strconv.Atoi(tok)
		}
		out.Items = out.Items[from:]
		if limit := int(l.ListOptions.Limit); limit > 0 && len(out.Items) > limit {
			out.Items, out.Continue = out.Items[:limit], strconv.Itoa(from+limit)
		}
		*lists = append(*lists, fmt.Sprintf("%s limit=%d continue=%s", sel, l.ListOptions.Limit, l.ListOptions.Continue))
		return true, out, nil
	})
	isvc := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
		"metadata": map[string]any{"name": "fraud", "namespace": "ns", "labels": map[string]any{state.LabelName: "fraud"}}}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ISVCResource: "InferenceServiceList", state.RevisionResource: "RevisionList", state.PodAutoscalerResource: "PodAutoscalerList"}, isvc)
	return &Clients{Kube: kube, Dyn: dyn}, lists
}

func reasons(es []corev1.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Reason)
	}
	return out
}

// In a namespace of more events than a page, the deployment's warnings are found in every
// page, each list continuing where the one before ended (one pass over the namespace's events
// for the server), and are the same as a small namespace's.
func TestGatherReadsACrowdedNamespacesEventsInPages(t *testing.T) {
	want := []string{"FailedCreate", "BackOff", "InternalError"} // by event name, as one list has them
	for _, others := range []int{10, 2*eventPage + 10} {
		c, lists := crowded(t, others)
		snap, err := c.Gather(context.Background(), "ns", "fraud")
		if err != nil {
			t.Fatal(err)
		}
		if got := reasons(snap.Events); !slices.Equal(got, want) {
			t.Errorf("%d others: events %v, want %v", others, got, want)
		}
		pages := (others + len(want) + eventPage - 1) / eventPage
		if len(*lists) != pages {
			t.Errorf("%d others: %d event lists (%v), want %d pages", others, len(*lists), *lists, pages)
		}
		for i, l := range *lists {
			want := fmt.Sprintf("type=Warning limit=%d continue=", eventPage)
			if i > 0 {
				want += strconv.Itoa(i * eventPage)
			}
			if l != want {
				t.Errorf("%d others: list %d: %q, want %q", others, i, l, want)
			}
		}
	}
}

// The timeline's gather (every type) reads the Normal events too, in pages.
func TestGatherAllReadsEveryTypeInPages(t *testing.T) {
	c, _ := crowded(t, 2*eventPage)
	snap, err := c.GatherAll(context.Background(), "ns", "fraud")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := reasons(snap.Events), []string{"FailedCreate", "BackOff", "Pulled", "InternalError"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
