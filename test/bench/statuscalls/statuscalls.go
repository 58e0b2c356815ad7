// Package statuscalls makes status's API calls and nothing else: the status benchmarks' floor,
// in the bench process and as a process of its own (test/bench/statusfloor).
package statuscalls

import (
	"bytes"
	"context"
	"fmt"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Clients are the typed and the dynamic client of cfg's API server over one HTTP client, as
// the plugin has them, with a rate limit that never waits.
func Clients(cfg *rest.Config) (kubernetes.Interface, dynamic.Interface, error) {
	cfg.QPS, cfg.Burst = 500, 1000
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, nil, err
	}
	kc, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, nil, err
	}
	dc, err := dynamic.NewForConfigAndClient(cfg, hc)
	return kc, dc, err
}

// Status makes status's API calls for the deployment name: the lists in parallel (as Gather
// makes them); in a namespace of more warnings than the first page, the rest of them, a page
// at a time; then the crashed container's last 20 lines, which must hold its traceback.
func Status(ctx context.Context, kc kubernetes.Interface, dc dynamic.Interface, ns, name string) error {
	sel := metav1.ListOptions{LabelSelector: state.LabelName + "=" + name}
	warnings := "type=Warning"
	var pods *corev1.PodList
	var events *corev1.EventList
	g, gctx := errgroup.WithContext(ctx)
	for _, o := range []metav1.ListOptions{{FieldSelector: "metadata.name=" + name}, sel} {
		g.Go(func() error { _, err := dc.Resource(fixtures.ISVCResource).Namespace(ns).List(gctx, o); return err })
	}
	g.Go(func() error { _, err := kc.AppsV1().Deployments(ns).List(gctx, sel); return err })
	g.Go(func() error { var err error; pods, err = kc.CoreV1().Pods(ns).List(gctx, sel); return err })
	g.Go(func() error {
		var err error
		events, err = kc.CoreV1().Events(ns).List(gctx, metav1.ListOptions{FieldSelector: warnings, Limit: 1000})
		return err
	})
	for _, gvr := range []schema.GroupVersionResource{state.RevisionResource, state.PodAutoscalerResource} {
		g.Go(func() error { // Knative's: none here (no such resource), as on a cluster without it
			_, err := dc.Resource(gvr).Namespace(ns).List(gctx, sel)
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if len(pods.Items) == 0 {
		return fmt.Errorf("no pod of %s", name)
	}
	for next := events.Continue; next != ""; next = events.Continue {
		var err error
		if events, err = kc.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: warnings, Limit: 1000, Continue: next}); err != nil {
			return err
		}
	}
	n := int64(20)
	b, err := kc.CoreV1().Pods(ns).GetLogs(pods.Items[0].Name, &corev1.PodLogOptions{Container: state.ContainerMain, Previous: true, TailLines: &n}).DoRaw(ctx)
	if err != nil {
		return err
	}
	if !bytes.Contains(b, []byte("ModuleNotFoundError")) {
		return fmt.Errorf("the previous log of %s lacks its traceback", pods.Items[0].Name)
	}
	return nil
}
