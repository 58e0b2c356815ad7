package logs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// recordingOpener answers every request with its pod's name, or blocks until its context
// ends for the pods in block, and records what was asked and what was closed.
type recordingOpener struct {
	mu     sync.Mutex
	asked  []string
	closed map[string]bool
	fail   map[string]error
	block  map[string]bool
}

func (r *recordingOpener) open(ctx context.Context, _ string, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, pod+"/"+opts.Container)
	if err := r.fail[pod]; err != nil {
		return nil, err
	}
	if r.block[pod] {
		pr, pw := io.Pipe()
		context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) })
		return pr, nil
	}
	return &closeRecorder{Reader: strings.NewReader(pod + "\n"), close: func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.closed[pod] = true
	}}, nil
}

func (r *recordingOpener) count(pod string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.asked {
		if strings.HasPrefix(a, pod+"/") {
			n++
		}
	}
	return n
}

type closeRecorder struct {
	io.Reader
	close func()
}

func (c *closeRecorder) Close() error { c.close(); return nil }

func newRecordingOpener() *recordingOpener {
	return &recordingOpener{closed: map[string]bool{}, fail: map[string]error{}, block: map[string]bool{}}
}

func prefetchTargets(pods ...string) []Target {
	var ts []Target
	for _, p := range pods {
		ts = append(ts, Target{Namespace: "ns", Pod: p, Container: "kserve-container"})
	}
	return ts
}

func TestPrefetchAdoptsOnlyTheSameRequest(t *testing.T) {
	r := newRecordingOpener()
	settings := StreamSettings{Options: corev1.PodLogOptions{}}
	p := StartPrefetch(context.Background(), r.open, nil, prefetchTargets("a", "b", "c", "a"), settings, 2)
	open := p.Opener()
	want := firstRequest(settings.Options, "kserve-container", false, false, false)

	rc, err := open(context.Background(), "ns", "a", &want)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rc); string(b) != "a\n" || r.count("a") != 1 {
		t.Errorf("a: read %q after %d requests, want the prefetched one's", b, r.count("a"))
	}
	_ = rc.Close()
	if r.count("c") != 0 {
		t.Errorf("asked for c beyond the limit of 2")
	}
	// b asked with other options: a request of its own, the prefetched one closed.
	waitFor(t, func() bool { return r.count("b") == 1 }, "the prefetch of b asked")
	other := want
	tail := int64(5)
	other.TailLines = &tail
	rc, err = open(context.Background(), "ns", "b", &other)
	if err != nil {
		t.Fatal(err)
	}
	_ = rc.Close()
	if r.count("b") != 2 {
		t.Errorf("b with other options: %d requests, want 2", r.count("b"))
	}
	waitFor(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.closed["b"]
	}, "the prefetched b closed")
	// Taken once: a second open of a is a request of its own.
	rc, _ = open(context.Background(), "ns", "a", &want)
	_ = rc.Close()
	if r.count("a") != 2 {
		t.Errorf("a opened twice: %d requests, want 2", r.count("a"))
	}
}

func TestPrefetchKeepClosesTheRest(t *testing.T) {
	r := newRecordingOpener()
	p := StartPrefetch(context.Background(), r.open, nil, prefetchTargets("a", "b"), StreamSettings{}, 10)
	closed := func(pod string) func() bool {
		return func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return r.closed[pod]
		}
	}
	p.Keep(prefetchTargets("a"))
	waitFor(t, closed("b"), "the stream not kept closed")
	if closed("a")() {
		t.Errorf("the kept stream was closed before the engine took it")
	}
	p.Close()
	waitFor(t, closed("a"), "the stream not taken closed at the end")
}

func TestPrefetchFailureAsksAgain(t *testing.T) {
	r := newRecordingOpener()
	r.fail["a"] = errors.New("pods \"a\" not found")
	p := StartPrefetch(context.Background(), r.open, nil, prefetchTargets("a"), StreamSettings{}, 10)
	waitFor(t, func() bool { return r.count("a") == 1 }, "the prefetch asked")
	r.mu.Lock()
	delete(r.fail, "a")
	r.mu.Unlock()
	opts := firstRequest(corev1.PodLogOptions{}, "kserve-container", false, false, false)
	rc, err := p.Opener()(context.Background(), "ns", "a", &opts)
	if err != nil {
		t.Fatalf("after a failed prefetch: %v", err)
	}
	_ = rc.Close()
	if r.count("a") != 2 {
		t.Errorf("%d requests, want the failed prefetch and one of its own", r.count("a"))
	}
}

func TestPrefetchedStreamEndsWithTheReadersContext(t *testing.T) {
	r := newRecordingOpener()
	r.block["a"] = true
	p := StartPrefetch(context.Background(), r.open, nil, prefetchTargets("a"), StreamSettings{Follow: true}, 10)
	opts := firstRequest(corev1.PodLogOptions{}, "kserve-container", true, false, false)
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := p.Opener()(ctx, "ns", "a", &opts)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	done := make(chan error, 1)
	go func() {
		_, err := rc.Read(make([]byte, 10))
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("a read of a prefetched stream returned nothing and no error after its reader's context ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("a read of a prefetched stream went on after its reader's context ended")
	}
}

// waitFor polls cond for up to 10 seconds (the prefetched requests run in goroutines).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
	}
}

// logServer serves one log, honouring limitBytes, and counts the requests with and without it.
type logServer struct {
	mu             sync.Mutex
	log            []byte
	limited, whole int
	closed         int
}

func (l *logServer) open(_ context.Context, _ string, _ string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.log
	if opts.LimitBytes != nil {
		l.limited++
		b = b[:min(int64(len(b)), *opts.LimitBytes)]
	} else {
		l.whole++
	}
	return &closeRecorder{Reader: bytes.NewReader(b), close: func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.closed++
	}}, nil
}

func TestPrefetchReadToTheEndHandsOffOnce(t *testing.T) {
	long := bytes.Repeat([]byte("0123456789 a line of the log\n"), 10000) // 290 KB
	for name, tc := range map[string]struct {
		log, bulkLog []byte
		bulk         int // requests over bulk
		wantErr      error
	}{
		"long":            {log: long, bulkLog: long, bulk: 1},
		"short":           {log: long[:1000], bulkLog: long[:1000], bulk: 0},
		"changed between": {log: long, bulkLog: append([]byte("rotated\n"), long...), bulk: 1, wantErr: errLogChanged},
	} {
		t.Run(name, func(t *testing.T) {
			h2, bulk := &logServer{log: tc.log}, &logServer{log: tc.bulkLog}
			p := StartPrefetch(context.Background(), h2.open, bulk.open, prefetchTargets("a"), StreamSettings{}, 10)
			tl := &tail{open: p.Opener(), bulk: bulk.open}
			opts := firstRequest(corev1.PodLogOptions{}, "kserve-container", false, false, false)
			rc, err := tl.openStream(context.Background(), prefetchTargets("a")[0], &opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			_ = rc.Close()
			if !errors.Is(err, tc.wantErr) || (err == nil && !bytes.Equal(got, tc.log)) {
				t.Errorf("read %d bytes of %d, error %v (want %v)", len(got), len(tc.log), err, tc.wantErr)
			}
			waitFor(t, func() bool {
				h2.mu.Lock()
				defer h2.mu.Unlock()
				bulk.mu.Lock()
				defer bulk.mu.Unlock()
				return h2.closed+bulk.closed == h2.limited+h2.whole+bulk.limited+bulk.whole && bulk.whole >= tc.bulk
			}, "every stream closed")
			h2.mu.Lock()
			bulk.mu.Lock()
			defer h2.mu.Unlock()
			defer bulk.mu.Unlock()
			if h2.limited != 1 || h2.whole != 0 || bulk.whole != tc.bulk || bulk.limited != 0 {
				t.Errorf("requests: %d limited and %d whole over HTTP/2 (want 1, 0), %d whole and %d limited over bulk (want %d, 0): the engine handed off again?", h2.limited, h2.whole, bulk.whole, bulk.limited, tc.bulk)
			}
		})
	}
	// A tail reads over the lists' connection only.
	h2, bulk := newRecordingOpener(), newRecordingOpener()
	ten := int64(10)
	q := StartPrefetch(context.Background(), h2.open, bulk.open, prefetchTargets("b"), StreamSettings{Options: corev1.PodLogOptions{TailLines: &ten}}, 10)
	waitFor(t, func() bool { return h2.count("b") == 1 }, "a tail asked over the lists' connection")
	if bulk.count("b") != 0 {
		t.Errorf("a tail asked over a connection of its own")
	}
	q.Close()
}
