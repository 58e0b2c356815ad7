package logs

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// syncBuffer is a buffer that goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

// eventually polls cond for up to five seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func newTestEngine(kube *fake.Clientset, f *fakeLogs, out, errOut *syncBuffer, follow bool, max int) *Engine {
	tail := int64(-1)
	opts := corev1.PodLogOptions{}
	if tail >= 0 {
		opts.TailLines = &tail
	}
	return &Engine{Kube: kube, Open: f.open, Namespace: "ns", Deployment: "fraud", LabelSelector: "serving.hops.works/name=fraud",
		Selection: Selection{Containers: map[string]bool{"kserve-container": true}}, Options: opts, Following: follow,
		MaxRequests: max, Sink: NewSink(out, SinkOptions{Prefix: true}), ErrOut: errOut, Grace: 20 * time.Millisecond}
}

// follow runs e.Follow until the returned stop is called (once or more); stop fails the
// test if Follow returned an error.
func follow(t *testing.T, e *Engine) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Follow(ctx, nil) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
}

// Without -f, every target is read once, never more than --max-log-requests at a time, and
// the bound is announced once.
func TestRunReadsEveryStreamWithinTheRequestBound(t *testing.T) {
	f := newFakeLogs()
	var pods []corev1.Pod
	for i := range 12 {
		name := fmt.Sprintf("fraud-predictor-%02d", i)
		pods = append(pods, *testPod(name, "predictor", 0, "kserve-container"))
		for j := range 50 {
			f.append(name, "kserve-container", t0.Add(time.Duration(j)*time.Millisecond), fmt.Sprintf("line %d of %s", j, name))
		}
	}
	var out, errOut syncBuffer
	e := newTestEngine(fake.NewClientset(), f, &out, &errOut, false, 3)
	if err := e.Run(context.Background(), pods); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 600 {
		t.Errorf("%d lines, want 600", got)
	}
	if p := f.peak.Load(); p > 3 {
		t.Errorf("%d streams at once, bound 3", p)
	}
	if strings.Count(errOut.String(), "exceed --max-log-requests=3") != 1 {
		t.Errorf("the bound is not announced once: %q", errOut.String())
	}
}

// A stream cut in the middle of lines that share one timestamp (and one second) resumes from
// the top of that second and prints every line once.
func TestFollowResumesACutStreamWithoutLossOrDuplicate(t *testing.T) {
	f := newFakeLogs()
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	f.append(pod.Name, "kserve-container", t0, "a1", "a2", "a3") // three lines, one timestamp
	kube := fake.NewClientset(pod)
	var out, errOut syncBuffer
	e := newTestEngine(kube, f, &out, &errOut, true, 10)
	e.Sink = NewSink(&out, SinkOptions{})
	stop := follow(t, e)
	eventually(t, "the first lines", func() bool { return strings.Count(out.String(), "\n") == 3 })
	f.cut()
	eventually(t, "the first resume", func() bool { return f.opens.Load() == 2 })
	f.append(pod.Name, "kserve-container", t0, "a4")
	f.append(pod.Name, "kserve-container", t0.Add(500*time.Millisecond), "b1")
	eventually(t, "the lines after the first cut", func() bool { return strings.Contains(out.String(), "b1") })
	f.cut()
	eventually(t, "the second resume", func() bool { return f.opens.Load() == 3 })
	f.append(pod.Name, "kserve-container", t0.Add(2*time.Second), "c1")
	eventually(t, "the lines after the cuts", func() bool { return strings.Contains(out.String(), "c1") })
	stop()
	if got, want := out.String(), "a1\na2\na3\na4\nb1\nc1\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
	if f.opens.Load() < 3 {
		t.Errorf("%d requests: the cuts were not resumed; stderr %q; requests %+v", f.opens.Load(), errOut.String(), f.requests)
	}
	// The resumed requests ask from the top of the last second written, with timestamps.
	for _, r := range f.requests[1:] {
		if r.SinceTime == nil || !r.Timestamps || r.TailLines != nil {
			t.Errorf("resume request %+v", r)
		}
	}
}

// With -f, a pod that appears is followed from its first line, a restarted container's new
// instance too, and a deleted pod's streams end after the grace period.
func TestFollowPicksUpNewPodsRestartsAndRetiresDeletedPods(t *testing.T) {
	f := newFakeLogs()
	a := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	f.append(a.Name, "kserve-container", t0, "a old 1", "a old 2")
	kube := fake.NewClientset(a)
	var out, errOut syncBuffer
	e := newTestEngine(kube, f, &out, &errOut, true, 10)
	tail := int64(1)
	e.Options.TailLines = &tail // the user's --tail applies to the pods there at the start only
	stop := follow(t, e)
	defer stop()
	eventually(t, "pod a's stream", func() bool { return f.active.Load() == 1 })

	b := testPod("fraud-predictor-b", "predictor", 0, "kserve-container")
	f.append(a.Name, "kserve-container", t0.Add(time.Second), "a old 3")
	f.append(b.Name, "kserve-container", t0, "b 1", "b 2")
	if _, err := kube.CoreV1().Pods("ns").Create(t.Context(), b, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod b's lines", func() bool { return strings.Contains(out.String(), "b 2") })

	// a's container restarts: a new instance (a new log), followed from its first line.
	eventually(t, "pod a's later line", func() bool { return strings.Contains(out.String(), "a old 3") })
	f.reset(a.Name, "kserve-container", fakeLine{t0.Add(2 * time.Second), "a new 1"})
	a2 := testPod(a.Name, "predictor", 1, "kserve-container")
	a2.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", ContainerID: "containerd://fraud-predictor-a-kserve-container-0"}
	if _, err := kube.CoreV1().Pods("ns").UpdateStatus(t.Context(), a2, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the restart notices", func() bool {
		s := errOut.String()
		return strings.Contains(s, "- fraud-predictor-a kserve-container terminated: Error (exit code 1)") && strings.Contains(s, "+ fraud-predictor-a kserve-container")
	})

	if err := kube.CoreV1().Pods("ns").Delete(t.Context(), b.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion notice", func() bool { return strings.Contains(errOut.String(), "- fraud-predictor-b deleted") })
	// b's stream and a's first instance are retired; a's new instance goes on.
	eventually(t, "retired streams to end", func() bool { return f.active.Load() == 1 })
	stop()
	got := out.String()
	if strings.Contains(got, "a old 1") || !strings.Contains(got, "a old 2") {
		t.Errorf("--tail 1 not applied to the first pod:\n%s", got)
	}
	if !strings.Contains(got, "fraud-predictor-a kserve-container a new 1") {
		t.Errorf("the restarted instance is not read from its first line:\n%s", got)
	}
	if !strings.Contains(got, "fraud-predictor-b kserve-container b 1") {
		t.Errorf("a new pod is not read from its first line:\n%s", got)
	}
	if !strings.Contains(errOut.String(), "+ fraud-predictor-b kserve-container") {
		t.Errorf("no notice for the new pod: %q", errOut.String())
	}
}

// A failing first list is the command's error, as kubectl's is.
func TestFollowFailsWhenPodsCannotBeListed(t *testing.T) {
	kube := fake.NewClientset()
	kube.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", fmt.Errorf("no"))
	})
	var out, errOut syncBuffer
	e := newTestEngine(kube, newFakeLogs(), &out, &errOut, true, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Follow(ctx, nil); !apierrors.IsForbidden(err) {
		t.Fatalf("err %v, want forbidden", err)
	}
}

// -f --limit-bytes stops following a container at the limit instead of asking for its log
// again and again.
func TestFollowStopsAtTheByteLimit(t *testing.T) {
	f := newFakeLogs()
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	f.append(pod.Name, "kserve-container", t0, "0123456789", "abcdefghij", "more")
	var out, errOut syncBuffer
	e := newTestEngine(fake.NewClientset(pod), f, &out, &errOut, true, 10)
	e.Sink = NewSink(&out, SinkOptions{})
	limit := int64(15)
	e.Options.LimitBytes = &limit
	stop := follow(t, e)
	eventually(t, "the limited stream to end", func() bool { return f.opens.Load() == 1 && f.active.Load() == 0 })
	time.Sleep(300 * time.Millisecond) // a resume would come after 100 ms
	stop()
	if n := f.opens.Load(); n != 1 {
		t.Errorf("%d requests: the limit was asked for again", n)
	}
	if got := out.String(); got != "0123456789\nabcd\n" {
		t.Errorf("output %q", got)
	}
}

// A line longer than the 4 MiB cap comes in pieces; when the stream is cut after it, the
// resumed stream skips every piece, not only the first.
func TestResumeAfterALongLineSkipsAllItsPieces(t *testing.T) {
	f := newFakeLogs()
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	long := strings.Repeat("x", 9<<20) // three pieces
	f.append(pod.Name, "kserve-container", t0, "before", long)
	var out, errOut syncBuffer
	e := newTestEngine(fake.NewClientset(pod), f, &out, &errOut, true, 10)
	e.Sink = NewSink(&out, SinkOptions{})
	stop := follow(t, e)
	eventually(t, "the long line", func() bool { return len(out.String()) > 9<<20 })
	f.cut()
	eventually(t, "the resume", func() bool { return f.opens.Load() == 2 })
	f.append(pod.Name, "kserve-container", t0.Add(time.Second), "after")
	eventually(t, "the line after", func() bool { return strings.HasSuffix(out.String(), "after\n") })
	stop()
	if got, want := len(out.String()), len("before\n")+len(long)+3+len("after\n"); got != want {
		t.Errorf("%d bytes printed, want %d (the long line once, in three pieces)", got, want)
	}
}

// A container that exits and restarts at once: the old instance's stream ends, and the log
// endpoint serves the new instance before the pod's status says so. The old tail must not
// resume into the new instance, whose own tail prints its lines: each line once.
func TestRestartWhileFollowedPrintsEachLineOnce(t *testing.T) {
	f := newFakeLogs()
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	f.append(pod.Name, "kserve-container", t0, "first life")
	kube := fake.NewClientset(pod)
	var out, errOut syncBuffer
	e := newTestEngine(kube, f, &out, &errOut, true, 10)
	e.Sink = NewSink(&out, SinkOptions{})
	stop := follow(t, e)
	eventually(t, "the first life", func() bool { return strings.Contains(out.String(), "first life") })

	f.reset(pod.Name, "kserve-container", fakeLine{t0.Add(2 * time.Second), "second life 1"}, fakeLine{t0.Add(2 * time.Second), "second life 2"})
	f.end()                            // the first instance exited
	time.Sleep(600 * time.Millisecond) // the status lags behind the log
	restarted := testPod(pod.Name, "predictor", 1, "kserve-container")
	restarted.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error",
		ContainerID: "containerd://fraud-predictor-a-kserve-container-0"}
	if _, err := kube.CoreV1().Pods("ns").UpdateStatus(t.Context(), restarted, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second life", func() bool { return strings.Contains(out.String(), "second life 2") })
	time.Sleep(300 * time.Millisecond)
	stop()
	if got, want := out.String(), "first life\nsecond life 1\nsecond life 2\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// A watch that expires (410 Gone, after a compaction or a long disconnect) is followed by a
// new list, not by the end of following: a pod created meanwhile is still picked up.
func TestFollowRelistsAfterAnExpiredWatch(t *testing.T) {
	f := newFakeLogs()
	a := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	f.append(a.Name, "kserve-container", t0, "a")
	kube := fake.NewClientset(a)
	expired := watch.NewFake()
	var watches atomic.Int64
	kube.PrependWatchReactor("pods", func(action k8stesting.Action) (bool, watch.Interface, error) {
		if watches.Add(1) == 1 {
			return true, expired, nil
		}
		return false, nil, nil // the tracker's own watch from then on
	})
	var out, errOut syncBuffer
	e := newTestEngine(kube, f, &out, &errOut, true, 10)
	stop := follow(t, e)
	defer stop()
	eventually(t, "pod a's stream", func() bool { return f.active.Load() == 1 })
	// Pod b appears while the watch is stale, then the watch expires.
	b := testPod("fraud-predictor-b", "predictor", 0, "kserve-container")
	f.append(b.Name, "kserve-container", t0, "b after the expiry")
	if err := kube.Tracker().Add(b); err != nil {
		t.Fatal(err)
	}
	expired.Error(&metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired, Message: "too old resource version"})
	eventually(t, "pod b after the re-list", func() bool { return strings.Contains(out.String(), "b after the expiry") })
	stop()
	if watches.Load() < 2 {
		t.Errorf("%d watches: no new watch after the expiry", watches.Load())
	}
}

// failingWriter is an output that fails (a full disk).
type failingWriter struct{ writes atomic.Int64 }

func (w *failingWriter) Write([]byte) (int, error) {
	w.writes.Add(1)
	return 0, fmt.Errorf("write /dev/stdout: no space left on device")
}

// A failing output ends a follow with its error, and the streams are not reopened for ever.
func TestFollowEndsWhenTheOutputFails(t *testing.T) {
	f := newFakeLogs()
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	f.append(pod.Name, "kserve-container", t0, "a1")
	var out, errOut syncBuffer
	e := newTestEngine(fake.NewClientset(pod), f, &out, &errOut, true, 10)
	w := &failingWriter{}
	e.Sink = NewSink(w, SinkOptions{})
	done := make(chan error, 1)
	go func() { done <- e.Follow(context.Background(), nil) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no space left") {
			t.Errorf("Follow ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Follow goes on after its output failed (%d streams opened, %d writes)", f.opens.Load(), w.writes.Load())
	}
	if n := f.opens.Load(); n > 2 {
		t.Errorf("%d streams opened for a failed output", n)
	}
}

// A deleted pod's streams and announced terminations are forgotten: a long follow of pods
// replaced every minute does not grow with every pod it saw.
func TestFollowerForgetsDeletedPods(t *testing.T) {
	f := newFollower(context.Background(), &Engine{MaxRequests: 1, Grace: time.Millisecond})
	f.announced["ns/gone/kserve-container"] = "containerd://1"
	f.announced["ns/kept/kserve-container"] = "containerd://2"
	f.remove(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "gone"}})
	if _, ok := f.announced["ns/gone/kserve-container"]; ok || len(f.announced) != 1 {
		t.Errorf("announced after the delete: %v", f.announced)
	}
}

// Without -f, a stream that cannot be opened is said in its place and counted; the other
// streams are read whole.
func TestRunCountsTheStreamsThatFailed(t *testing.T) {
	f := newFakeLogs()
	good := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	bad := testPod("fraud-predictor-b", "predictor", 0, "kserve-container")
	f.append(good.Name, "kserve-container", t0, "a1", "a2")
	f.fail(bad.Name, apierrors.NewForbidden(corev1.Resource("pods/log"), bad.Name, fmt.Errorf("no")))
	var out, errOut syncBuffer
	e := newTestEngine(fake.NewClientset(), f, &out, &errOut, false, 5)
	if err := e.Run(context.Background(), []corev1.Pod{*good, *bad}); err != nil {
		t.Fatal(err)
	}
	if err := e.Sink.Flush(); err != nil {
		t.Fatal(err)
	}
	if e.Errors() != 1 || !strings.Contains(out.String(), "a2") || !strings.Contains(errOut.String(), bad.Name) {
		t.Errorf("errors %d, out %q, stderr %q", e.Errors(), out.String(), errOut.String())
	}
}

// A follow starts the streams of the pods it is handed before the informer's first list: the
// list then finds them streaming (each line once), and ends the stream of a handed pod it no
// longer has.
func TestFollowStartsHandedPodsAndDropsTheGoneOnes(t *testing.T) {
	f := newFakeLogs()
	kept := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	gone := testPod("fraud-predictor-b", "predictor", 0, "kserve-container")
	f.append(kept.Name, "kserve-container", t0, "a1", "a2")
	f.append(gone.Name, "kserve-container", t0, "b1")
	var out, errOut syncBuffer
	e := newTestEngine(fake.NewClientset(kept), f, &out, &errOut, true, 10)
	e.Sink = NewSink(&out, SinkOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Follow(ctx, []corev1.Pod{*kept, *gone}) }()
	eventually(t, "both handed pods' lines", func() bool { return strings.Count(out.String(), "\n") == 3 })
	f.append(kept.Name, "kserve-container", t0.Add(time.Second), "a3")
	f.append(gone.Name, "kserve-container", t0.Add(time.Second), "b2")
	eventually(t, "the kept pod's next line", func() bool { return strings.Contains(out.String(), "a3") })
	time.Sleep(100 * time.Millisecond) // past the grace period of the gone pod's stream
	f.append(gone.Name, "kserve-container", t0.Add(2*time.Second), "b3")
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"a1", "a2", "a3", "b1"} {
		if strings.Count(out.String(), l+"\n") != 1 {
			t.Errorf("%s not printed once: %q", l, out.String())
		}
	}
	if strings.Contains(out.String(), "b3") {
		t.Errorf("the gone pod's stream went on after the list: %q", out.String())
	}
}

// A read asks the kubelet for timestamps only when something reads them: the output
// (--timestamps, -o json) or the cut between history and live; a plain read to the end
// moves its lines without them, as kubectl logs does. Each output has the lines it asked.
func TestReadAsksTimestampsOnlyWhenSomethingReadsThem(t *testing.T) {
	pod := testPod("fraud-predictor-a", "predictor", 0, "kserve-container")
	for _, c := range []struct {
		name   string
		sink   SinkOptions
		cut    bool // history printed lines up to t0: only later ones are live
		stamps bool
		want   string
	}{
		{name: "plain", sink: SinkOptions{}, want: "a1\na2\n"},
		{name: "--timestamps", sink: SinkOptions{Timestamps: true}, stamps: true, want: "2026-11-25T10:00:00Z a1\n2026-11-25T10:00:01Z a2\n"},
		{name: "-o json", sink: SinkOptions{Format: "json"}, stamps: true, want: `"timestamp":"2026-11-25T10:00:01Z"`},
		{name: "after history", sink: SinkOptions{}, cut: true, stamps: true, want: "a2\n"},
	} {
		f := newFakeLogs()
		f.append(pod.Name, "kserve-container", t0, "a1")
		f.append(pod.Name, "kserve-container", t0.Add(time.Second), "a2")
		var out, errOut syncBuffer
		e := newTestEngine(fake.NewClientset(), f, &out, &errOut, false, 10)
		e.Sink = NewSink(&out, c.sink)
		if c.cut {
			e.NotBefore = t0.Add(time.Second)
		}
		if err := e.Run(context.Background(), []corev1.Pod{*pod}); err != nil {
			t.Fatal(err)
		}
		if len(f.requests) != 1 || f.requests[0].Timestamps != c.stamps {
			t.Errorf("%s: requests %+v, want one with timestamps %v", c.name, f.requests, c.stamps)
		}
		if !strings.Contains(out.String(), c.want) {
			t.Errorf("%s: output %q, want %q", c.name, out.String(), c.want)
		}
	}
}
