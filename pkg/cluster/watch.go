package cluster

import (
	"context"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// WatchChanges signals (coalesced) every change of a deployment's InferenceServices,
// Deployments and pods until ctx ends. It uses informers: each lists, watches from the list's
// resource version and lists again when a watch expires (410 Gone), so no change is missed
// after a compaction or an API server restart.
func (c *Clients) WatchChanges(ctx context.Context, ns, name string) <-chan struct{} {
	changes := make(chan struct{}, 1)
	notify := func() {
		select {
		case changes <- struct{}{}:
		default:
		}
	}
	byName, _ := Selector(state.LabelName, name) // the name was checked when gathered
	handler := cache.ResourceEventHandlerDetailedFuncs{
		AddFunc:    func(any, bool) { notify() },
		UpdateFunc: func(any, any) { notify() },
		DeleteFunc: func(any) { notify() },
	}
	informer := func(client any, obj runtime.Object, lw *cache.ListWatch) {
		_, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
			ListerWatcher: cache.ToListWatcherWithWatchListSemantics(lw, client),
			ObjectType:    obj,
			Handler:       handler,
		})
		go ctrl.RunWithContext(ctx)
	}
	pods, deps := c.Kube.CoreV1().Pods(ns), c.Kube.AppsV1().Deployments(ns)
	isvcs := c.Dyn.Resource(ISVCResource).Namespace(ns)
	informer(c.Kube, &corev1.Pod{}, restricted(byName, "", pods.List, pods.Watch))
	informer(c.Kube, &appsv1.Deployment{}, restricted(byName, "", deps.List, deps.Watch))
	// The InferenceService by its name (one that Hopsworks did not label) and those labelled
	// with it; not the namespace's every one, whose every change would gather again.
	informer(c.Dyn, &unstructured.Unstructured{}, restricted("", fields.OneTermEqualSelector("metadata.name", name).String(), isvcs.List, isvcs.Watch))
	informer(c.Dyn, &unstructured.Unstructured{}, restricted(byName, "", isvcs.List, isvcs.Watch))
	return changes
}

// restricted is a typed client's list and watch, restricted to a label and a field selector
// ("" for none).
func restricted[L runtime.Object](label, field string, list func(context.Context, metav1.ListOptions) (L, error),
	w func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector, o.FieldSelector = label, field
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector, o.FieldSelector = label, field
			return w(ctx, o)
		},
	}
}
