package cluster

import (
	"context"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	informer(c.Kube, &corev1.Pod{}, labelled(byName, pods.List, pods.Watch))
	informer(c.Kube, &appsv1.Deployment{}, labelled(byName, deps.List, deps.Watch))
	// Every InferenceService of the namespace: one that Hopsworks did not label is found by name.
	informer(c.Dyn, &unstructured.Unstructured{}, labelled("", isvcs.List, isvcs.Watch))
	return changes
}

// labelled is a typed client's list and watch, restricted to a label selector ("" for all).
func labelled[L runtime.Object](selector string, list func(context.Context, metav1.ListOptions) (L, error),
	w func(context.Context, metav1.ListOptions) (watch.Interface, error)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return w(ctx, o)
		},
	}
}
