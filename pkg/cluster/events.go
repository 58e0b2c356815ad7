package cluster

import (
	"context"
	"slices"
	"strings"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// eventPage bounds Gather's first read of a namespace's events. A namespace with more holds
// many deployments (a project of a thousand has tens of thousands of events): reading them
// all to keep a handful made status's time and memory grow with the project, not the
// deployment. There, the deployment's own events are asked for object by object.
const eventPage = 500

// maxEventObjects bounds the lists asked for object by object. A deployment with more
// objects (a hundred pods) reads the namespace's events whole, in one request, as a smaller
// namespace does.
const maxEventObjects = 48

// eventsOf reads the events of the deployment's objects one list each (a field selector on
// the involved object's name, and the type when only warnings are asked), in parallel: the
// objects relatedEvents keeps by name, the names KServe and Knative derive from the
// deployment's, and its ReplicaSets, listed by the pods' selector beside them so that one
// that could create no pod (a quota refused it) is asked too.
func (c *Clients) eventsOf(ctx context.Context, ns string, s *state.Snapshot) ([]corev1.Event, error) {
	names := eventObjects(s)
	if len(names) > maxEventObjects {
		return c.namespaceEvents(ctx, ns, s)
	}
	var found [][]corev1.Event
	var sets []string
	g, gctx := errgroup.WithContext(ctx)
	if sel, err := s.PodSelector(); err == nil {
		g.Go(func() error {
			rl, err := c.Kube.AppsV1().ReplicaSets(ns).List(gctx, metav1.ListOptions{LabelSelector: sel})
			if err != nil { // the events of the pods' owners are asked anyway; a forbidden list is no reason to fail
				return nil
			}
			for _, r := range rl.Items {
				if !slices.Contains(names, r.Name) {
					sets = append(sets, r.Name)
				}
			}
			return nil
		})
	}
	c.listEventsNamed(gctx, g, ns, names, &found)
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if len(sets) > 0 { // a ReplicaSet without pods: a round trip more, where one is
		g, gctx := errgroup.WithContext(ctx)
		c.listEventsNamed(gctx, g, ns, sets, &found)
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	var out []corev1.Event
	for _, f := range found {
		out = append(out, f...)
	}
	// In the order of one list (etcd's, by name), as relatedEvents keeps it.
	slices.SortFunc(out, func(a, b corev1.Event) int { return strings.Compare(a.Name, b.Name) })
	return relatedEvents(s, out), nil
}

// listEventsNamed adds to g one list of events for each involved object's name; found gets
// one slice a name.
func (c *Clients) listEventsNamed(ctx context.Context, g *errgroup.Group, ns string, names []string, found *[][]corev1.Event) {
	start := len(*found)
	*found = append(*found, make([][]corev1.Event, len(names))...)
	for i, n := range names {
		sel := fields.Set{"involvedObject.name": n}
		if !c.AllEvents {
			sel["type"] = corev1.EventTypeWarning
		}
		g.Go(func() error {
			el, err := c.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.SelectorFromSet(sel).String()})
			if err != nil {
				return wrap(err, "list", "events", ns, c.Host)
			}
			(*found)[start+i] = el.Items
			return nil
		})
	}
}

// namespaceEvents reads the namespace's events whole and keeps the deployment's.
func (c *Clients) namespaceEvents(ctx context.Context, ns string, s *state.Snapshot) ([]corev1.Event, error) {
	el, err := c.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: c.eventTypes()})
	if err != nil {
		return nil, wrap(err, "list", "events", ns, c.Host)
	}
	return relatedEvents(s, el.Items), nil
}

// eventTypes is the events' field selector: warnings only, unless every event is asked.
func (c *Clients) eventTypes() string {
	if c.AllEvents {
		return ""
	}
	return fields.OneTermEqualSelector("type", corev1.EventTypeWarning).String()
}

// eventObjects names the objects whose events concern the deployment: those relatedEvents
// keeps by name, and those it keeps by prefix whose names are known: KServe's and Knative's
// per component (the Knative Service, Configuration and Route; the Deployment and HPA of a
// RawDeployment), each revision (its PodAutoscaler and ServerlessService share its name) and
// the revision's Deployment.
func eventObjects(s *state.Snapshot) []string {
	names := []string{s.Name}
	add := func(n string) {
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if s.ISVC != nil {
		n := s.ISVC.GetName()
		add(n)
		add(n + "-predictor")
		add(n + "-transformer")
	}
	if s.Deployment != nil {
		add(s.Deployment.Name)
	}
	for _, d := range s.ComponentDeployments {
		add(d.Name)
	}
	for _, r := range s.Revisions {
		add(r.Name)
		add(r.Name + "-deployment")
	}
	for i := range s.Pods {
		add(s.Pods[i].Name)
		for _, o := range s.Pods[i].OwnerReferences {
			add(o.Name)
		}
	}
	return names
}
