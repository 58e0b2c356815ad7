package cluster

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ISVCResource is KServe's InferenceService.
var ISVCResource = schema.GroupVersionResource{Group: "serving.kserve.io", Version: "v1beta1", Resource: "inferenceservices"}

const isvcName = "inferenceservices.serving.kserve.io"

// Clients are the API clients the plugin uses.
type Clients struct {
	Kube kubernetes.Interface
	Dyn  dynamic.Interface
	Host string
	// AllEvents makes Gather read every event type, not only warnings (for timelines).
	AllEvents bool
	// SkipForbidden makes Gather go on without InferenceServices when the user may not
	// list them (logs needs only the pods); Snapshot.Skipped says what was left out. Nor
	// does it read what only a diagnosis uses: events (every list of which is a pass over
	// the namespace's in etcd), Knative's objects, nodes.
	SkipForbidden bool
	// Logs opens the log streams that status, why, timeline and bundle quote; nil means the
	// API server's pods/log through Kube (a seam for unit tests, as in the log engine).
	Logs LogOpener
	// FromCache serves Gather's lists from the API server's watch cache (resourceVersion
	// "0"), as an informer's first list is: no wait for etcd to confirm that the cache is
	// current, at the price of a cache some milliseconds behind. For logs, which reads the
	// pods it finds and follows with an informer; a diagnosis reads consistently.
	FromCache bool
	// BulkLogs opens the rest of a long log read over an HTTP/1.1 connection of its own
	// (the log engine's handoff); nil where the command reads no log to its end.
	BulkLogs LogOpener
}

// NewClients builds the clients from a REST config. streamWindow, when not zero, is what each
// HTTP/2 stream may hold that the plugin has not read yet (streamwindow.go), and the clients
// can read the rest of a long log over HTTP/1.1 (BulkLogs); zero keeps Go's window.
func NewClients(cfg *rest.Config, streamWindow int) (*Clients, error) {
	if streamWindow > 0 {
		cfg = privateTransport(cfg)
	}
	// One HTTP client for the typed and the dynamic clients, whose first requests go out
	// together: one connection for both (firstConnGate).
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	if streamWindow > 0 {
		setStreamWindow(hc.Transport, streamWindow)
	}
	// A copy: without TLS or credentials, client-go hands out http.DefaultClient itself,
	// whose Transport is nil (the default transport).
	gated := *hc
	rt := gated.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	gated.Transport = newFirstConnGate(rt)
	hc = &gated
	kc, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	dc, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	c := &Clients{Kube: kc, Dyn: dc, Host: cfg.Host}
	if streamWindow > 0 {
		if c.BulkLogs, err = bulkLogs(cfg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Gather reads one deployment into a Snapshot with list calls made in parallel (its
// InferenceService by name and by label, DEFAULT Deployments, pods, the first page of Warning
// events, Knative's objects), plus one for the pods of an InferenceService that Hopsworks did
// not label, and, in a namespace with more events than a page, the rest of them page by page.
// An unknown name is a *NotFoundError.
func (c *Clients) Gather(ctx context.Context, ns, name string) (*state.Snapshot, error) {
	snap := &state.Snapshot{Namespace: ns, Name: name, Now: time.Now()}
	byName, err := Selector(state.LabelName, name)
	if err != nil {
		return nil, err
	}
	l, err := c.listFour(ctx, ns, name, byName)
	if err != nil {
		return nil, err
	}
	snap.Pods, snap.Skipped = l.pods, l.skipped
	pickObjects(snap, l, name)
	if snap.Mode() == state.ModeKnative {
		snap.Revisions = state.ParseRevisions(l.revisions, l.autoscalers)
	}
	sel, err := snap.PodSelector()
	if err != nil {
		return nil, err
	}
	if sel != byName {
		// An InferenceService that Hopsworks did not label: find its pods by KServe's label.
		pl, err := c.Kube.CoreV1().Pods(ns).List(ctx, c.listOptions(metav1.ListOptions{LabelSelector: sel}))
		if err != nil {
			return nil, wrap(err, "list", "pods", ns, c.Host)
		}
		snap.Pods = pl.Items
	}
	if snap.ISVC == nil && snap.Deployment == nil && len(snap.Pods) == 0 {
		return nil, c.notFound(ctx, ns, name)
	}
	snap.Events = relatedEvents(snap, l.events)
	if l.eventsNext != "" {
		if snap.Events, err = c.restOfEvents(ctx, ns, l.eventsNext, snap, snap.Events); err != nil {
			return nil, err
		}
	}
	if len(snap.Unschedulable()) > 0 && !c.SkipForbidden {
		// Why no node fits, node by node: read only when it is asked (logs never asks).
		snap.Nodes = c.readNodes(ctx)
	}
	return snap, nil
}

// GatherAll is Gather with events of every type, not only warnings (for timelines and
// bundles).
func (c *Clients) GatherAll(ctx context.Context, ns, name string) (*state.Snapshot, error) {
	all := *c
	all.AllEvents = true
	return all.Gather(ctx, ns, name)
}

// listed is what Gather's four lists found.
type listed struct {
	isvcs  []unstructured.Unstructured
	deps   []appsv1.Deployment
	pods   []corev1.Pod
	events []corev1.Event
	// eventsNext continues the events' list where the first page ended (a namespace with
	// more than a page of them): Gather reads the rest once it knows the deployment's objects.
	eventsNext string
	// Knative's Revisions and PodAutoscalers of the deployment (Serverless mode); read
	// beside the others, not after, so that they cost no round trip of their own.
	revisions, autoscalers []unstructured.Unstructured
	skipped                []string // what the user may not list, left out
}

// listFour makes Gather's first list calls in parallel (four kinds of object, and Knative's).
func (c *Clients) listFour(ctx context.Context, ns, name, byName string) (*listed, error) {
	l := &listed{}
	var skipped sync.Map
	g, gctx := errgroup.WithContext(ctx)
	// The InferenceService by its name and those Hopsworks labelled with it (one it created
	// under another name): two small lists, not the namespace's every InferenceService.
	byField := fields.OneTermEqualSelector("metadata.name", name).String()
	isvcs := make([][]unstructured.Unstructured, 2)
	for i, o := range []metav1.ListOptions{{FieldSelector: byField}, {LabelSelector: byName}} {
		g.Go(func() error {
			il, err := c.Dyn.Resource(ISVCResource).Namespace(ns).List(gctx, c.listOptions(o))
			switch {
			case apierrors.IsNotFound(err): // the CRD is not installed: no KServe here
				return nil
			case apierrors.IsForbidden(err) && c.SkipForbidden:
				skipped.Store("isvc", isvcName)
				return nil
			case err != nil:
				return wrap(err, "list", isvcName, ns, c.Host)
			}
			isvcs[i] = il.Items
			return nil
		})
	}
	g.Go(func() error {
		dl, err := c.Kube.AppsV1().Deployments(ns).List(gctx, c.listOptions(metav1.ListOptions{LabelSelector: byName}))
		if err != nil {
			return wrap(err, "list", "deployments.apps", ns, c.Host)
		}
		l.deps = dl.Items
		return nil
	})
	g.Go(func() error {
		pl, err := c.Kube.CoreV1().Pods(ns).List(gctx, c.listOptions(metav1.ListOptions{LabelSelector: byName}))
		if err != nil {
			return wrap(err, "list", "pods", ns, c.Host)
		}
		l.pods = pl.Items
		return nil
	})
	if !c.SkipForbidden { // logs needs only the pods: not even one pass over the events
		g.Go(func() error {
			el, err := c.Kube.CoreV1().Events(ns).List(gctx, metav1.ListOptions{FieldSelector: c.eventTypes(), Limit: eventPage})
			if err != nil {
				return wrap(err, "list", "events", ns, c.Host)
			}
			l.events, l.eventsNext = el.Items, el.Continue
			return nil
		})
		listKnative(gctx, g, c, ns, byName, state.RevisionResource, &l.revisions, &skipped)
		listKnative(gctx, g, c, ns, byName, state.PodAutoscalerResource, &l.autoscalers, &skipped)
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	l.isvcs = isvcs[0]
	for _, u := range isvcs[1] {
		if u.GetName() != name {
			l.isvcs = append(l.isvcs, u)
		}
	}
	skipped.Range(func(_, v any) bool {
		l.skipped = append(l.skipped, v.(string))
		return true
	})
	slices.Sort(l.skipped)
	return l, nil
}

// listOptions are o, from the watch cache when FromCache says so.
func (c *Clients) listOptions(o metav1.ListOptions) metav1.ListOptions {
	if c.FromCache {
		o.ResourceVersion = "0"
	}
	return o
}

// listKnative lists one of Knative's resources of the deployment. They add to a diagnosis
// and are not needed for the state: where Knative is not installed there are none, and where
// the user may not read them they are left out (Snapshot.Skipped says so); other errors fail
// the gather as any list's do.
func listKnative(ctx context.Context, g *errgroup.Group, c *Clients, ns, byName string, gvr schema.GroupVersionResource, into *[]unstructured.Unstructured, skipped *sync.Map) {
	g.Go(func() error {
		ul, err := c.Dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: byName})
		name := gvr.Resource + "." + gvr.Group
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case apierrors.IsForbidden(err):
			skipped.Store(name, name)
			return nil
		case err != nil:
			return wrap(err, "list", name, ns, c.Host)
		}
		*into = ul.Items
		return nil
	})
}

// pickObjects finds the deployment's objects among those listed: its InferenceService (by
// name, else by the Hopsworks label), else the DEFAULT tool's Deployment; in Standard mode,
// KServe's Deployments of the InferenceService.
func pickObjects(snap *state.Snapshot, l *listed, name string) {
	for _, match := range []func(u *unstructured.Unstructured) bool{
		func(u *unstructured.Unstructured) bool { return u.GetName() == name },
		func(u *unstructured.Unstructured) bool { return u.GetLabels()[state.LabelName] == name },
	} {
		for i := range l.isvcs {
			if snap.ISVC == nil && match(&l.isvcs[i]) {
				snap.ISVC = &l.isvcs[i]
			}
		}
	}
	if snap.ISVC == nil {
		for i := range l.deps {
			if isDefaultDeployment(&l.deps[i]) {
				snap.Deployment = &l.deps[i]
				break
			}
		}
		return
	}
	// Standard mode: KServe's Deployments carry the InferenceService's labels.
	for _, d := range l.deps {
		if d.Labels[state.LabelISVC] == snap.ISVC.GetName() {
			snap.ComponentDeployments = append(snap.ComponentDeployments, d)
		}
	}
}

func isDefaultDeployment(d *appsv1.Deployment) bool {
	return strings.HasPrefix(d.Name, "python-server-") || strings.HasPrefix(d.Name, "tf-serving-dep-") ||
		d.Labels[state.LabelTool] == string(state.ToolDefault)
}

// relatedEvents keeps the events about the deployment's objects: its InferenceService or
// Deployment, its pods, and the objects KServe and Knative derive from it (named after it).
func relatedEvents(s *state.Snapshot, all []corev1.Event) []corev1.Event {
	names := map[string]bool{s.Name: true}
	var prefixes []string
	if s.ISVC != nil {
		names[s.ISVC.GetName()] = true
		prefixes = append(prefixes, s.ISVC.GetName()+"-predictor", s.ISVC.GetName()+"-transformer")
	}
	if s.Deployment != nil {
		names[s.Deployment.Name] = true
		prefixes = append(prefixes, s.Deployment.Name+"-")
	}
	for i := range s.Pods {
		names[s.Pods[i].Name] = true
		for _, o := range s.Pods[i].OwnerReferences {
			names[o.Name] = true
		}
	}
	var out []corev1.Event
	for _, e := range all {
		n := e.InvolvedObject.Name
		keep := names[n]
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(n, p)
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

// notFound builds the error for an unknown name, with the names that do exist, closest first.
func (c *Clients) notFound(ctx context.Context, ns, name string) error {
	if _, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		return &NotFoundError{Name: name, Namespace: ns, NamespaceGone: true}
	}
	known := map[string]bool{}
	listed, _ := c.Names(ctx, ns) // InferenceServices and DEFAULT Deployments
	for _, n := range listed {
		known[n] = true
	}
	hasName := state.LabelName // the label exists
	if l, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: hasName}); err == nil {
		for _, p := range l.Items {
			known[p.Labels[state.LabelName]] = true
		}
	}
	var names []string
	for n := range known {
		names = append(names, n)
	}
	return &NotFoundError{Name: name, Namespace: ns, Suggestions: Closest(name, names, 5)}
}

// Names lists the Hopsworks deployment names in a namespace, for completion.
func (c *Clients) Names(ctx context.Context, ns string) ([]string, error) {
	seen := map[string]bool{}
	if l, err := c.Dyn.Resource(ISVCResource).Namespace(ns).List(ctx, metav1.ListOptions{}); err == nil {
		for _, i := range l.Items {
			n := i.GetLabels()[state.LabelName]
			if n == "" {
				n = i.GetName()
			}
			seen[n] = true
		}
	}
	if l, err := c.Kube.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: state.LabelName}); err == nil {
		for _, d := range l.Items {
			seen[d.Labels[state.LabelName]] = true
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	return out, nil
}

// TailLog returns the last n lines of a container's log (its previous instance if asked).
func (c *Clients) TailLog(ctx context.Context, ns, pod, container string, previous bool, n int64) ([]string, error) {
	return c.tailLog(ctx, ns, pod, container, previous, n, false)
}

// TailLogStamped is TailLog with each line's timestamp in front.
func (c *Clients) TailLogStamped(ctx context.Context, ns, pod, container string, previous bool, n int64) ([]string, error) {
	return c.tailLog(ctx, ns, pod, container, previous, n, true)
}

func (c *Clients) tailLog(ctx context.Context, ns, pod, container string, previous bool, n int64, stamped bool) ([]string, error) {
	// Streamed, not DoRaw: it keeps the kubelet's plain-text reason in the error.
	open := c.Logs
	if open == nil {
		open = KubeLogs(c.Kube)
	}
	lines, err := TailLines(ctx, open, ns, pod, container, previous, n, stamped)
	if err != nil {
		return nil, wrap(err, "get", "pods/log", ns, c.Host)
	}
	return lines, nil
}

// ProjectNamespace resolves a Hopsworks project to its namespace: the namespace labelled
// hopsworks.ai/project=<project> if there is one, else the project name lower-cased with every
// character outside [a-z0-9-] replaced by "-" (KubeClientService.getKubeProjectName). Several
// labelled namespaces are an error; a note says when namespaces could not be listed and the
// rule was used instead.
func (c *Clients) ProjectNamespace(ctx context.Context, project string) (ns, note string, err error) {
	sel, err := Selector(state.LabelProjectNS, project)
	if err != nil {
		return "", "", err
	}
	l, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{LabelSelector: sel})
	switch {
	case err == nil && len(l.Items) == 1:
		return l.Items[0].Name, "", nil
	case err == nil && len(l.Items) > 1:
		var names []string
		for _, n := range l.Items {
			names = append(names, n.Name)
		}
		return "", "", fmt.Errorf("several namespaces carry %s=%s (%s): name one with -n", state.LabelProjectNS, project, strings.Join(names, ", "))
	case apierrors.IsForbidden(err):
		ns := ProjectToNamespace(project)
		return ns, fmt.Sprintf("note: you may not list namespaces, so project %s's namespace is taken by Hopsworks' naming rule: %s (use -n if it is another)", project, ns), nil
	case err != nil:
		return "", "", wrap(err, "list", "namespaces", "", c.Host)
	}
	return ProjectToNamespace(project), "", nil
}

// ProjectToNamespace is the Hopsworks rule for a project's namespace name.
func ProjectToNamespace(project string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(project) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ProjectOf is the Hopsworks project of a namespace, as its hopsworks.ai/project label
// says; "" when it has none or the namespace cannot be read (then the namespace's name stands
// for the project, as Hopsworks names namespaces after projects).
func (c *Clients) ProjectOf(ctx context.Context, ns string) string {
	n, err := c.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	return n.Labels[state.LabelProjectNS]
}
