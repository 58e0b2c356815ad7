package logs

import (
	"context"
	"io"
	"reflect"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Prefetch opens, while the deployment is being read, the streams that the same command read
// last time (StreamCache), so that a first line waits for the lists or for the log, whichever
// answers later, not for one and then the other: a round trip less to an API server far away.
// Nothing of a prefetched stream is read until the engine asks for the same pod, container and
// options (Opener); the lists decide what is read, the cache only what is asked early.
//
// A read to the end that would hand off (handoff.go) asks early for its first 64 KiB only,
// over the lists' connection, and for all of it over a connection of its own (bulk) once half
// of those are read, going on after them: a stream held over HTTP/2 while the lists answer
// would otherwise fill its window, all of which the hand-off's second request would read
// again. The second request waits until then so that its bytes, which come as fast as the
// server can send them, do not take the server's cores from the lists.
type Prefetch struct {
	open StreamOpener
	mu   sync.Mutex
	held map[string]*heldStream // by Target.Key
}

// heldStream is one prefetched request: its options and, once ready is closed, its answer.
type heldStream struct {
	opts   corev1.PodLogOptions
	bulk   StreamOpener // the rest of the read, when the first asks for handoffAfter bytes
	ready  chan struct{}
	rc     io.ReadCloser
	err    error
	cancel context.CancelFunc
}

// StreamSettings are what a stream's first request is made of besides its target: the user's
// options, following, and whether the output shows timestamps.
type StreamSettings struct {
	Options corev1.PodLogOptions
	Follow  bool
	Stamps  bool
}

// StartPrefetch asks for each target's stream at once over open, as the engine would ask for
// it first (firstRequest); a read that would hand off, for its first handoffAfter bytes, and
// for the rest over bulk once taken (nil: no hand-off). At most limit streams are asked.
func StartPrefetch(ctx context.Context, open, bulk StreamOpener, targets []Target, s StreamSettings, limit int) *Prefetch {
	p := &Prefetch{open: open, held: map[string]*heldStream{}}
	for _, t := range targets {
		if len(p.held) >= limit {
			break
		}
		if _, dup := p.held[t.Key()]; dup {
			continue
		}
		hctx, cancel := context.WithCancel(ctx)
		h := &heldStream{opts: firstRequest(s.Options, t.Container, s.Follow, s.Stamps, false), ready: make(chan struct{}), cancel: cancel}
		first := h.opts
		if bulk != nil && handoffApplies(&h.opts) {
			head := handoffAfter
			first.LimitBytes, h.bulk = &head, bulk
		}
		p.held[t.Key()] = h
		go func() {
			defer close(h.ready)
			h.rc, h.err = open(hctx, t.Namespace, t.Pod, &first)
		}()
	}
	return p
}

// Opener opens a stream: the prefetched one when it was asked with the same options and
// answered, otherwise a request of its own. A prefetched stream is taken once.
func (p *Prefetch) Opener() StreamOpener {
	return func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
		key := Target{Namespace: namespace, Pod: pod, Container: opts.Container}.Key()
		p.mu.Lock()
		h := p.held[key]
		delete(p.held, key)
		p.mu.Unlock()
		if h == nil {
			return p.open(ctx, namespace, pod, opts)
		}
		if !reflect.DeepEqual(h.opts, *opts) {
			h.discard()
			return p.open(ctx, namespace, pod, opts)
		}
		select {
		case <-h.ready:
		case <-ctx.Done():
			h.discard()
			return nil, ctx.Err()
		}
		if h.err != nil {
			h.discard()
			// Asked before the lists: a pod gone since, or a failure the engine's own
			// request reports as it would have.
			return p.open(ctx, namespace, pod, opts)
		}
		// The request was made under the run's context: the caller's ends it too.
		stop := context.AfterFunc(ctx, h.cancel)
		var rc io.ReadCloser = h.rc
		if h.bulk != nil {
			same := *opts
			rc = newLimitedHandoff(ctx, h.rc, handoffAfter, func(ctx context.Context) (io.ReadCloser, error) { return h.bulk(ctx, namespace, pod, &same) })
		}
		return &adopted{ReadCloser: rc, handsOff: h.bulk != nil, done: func() { stop(); h.cancel() }}, nil
	}
}

// Keep closes the prefetched streams of every target but these, which the engine is about
// to read.
func (p *Prefetch) Keep(targets []Target) {
	keep := map[string]bool{}
	for _, t := range targets {
		keep[t.Key()] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, h := range p.held {
		if !keep[key] {
			delete(p.held, key)
			h.discard()
		}
	}
}

// Close closes every prefetched stream that the engine did not take.
func (p *Prefetch) Close() { p.Keep(nil) }

// discard ends the request and closes its answer, once it comes.
func (h *heldStream) discard() {
	h.cancel()
	go func() {
		<-h.ready
		if h.rc != nil {
			_ = h.rc.Close()
		}
	}()
}

// adopted is a prefetched stream in the engine's hands.
type adopted struct {
	io.ReadCloser
	handsOff bool
	done     func()
}

// handsOffAlready tells the engine that the stream hands off by itself: not again.
func (a *adopted) handsOffAlready() bool { return a.handsOff }

func (a *adopted) Close() error {
	err := a.ReadCloser.Close()
	a.done()
	return err
}
