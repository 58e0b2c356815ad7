package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// A stopped Hopsworks deployment leaves nothing in the cluster: Hopsworks deletes its
// InferenceService (or Deployment) on stop. Only history still knows it.

// historyAsideTimeout bounds a history read that only adds to an answer about the cluster
// (is an unknown name a stopped deployment? which deployments did history see?).
const historyAsideTimeout = 10 * time.Second

const noHistoryHint = "a stopped deployment leaves nothing in the cluster: point the plugin at its history (--opensearch-url, HOPSDEPLOY_OPENSEARCH_URL or the config file) to see it"

// Gone is the snapshot of a deployment with nothing in the cluster: it derives as Stopped,
// condition STOPPED true "Deployment is not running", as Hopsworks says of it.
func Gone(ns, name string) *state.Snapshot {
	return &state.Snapshot{Namespace: ns, Name: name, Now: time.Now()}
}

// notFound tells whether err is an unknown name in an existing namespace.
func notFound(err error) (*cluster.NotFoundError, bool) {
	var nf *cluster.NotFoundError
	return nf, errors.As(err, &nf) && !nf.NamespaceGone
}

// GatherOrGone gathers a deployment; when nothing of it is in the cluster and history can
// be read, it returns the Gone snapshot instead of the not-found error (gone is then true).
func GatherOrGone(ctx context.Context, src Sources, ns, name string) (snap *state.Snapshot, gone bool, err error) {
	snap, err = src.Cluster.Gather(ctx, ns, name)
	if nf, ok := notFound(err); ok {
		if src.History == nil {
			nf.Hint = noHistoryHint
			return nil, false, nf
		}
		return Gone(ns, name), true, nil
	}
	return snap, false, err
}

// LastSeen reads a deployment's newest line in history (within retention); nil when none.
func LastSeen(ctx context.Context, src Sources, ns, name string) (*diagnose.LastSeen, error) {
	r, err := src.History()
	if err != nil {
		return nil, err
	}
	lines, err := r.Tail(ctx, history.Query{Index: src.HistoryIndex, Deployment: name}, 1)
	if err != nil {
		var he *history.Error
		if errors.As(err, &he) && he.Kind == history.NoIndex {
			return nil, nil
		}
		return nil, err
	}
	if len(lines) == 0 {
		return nil, nil
	}
	l := lines[0]
	return &diagnose.LastSeen{At: l.Timestamp, Component: l.Component, Container: l.Container, Host: l.Host, Message: l.Message}, nil
}

// stopped answers status for a name that nothing in the cluster carries: Stopped when history
// has seen it, else the not-found error with a hint of how to look further.
func stopped(ctx context.Context, src Sources, nf *cluster.NotFoundError) (*diagnose.Report, error) {
	if src.History == nil {
		nf.Hint = noHistoryHint
		return nil, nf
	}
	// A name mistyped while OpenSearch is slow or away must not hang: history gets a few seconds.
	hctx, cancel := context.WithTimeout(ctx, historyAsideTimeout)
	defer cancel()
	seen, err := LastSeen(hctx, src, nf.Namespace, nf.Name)
	switch {
	case err != nil:
		nf.Hint = "its history could not be read either: " + term.OneLine(err)
		return nil, nf
	case seen == nil:
		nf.Hint = "OpenSearch has no line of it either (history is kept 7 days)"
		return nil, nf
	}
	source, note, deleted := confirmStopped(hctx, src, nf, seen.At)
	if deleted {
		return nil, nf
	}
	snap := Gone(nf.Namespace, nf.Name)
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	r.SeenInHistory(*seen)
	r.StatusSource, r.StatusNote = source, note
	return r, nil
}

// noHopsworksNote says why a status from history alone is an inference.
const noHopsworksNote = "only Hopsworks knows whether it is stopped or was deleted (a deleted deployment's lines stay in OpenSearch for days): set HOPSWORKS_URL and HOPSWORKS_API_KEY, a key with the SERVING scope, to ask it"

// confirmStopped asks Hopsworks, where it is configured, whether a deployment that history
// has seen and the cluster has not still exists, as Hopsworks' client looks one up: it does
// (Stopped, from Hopsworks), or it does not (deleted: nf, with a note that history still holds
// its lines, in nf's hint). Without Hopsworks, or when it cannot answer, Stopped is inferred
// from history, and the note says so.
func confirmStopped(ctx context.Context, src Sources, nf *cluster.NotFoundError, lastSeen time.Time) (source, note string, deleted bool) {
	if src.Hopsworks == nil {
		return diagnose.StatusFromHistory, noHopsworksNote, false
	}
	status, found, err := src.Hopsworks(ctx, nf.Name)
	switch {
	case err != nil:
		return diagnose.StatusFromHistory, "Hopsworks could not say whether it still exists: " + term.OneLine(err), false
	case !found:
		nf.Hint = fmt.Sprintf("Hopsworks has no deployment of that name: it was deleted. OpenSearch still holds its lines (the last at %s): kubectl hopsdeploy logs %s -n %s --source history --since %s",
			lastSeen.UTC().Format(time.RFC3339), nf.Name, nf.Namespace, sinceCovering(lastSeen))
		return "", "", true
	case status != "" && !strings.EqualFold(status, string(state.Stopped)): // the enum is spelled either way
		return diagnose.StatusFromHopsworks, fmt.Sprintf("Hopsworks says %s, but nothing of it is in this cluster's namespace %s", term.Clip(status, 40), nf.Namespace), false
	}
	return diagnose.StatusFromHopsworks, "", false
}

// sinceCovering is a --since that reaches back to t (in whole hours, at least one).
func sinceCovering(t time.Time) string {
	return fmt.Sprintf("%dh", int(time.Since(t).Hours())+1)
}

// whyStopped explains a deployment with nothing in the cluster from its last words in
// history, per component.
func whyStopped(ctx context.Context, src Sources, snap *state.Snapshot, logLines int64) (*diagnose.Why, error) {
	r, err := src.History()
	if err != nil {
		return nil, err
	}
	w := diagnose.Explain(snap)
	for _, component := range []string{state.ComponentPredictor, state.ComponentTransform} {
		lines, err := r.Tail(ctx, history.Query{Index: src.HistoryIndex, Deployment: snap.Name, Components: []string{component}}, int(max(logLines, 1)))
		var he *history.Error
		if err != nil && !(errors.As(err, &he) && he.Kind == history.NoIndex) {
			return nil, err
		}
		var msgs []string
		var at time.Time
		for _, l := range lines {
			msgs = append(msgs, l.Message)
			at = l.Timestamp
		}
		w.AddLastWords(component, at, msgs)
	}
	if len(w.LastWords) == 0 {
		return nil, &cluster.NotFoundError{Name: snap.Name, Namespace: snap.Namespace, Hint: "OpenSearch has no line of it either (history is kept 7 days)"}
	}
	last := w.LastWords[0].At
	for _, cw := range w.LastWords {
		if cw.At.After(last) {
			last = cw.At
		}
	}
	nf := &cluster.NotFoundError{Name: snap.Name, Namespace: snap.Namespace}
	var deleted bool
	if w.StatusSource, w.StatusNote, deleted = confirmStopped(ctx, src, nf, last); deleted {
		return nil, nf
	}
	return w, nil
}

// Stopped lists the deployments of a namespace that history knows but the cluster does not
// (known are the names the cluster has): stopped ones, whose objects Hopsworks deleted.
func Stopped(ctx context.Context, src Sources, ns string, known map[string]bool) ([]history.Seen, error) {
	if src.History == nil {
		return nil, nil
	}
	r, err := src.History()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, historyAsideTimeout)
	defer cancel()
	seen, err := r.Deployments(ctx, src.HistoryIndex)
	var he *history.Error
	if errors.As(err, &he) && he.Kind == history.NoIndex {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []history.Seen
	for _, s := range seen {
		if known[s.Name] {
			continue
		}
		// With Hopsworks, a deployment it no longer has was deleted, not stopped: not listed.
		if _, _, deleted := confirmStopped(ctx, src, &cluster.NotFoundError{Name: s.Name, Namespace: ns}, s.LastSeen); deleted {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}
