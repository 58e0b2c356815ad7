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
	l, err := c.listPaged(ctx, ns, selector)
	if err != nil {
		return nil, err
	}
	return groupSnapshots(l, selector), nil
}

// listPaged makes ListSnapshots' three paged list calls in parallel.
func (c *Clients) listPaged(ctx context.Context, ns, selector string) (*listed, error) {
	l := &listed{}
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
			l.isvcs = append(l.isvcs, *o.(*unstructured.Unstructured))
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
				l.deps = append(l.deps, *d)
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
			l.pods = append(l.pods, *o.(*corev1.Pod))
			return nil
		}), "list", "pods", ns, c.Host)
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return l, nil
}

// groupSnapshots makes one snapshot per deployment of what was listed, sorted by namespace
// and name; with a selector, a name that only pods carry is left out.
func groupSnapshots(l *listed, selector string) []*state.Snapshot {
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
	for i := range l.isvcs {
		name := l.isvcs[i].GetLabels()[state.LabelName]
		if name == "" {
			name = l.isvcs[i].GetName()
		}
		get(l.isvcs[i].GetNamespace(), name).ISVC = &l.isvcs[i]
	}
	for i := range l.deps {
		get(l.deps[i].Namespace, l.deps[i].Labels[state.LabelName]).Deployment = &l.deps[i]
	}
	for i := range l.pods {
		s := get(l.pods[i].Namespace, l.pods[i].Labels[state.LabelName])
		s.Pods = append(s.Pods, l.pods[i])
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
	return out
}
