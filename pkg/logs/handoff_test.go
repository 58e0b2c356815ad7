package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// logOf is a log of n numbered lines.
func logOf(n int, word string) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "%s line %05d\n", word, i)
	}
	return b.Bytes()
}

// counted is a log stream over bytes that says how much was read and whether it was closed.
type counted struct {
	r      io.Reader
	read   atomic.Int64
	closed atomic.Bool
}

func (s *counted) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.read.Add(int64(n))
	return n, err
}

func (s *counted) Close() error { s.closed.Store(true); return nil }

// gated reads past the hand-off threshold a small piece at a time, each once the second
// stream has answered: the hand-off then happens at a known point, not when the goroutines
// happen to meet.
type gated struct {
	r io.Reader
	h **handoff
}

func (g *gated) Read(p []byte) (int, error) {
	if h := *g.h; h.state == handoffOpening {
		for deadline := time.Now().Add(5 * time.Second); len(h.next) == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		p = p[:min(len(p), 100)]
	}
	return g.r.Read(p)
}

// withHandoffAfter sets the threshold for one test.
func withHandoffAfter(t *testing.T, n int64) {
	old := handoffAfter
	handoffAfter = n
	t.Cleanup(func() { handoffAfter = old })
}

// handoffRead reads a log through a hand-off from first to what second opens, 512 bytes a
// read; it returns what was read.
func handoffRead(t *testing.T, content []byte, second func(context.Context) (io.ReadCloser, error)) (string, *counted) {
	t.Helper()
	var h *handoff
	first := &counted{}
	first.r = &gated{r: bytes.NewReader(content), h: &h}
	h = newHandoff(context.Background(), first, second)
	var out bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := h.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String(), first
}

// A long read moves to the second stream once it answers: the second's first bytes are
// skipped, checked against those written, and the log comes out whole, once, in order.
func TestHandoffTakesOverAtTheFirstStreamsPlace(t *testing.T) {
	withHandoffAfter(t, 4<<10)
	content := logOf(2000, "a")
	second := &counted{r: bytes.NewReader(content)}
	got, first := handoffRead(t, content, func(context.Context) (io.ReadCloser, error) { return second, nil })
	if got != string(content) {
		t.Fatalf("read %d bytes, want the log's %d, once and in order", len(got), len(content))
	}
	if !first.closed.Load() || first.read.Load() >= int64(len(content)) {
		t.Errorf("the first stream read %d of %d bytes (closed %v): it was not handed off", first.read.Load(), len(content), first.closed.Load())
	}
	if !second.closed.Load() || second.read.Load() != int64(len(content)) {
		t.Errorf("the second stream read %d of %d bytes (closed %v)", second.read.Load(), len(content), second.closed.Load())
	}
}

// A log that changed between the two requests (the kubelet rotated it) keeps its first
// stream: nothing is lost or written twice.
func TestHandoffKeepsTheFirstStreamWhenTheLogChanged(t *testing.T) {
	withHandoffAfter(t, 4<<10)
	content := logOf(2000, "a")
	second := &counted{r: bytes.NewReader(logOf(2000, "b"))}
	got, first := handoffRead(t, content, func(context.Context) (io.ReadCloser, error) { return second, nil })
	if got != string(content) {
		t.Fatalf("read %d bytes, want the first stream's %d", len(got), len(content))
	}
	if first.read.Load() != int64(len(content)) || !second.closed.Load() {
		t.Errorf("first read %d of %d bytes; second closed %v", first.read.Load(), len(content), second.closed.Load())
	}
}

// A second request that fails leaves the read to the first stream.
func TestHandoffKeepsTheFirstStreamWhenTheSecondFails(t *testing.T) {
	withHandoffAfter(t, 4<<10)
	content := logOf(2000, "a")
	got, _ := handoffRead(t, content, func(context.Context) (io.ReadCloser, error) { return nil, errors.New("refused") })
	if got != string(content) {
		t.Fatalf("read %d bytes, want the first stream's %d", len(got), len(content))
	}
}

// The engine hands off only reads that ask the same bytes whenever they are made, and only
// once they are long: not a --tail, a --since, a --limit-bytes or a follow, not a short log.
// Whichever stream carries it, every line comes out once, in order.
func TestReadHandsOffOnlyLongReadsFromAFixedStart(t *testing.T) {
	withHandoffAfter(t, 4<<10)
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	n, tail, since, limit := int64(1500), int64(1500), int64(3600), int64(1<<20)
	for _, c := range []struct {
		name  string
		lines int
		opts  corev1.PodLogOptions
		bulk  bool
	}{
		{name: "a long log", lines: 2000, bulk: true},
		{name: "a short log", lines: 10},
		{name: "--tail", lines: 2000, opts: corev1.PodLogOptions{TailLines: &tail}},
		{name: "--since", lines: 2000, opts: corev1.PodLogOptions{SinceSeconds: &since}},
		{name: "--limit-bytes", lines: 2000, opts: corev1.PodLogOptions{LimitBytes: &limit}},
	} {
		f, g := newFakeLogs(), newFakeLogs()
		var want strings.Builder
		for i := range c.lines {
			msg := fmt.Sprintf("line %05d of a log long enough to be handed off", i)
			f.append(pod.Name, "kserve-container", t0.Add(time.Duration(i)*time.Millisecond), msg)
			g.append(pod.Name, "kserve-container", t0.Add(time.Duration(i)*time.Millisecond), msg)
			if c.opts.TailLines == nil || i >= c.lines-int(n) {
				want.WriteString(msg + "\n")
			}
		}
		var out, errOut syncBuffer
		e := newTestEngine(fake.NewClientset(), f, &out, &errOut, false, 10)
		e.Sink = NewSink(&out, SinkOptions{})
		e.Options = c.opts
		e.Bulk = g.open
		if err := e.Run(context.Background(), []corev1.Pod{*pod}); err != nil {
			t.Fatal(err)
		}
		if c.opts.LimitBytes == nil && out.String() != want.String() {
			t.Errorf("%s: %d bytes out, want %d: every line once, in order", c.name, len(out.String()), want.Len())
		}
		// The second request is made by a goroutine of its own, which may run after the
		// first stream has ended and the read returned: wait for it where one is due.
		for deadline := time.Now().Add(5 * time.Second); c.bulk && g.opens.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		if asked := g.opens.Load() > 0; asked != c.bulk {
			t.Errorf("%s: a second stream opened %v, want %v", c.name, asked, c.bulk)
		}
		g.mu.Lock()
		second := append([]corev1.PodLogOptions(nil), g.requests...)
		g.mu.Unlock()
		if c.bulk && len(second) > 0 && (second[0].Timestamps != f.requests[0].Timestamps || second[0].Container != "kserve-container") {
			t.Errorf("%s: the second request %+v is not the first's %+v", c.name, second[0], f.requests[0])
		}
	}
}
