package cluster

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// maxNodes bounds the nodes read for an unschedulable pod, and maxNodePods the nodes whose
// pods are read to know what is free: a large cluster costs a few calls, not thousands.
const (
	maxNodes    = 500
	maxNodePods = 50
)

// readNodes reads the cluster's nodes, and what the pods on each request, for the reasons
// an unschedulable pod fits no node; as far as the user may: who may not list nodes (most
// data scientists) gets a note instead, who may not list other namespaces' pods gets the
// nodes' allocatable resources and a note.
func (c *Clients) readNodes(ctx context.Context) *state.Nodes {
	nl, err := c.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{Limit: maxNodes})
	switch {
	case apierrors.IsForbidden(err):
		return &state.Nodes{Note: "you may not list nodes, so node-by-node reasons are left out (the scheduler's message counts them)"}
	case err != nil:
		return &state.Nodes{Note: "the nodes could not be read: " + err.Error()}
	}
	nodes := &state.Nodes{Items: nl.Items, Requested: map[string]corev1.ResourceList{}}
	if nl.Continue != "" {
		nodes.Note = fmt.Sprintf("only the first %d nodes are shown", maxNodes)
	}
	var mu sync.Mutex
	var refused atomic.Value
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range nodes.Items[:min(len(nodes.Items), maxNodePods)] {
		name := nodes.Items[i].Name
		g.Go(func() error {
			pl, err := c.Kube.CoreV1().Pods("").List(gctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + name})
			if err != nil {
				refused.CompareAndSwap(nil, err)
				return nil
			}
			sum := state.NodeRequests(pl.Items)
			mu.Lock()
			nodes.Requested[name] = sum
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	if err, _ := refused.Load().(error); err != nil {
		nodes.Requested = nil
		nodes.Note = "the pods on the nodes could not be read (" + oneLine(err) + "): the resources shown are the nodes' allocatable, not what is free"
		if apierrors.IsForbidden(err) {
			nodes.Note = "you may not list the pods of other namespaces: the resources shown are the nodes' allocatable, not what is free"
		}
	} else if len(nodes.Items) > maxNodePods {
		nodes.Note = fmt.Sprintf("free resources are read for the first %d nodes; the others show their allocatable", maxNodePods)
	}
	return nodes
}

// oneLine is an error on one line, for a note.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
