package cluster

import (
	"context"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// eventPage is how many events Gather reads a request. An API server keeps no watch cache of
// events (kube-apiserver's default), so every list of them, whatever its field selector,
// reads the namespace's events from etcd: one list read in pages costs the server one pass,
// where a list an object would cost a pass each (at 20,000 events, four such lists took the
// server 0.4 to 1.1 s, docs/benchmarks.md). Pages keep what the plugin holds near one page
// and the deployment's own events, not the project's every warning.
const eventPage = 1000

// restOfEvents adds to kept, the deployment's events of Gather's first page, those of the
// rest of the namespace's, read from the page's continue token a page at a time. A token that
// expired meanwhile (a compaction) makes it read them again, whole.
func (c *Clients) restOfEvents(ctx context.Context, ns, next string, s *state.Snapshot, kept []corev1.Event) ([]corev1.Event, error) {
	for next != "" {
		el, err := c.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: c.eventTypes(), Limit: eventPage, Continue: next})
		if apierrors.IsResourceExpired(err) {
			return c.namespaceEvents(ctx, ns, s)
		}
		if err != nil {
			return nil, wrap(err, "list", "events", ns, c.Host)
		}
		kept = append(kept, relatedEvents(s, el.Items)...)
		next = el.Continue
	}
	return kept, nil
}

// namespaceEvents reads the namespace's events in one request and keeps the deployment's.
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
