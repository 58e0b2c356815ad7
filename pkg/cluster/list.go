package cluster

import (
	"context"
	"fmt"
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

// EachSnapshot reads every Hopsworks deployment of a namespace ("" for all) and calls fn with
// one Snapshot each (without events), in namespace and name order. InferenceServices and
// DEFAULT Deployments are listed whole, in parallel with the pods; the pods are paged, and a
// namespace's snapshots are handed to fn, and their pods let go, once the pods' pages have
// moved past it: the API server lists in key order (namespace, then name; its continue token
// is the last key), so what is held grows with the deployments and with one namespace's pods,
// not with every pod of the cluster.
func (c *Clients) EachSnapshot(ctx context.Context, ns, selector string, fn func(*state.Snapshot) error) error {
	sel := state.LabelName
	if selector != "" {
		sel += "," + selector
	}
	meta := &listed{}
	metaDone := make(chan struct{})
	var metaErr error
	g, gctx := errgroup.WithContext(ctx)
	go func() {
		defer close(metaDone)
		mg, mctx := errgroup.WithContext(gctx)
		mg.Go(func() error {
			p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = selector
				return c.Dyn.Resource(ISVCResource).Namespace(ns).List(ctx, o)
			})
			err := p.EachListItem(mctx, metav1.ListOptions{}, func(o runtime.Object) error {
				meta.isvcs = append(meta.isvcs, *o.(*unstructured.Unstructured))
				return nil
			})
			if apierrors.IsNotFound(err) {
				return nil
			}
			return wrap(err, "list", isvcName, ns, c.Host)
		})
		mg.Go(func() error {
			p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				o.LabelSelector = sel
				return c.Kube.AppsV1().Deployments(ns).List(ctx, o)
			})
			return wrap(p.EachListItem(mctx, metav1.ListOptions{}, func(o runtime.Object) error {
				if d := o.(*appsv1.Deployment); isDefaultDeployment(d) {
					meta.deps = append(meta.deps, *d)
				}
				return nil
			}), "list", "deployments.apps", ns, c.Host)
		})
		metaErr = mg.Wait()
	}()
	out := &namespaceStream{selector: selector, fn: fn, now: time.Now()}
	// ready waits for the InferenceServices and Deployments, which every hand-over needs.
	ready := func() error {
		select {
		case <-metaDone:
		case <-gctx.Done():
			<-metaDone
			return gctx.Err()
		}
		if metaErr != nil {
			return metaErr
		}
		out.index(meta)
		return nil
	}
	g.Go(func() error {
		p := pager.New(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return c.Kube.CoreV1().Pods(ns).List(ctx, o)
		})
		// Two pages read ahead while one is taken in, not the pager's ten: what is held
		// stays near one namespace's pods.
		p.PageBufferSize = 2
		err := p.EachListItem(gctx, metav1.ListOptions{}, func(o runtime.Object) error {
			return out.add(o.(*corev1.Pod), ready)
		})
		if err != nil {
			return wrap(err, "list", "pods", ns, c.Host)
		}
		if err := ready(); err != nil {
			return err
		}
		return out.through(true)
	})
	return g.Wait()
}

// namespaceStream hands a list's snapshots on, namespace after namespace in order: pods holds
// the pods of the namespace being read.
type namespaceStream struct {
	selector string
	fn       func(*state.Snapshot) error
	now      time.Time
	pods     []corev1.Pod
	// The InferenceServices and Deployments by namespace, and their namespaces in order, of
	// which the first done have been handed on.
	meta       map[string]*listed
	namespaces []string
	done       int
}

// index sorts the InferenceServices and Deployments by namespace, once.
func (n *namespaceStream) index(l *listed) {
	if n.meta != nil {
		return
	}
	n.meta = map[string]*listed{}
	get := func(ns string) *listed {
		if n.meta[ns] == nil {
			n.meta[ns] = &listed{}
			n.namespaces = append(n.namespaces, ns)
		}
		return n.meta[ns]
	}
	for _, u := range l.isvcs {
		m := get(u.GetNamespace())
		m.isvcs = append(m.isvcs, u)
	}
	for _, d := range l.deps {
		m := get(d.Namespace)
		m.deps = append(m.deps, d)
	}
	sort.Strings(n.namespaces)
}

// add takes the next pod of the list; the first of another namespace hands on those before
// it, once ready says the InferenceServices and Deployments are in.
func (n *namespaceStream) add(pod *corev1.Pod, ready func() error) error {
	switch {
	case len(n.pods) == 0 || pod.Namespace == n.pods[0].Namespace:
	case pod.Namespace < n.pods[0].Namespace:
		return fmt.Errorf("the API server listed pods out of namespace order (%s after %s): report it", pod.Namespace, n.pods[0].Namespace)
	default:
		if err := ready(); err != nil {
			return err
		}
		if err := n.through(false); err != nil {
			return err
		}
	}
	n.pods = append(n.pods, *pod)
	return nil
}

// through hands on the namespaces before that of the pods read so far, then theirs, and lets
// those pods go; with all, every namespace left too.
func (n *namespaceStream) through(all bool) error {
	if len(n.pods) > 0 {
		ns := n.pods[0].Namespace
		for n.done < len(n.namespaces) && n.namespaces[n.done] < ns {
			if err := n.hand(n.namespaces[n.done], nil); err != nil {
				return err
			}
			n.done++
		}
		if n.done < len(n.namespaces) && n.namespaces[n.done] == ns {
			n.done++
		}
		if err := n.hand(ns, n.pods); err != nil {
			return err
		}
		n.pods = nil
	}
	for ; all && n.done < len(n.namespaces); n.done++ {
		if err := n.hand(n.namespaces[n.done], nil); err != nil {
			return err
		}
	}
	return nil
}

// hand gives fn the snapshots of one namespace.
func (n *namespaceStream) hand(ns string, pods []corev1.Pod) error {
	l := &listed{pods: pods}
	if m := n.meta[ns]; m != nil {
		l.isvcs, l.deps = m.isvcs, m.deps
		delete(n.meta, ns)
	}
	for _, s := range groupSnapshots(l, n.selector, n.now) {
		if err := n.fn(s); err != nil {
			return err
		}
	}
	return nil
}

// groupSnapshots makes one snapshot per deployment of what was listed, sorted by namespace
// and name; with a selector, a name that only pods carry is left out.
func groupSnapshots(l *listed, selector string, now time.Time) []*state.Snapshot {
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
