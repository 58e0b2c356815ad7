package cluster

import (
	"context"
	"sort"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/pager"
)

// ListSnapshots reads every Hopsworks deployment of a namespace ("" for all) with three paged
// list calls made in parallel (InferenceServices, DEFAULT Deployments, labelled pods), and
// returns one Snapshot each (without events), sorted by namespace and name.
func (c *Clients) ListSnapshots(ctx context.Context, ns, selector string) ([]*state.Snapshot, error) {
	var isvcs []unstructured.Unstructured
	var deps []appsv1.Deployment
	var pods []corev1.Pod
	sel := state.LabelName
	if selector != "" {
		sel += "," + selector
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return c.Dyn.Resource(ISVCResource).Namespace(ns).List(ctx, o)
		})
		err := p.EachListItem(gctx, metav1.ListOptions{}, func(o runtime.Object) error {
			isvcs = append(isvcs, *o.(*unstructured.Unstructured))
			return nil
		})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return wrap(err, "list", isvcName, ns, c.Host)
	})
	g.Go(func() error {
		p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return c.Kube.AppsV1().Deployments(ns).List(ctx, o)
		})
		return wrap(p.EachListItem(gctx, metav1.ListOptions{}, func(o runtime.Object) error {
			if d := o.(*appsv1.Deployment); isDefaultDeployment(d) {
				deps = append(deps, *d)
			}
			return nil
		}), "list", "deployments.apps", ns, c.Host)
	})
	g.Go(func() error {
		p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return c.Kube.CoreV1().Pods(ns).List(ctx, o)
		})
		return wrap(p.EachListItem(gctx, metav1.ListOptions{}, func(o runtime.Object) error {
			pods = append(pods, *o.(*corev1.Pod))
			return nil
		}), "list", "pods", ns, c.Host)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	now := time.Now()
	byKey := map[string]*state.Snapshot{}
	get := func(ns, name string) *state.Snapshot {
		k := ns + "/" + name
		if s := byKey[k]; s != nil {
			return s
		}
		s := &state.Snapshot{Namespace: ns, Name: name, Now: now}
		byKey[k] = s
		return s
	}
	for i := range isvcs {
		name := isvcs[i].GetLabels()[state.LabelName]
		if name == "" {
			name = isvcs[i].GetName()
		}
		get(isvcs[i].GetNamespace(), name).ISVC = &isvcs[i]
	}
	for i := range deps {
		get(deps[i].Namespace, deps[i].Labels[state.LabelName]).Deployment = &deps[i]
	}
	for i := range pods {
		s := get(pods[i].Namespace, pods[i].Labels[state.LabelName])
		s.Pods = append(s.Pods, pods[i])
	}
	out := make([]*state.Snapshot, 0, len(byKey))
	for _, s := range byKey {
		if s.ISVC == nil && s.Deployment == nil && selector != "" && len(s.Pods) == 0 {
			continue
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
