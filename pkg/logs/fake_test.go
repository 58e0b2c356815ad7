package logs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeLogs stands in for the kubelet's log endpoint in unit tests: per pod/container, lines
// with timestamps; a request honours sinceTime (to the second, as the kubelet does), tailLines
// and timestamps; with follow it blocks for appended lines until cut or cancelled.
type fakeLogs struct {
	mu    sync.Mutex
	lines map[string][]fakeLine
	// instance counts the container instances (reset starts a new one): a stream reads one
	// instance's log only, as the kubelet serves one container's file.
	instance map[string]int
	changed  chan struct{} // closed and replaced on every append or cut
	cutGen   int
	clean    bool // the last cut was a clean end
	opens    atomic.Int64
	active   atomic.Int64
	peak     atomic.Int64
	requests []corev1.PodLogOptions
	failing  map[string]error // pod -> the error its streams open with
}

type fakeLine struct {
	ts  time.Time
	msg string
}

func newFakeLogs() *fakeLogs {
	return &fakeLogs{lines: map[string][]fakeLine{}, instance: map[string]int{}, changed: make(chan struct{})}
}

func (f *fakeLogs) append(pod, container string, ts time.Time, msgs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := pod + "/" + container
	for _, m := range msgs {
		f.lines[k] = append(f.lines[k], fakeLine{ts, m})
	}
	f.wake()
}

// reset replaces a container's log, as a new instance starts a new one.
func (f *fakeLogs) reset(pod, container string, lines ...fakeLine) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines[pod+"/"+container] = lines
	f.instance[pod+"/"+container]++
	f.wake()
}

// cut drops every open follow stream, as a broken connection would (unexpected EOF).
func (f *fakeLogs) cut() { f.drop(false) }

// end ends every open follow stream cleanly, as the kubelet does when the container exits.
func (f *fakeLogs) end() { f.drop(true) }

func (f *fakeLogs) drop(clean bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cutGen++
	f.clean = clean
	f.wake()
}

// wake tells the open streams that something changed; the caller holds mu.
func (f *fakeLogs) wake() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// fail makes every stream of pod fail to open with err.
func (f *fakeLogs) fail(pod string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing == nil {
		f.failing = map[string]error{}
	}
	f.failing[pod] = err
}

func (f *fakeLogs) open(ctx context.Context, _ string, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	f.mu.Lock()
	err := f.failing[pod]
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	f.opens.Add(1)
	n := f.active.Add(1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	f.mu.Lock()
	f.requests = append(f.requests, *opts)
	gen := f.cutGen
	inst := f.instance[pod+"/"+opts.Container]
	f.mu.Unlock()
	pr, pw := io.Pipe()
	go func() {
		defer f.active.Add(-1)
		k := pod + "/" + opts.Container
		sent := 0
		first := true
		for {
			f.mu.Lock()
			all := f.lines[k]
			changed := f.changed
			cutNow := f.cutGen != gen
			clean := f.clean
			replaced := f.instance[k] != inst
			f.mu.Unlock()
			if replaced {
				pw.Close() // the instance's log ended with it
				return
			}
			var out bytes.Buffer
			if first {
				var sel []fakeLine
				for _, l := range all {
					if opts.SinceTime != nil && l.ts.Before(opts.SinceTime.Time.Truncate(time.Second)) {
						continue
					}
					sel = append(sel, l)
				}
				if opts.TailLines != nil && int(*opts.TailLines) < len(sel) {
					sel = sel[len(sel)-int(*opts.TailLines):]
				}
				sent = len(all) - len(sel)
				first = false
			}
			sent = min(sent, len(all))
			for ; sent < len(all); sent++ {
				l := all[sent]
				if opts.Timestamps {
					out.WriteString(l.ts.UTC().Format(time.RFC3339Nano) + " ")
				}
				out.WriteString(l.msg + "\n")
			}
			if opts.LimitBytes != nil && int64(out.Len()) >= *opts.LimitBytes {
				_, _ = pw.Write(out.Bytes()[:*opts.LimitBytes])
				pw.Close()
				return
			}
			if out.Len() > 0 {
				if _, err := pw.Write(out.Bytes()); err != nil {
					return
				}
			}
			if !opts.Follow || cutNow && clean {
				pw.Close()
				return
			}
			if cutNow {
				pw.CloseWithError(io.ErrUnexpectedEOF)
				return
			}
			select {
			case <-ctx.Done():
				pw.CloseWithError(ctx.Err())
				return
			case <-changed:
			}
		}
	}()
	return pr, nil
}

// pod is a running KServe pod of deployment "fraud" with the given containers started.
func testPod(name, component string, restarts int32, containers ...string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)),
			Labels: map[string]string{"serving.hops.works/name": "fraud", "component": component}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c, RestartCount: restarts,
			ContainerID: fmt.Sprintf("containerd://%s-%s-%d", name, c, restarts), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})
	}
	return p
}
