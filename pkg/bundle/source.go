package bundle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
)

// Source reads a bundle as the commands read a cluster: the deployment it holds (its objects
// and events as they were when it was taken) and the last lines of each container instance.
// what, timeline and logs then say of a bundle what they say live; what a bundle does not
// hold (history, follow, log timestamps) they do without.
type Source struct{ b *Bundle }

// Source is the bundle as a source of the commands.
func (b *Bundle) Source() *Source { return &Source{b: b} }

// ErrNotInBundle is a log a bundle does not hold.
type ErrNotInBundle struct{ What string }

func (e *ErrNotInBundle) Error() string { return e.What + " is not in the bundle" }

func (s *Source) holds(ns, name string) error {
	if o := s.b.Objects; o.Name != name || o.Namespace != ns {
		return fmt.Errorf("the bundle holds %s in namespace %s, not %s in %s", o.Name, o.Namespace, name, ns)
	}
	return nil
}

// GatherAll is the bundle's snapshot, every event included.
func (s *Source) GatherAll(_ context.Context, ns, name string) (*state.Snapshot, error) {
	if err := s.holds(ns, name); err != nil {
		return nil, err
	}
	return s.b.Objects.Snapshot(), nil
}

// Gather is the bundle's snapshot with its warning events, as status and why read them live.
func (s *Source) Gather(ctx context.Context, ns, name string) (*state.Snapshot, error) {
	snap, err := s.GatherAll(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	var warnings []corev1.Event
	for _, e := range snap.Events {
		if e.Type == corev1.EventTypeWarning {
			warnings = append(warnings, e)
		}
	}
	snap.Events = warnings
	return snap, nil
}

// TailLog is the last n lines the bundle holds of a container instance.
func (s *Source) TailLog(_ context.Context, _, pod, container string, previous bool, n int64) ([]string, error) {
	key := LogKey(pod, container, previous)
	lines, ok := s.b.Logs[key]
	if !ok {
		return nil, &ErrNotInBundle{What: "the log " + key}
	}
	if int64(len(lines)) > n && n >= 0 {
		lines = lines[int64(len(lines))-n:]
	}
	return lines, nil
}

// TailLogStamped fails: a bundle keeps lines without their timestamps.
func (s *Source) TailLogStamped(context.Context, string, string, string, bool, int64) ([]string, error) {
	return nil, &ErrNotInBundle{What: "a log line's timestamp"}
}

// OpenLog serves a container instance's lines as the kubelet serves pods/log (the log
// engine's seam): the last TailLines of them, each with the bundle's time in front when
// timestamps are asked (the bundle keeps none: the lines keep their order). An instance the
// bundle does not hold (the inference logger's payloads, a previous instance there was not)
// reads as empty: the command says once what a bundle leaves out.
func (s *Source) OpenLog(ctx context.Context, _, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	n := int64(-1)
	if opts.TailLines != nil {
		n = *opts.TailLines
	}
	lines, err := s.TailLog(ctx, "", pod, opts.Container, opts.Previous, n)
	var missing *ErrNotInBundle
	if errors.As(err, &missing) {
		lines = nil
	} else if err != nil {
		return nil, err
	}
	var b strings.Builder
	stamp := s.b.Objects.Taken.UTC().Format("2006-01-02T15:04:05.000000000Z")
	for _, l := range lines {
		if opts.Timestamps {
			b.WriteString(stamp + " ")
		}
		b.WriteString(l + "\n")
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}
