package inspect

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
)

// now is the fixtures' clock in these tests.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// clientsOf serves a scenario from client-go's fakes, as the gatherer reads a cluster: its
// objects through the clientsets, its logs through the log seam. It returns the snapshot the
// scenario stands for too.
func clientsOf(t *testing.T, sc fixtures.Scenario) (*cluster.Clients, *state.Snapshot) {
	t.Helper()
	snap := sc.Snapshot(now)
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: snap.Namespace}}}
	for i := range snap.Pods {
		objs = append(objs, &snap.Pods[i])
	}
	for i := range snap.Events {
		objs = append(objs, &snap.Events[i])
	}
	if snap.Deployment != nil {
		objs = append(objs, snap.Deployment)
	}
	var dyn []runtime.Object
	if snap.ISVC != nil {
		dyn = append(dyn, snap.ISVC)
	}
	kinds := map[schema.GroupVersionResource]string{cluster.ISVCResource: "InferenceServiceList", state.RevisionResource: "RevisionList", state.PodAutoscalerResource: "PodAutoscalerList"}
	c := &cluster.Clients{Kube: fake.NewClientset(objs...), Dyn: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), kinds, dyn...),
		Logs: scenarioLogs{sc}.open}
	return c, snap
}

// scenarioLogs serves a scenario's container logs as the kubelet does: the last TailLines,
// a timestamp in front when asked, 400 for an instance that has no log.
type scenarioLogs struct{ sc fixtures.Scenario }

func (s scenarioLogs) open(_ context.Context, _, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	lines := s.sc.LogLines(pod, opts.Container, opts.Previous)
	if lines == nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", opts.Container, pod))
	}
	if opts.TailLines != nil && int64(len(lines)) > *opts.TailLines {
		lines = lines[int64(len(lines))-*opts.TailLines:]
	}
	var b strings.Builder
	for i, l := range lines {
		if opts.Timestamps {
			b.WriteString(now.Add(time.Duration(i-len(lines))*time.Second).Format(time.RFC3339Nano) + " ")
		}
		b.WriteString(l + "\n")
	}
	return io.NopCloser(strings.NewReader(b.String())), nil
}

// fakeHistory is a history source holding lines in time order; err fails every read.
type fakeHistory struct {
	lines []history.Line
	err   error
	mu    sync.Mutex
	asked []history.Query
}

func (f *fakeHistory) open() (history.Source, error) { return f, nil }

func (f *fakeHistory) ask(q history.Query) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, q)
}

func (f *fakeHistory) matching(q history.Query) []history.Line {
	var out []history.Line
	for _, l := range f.lines {
		inWindow := (q.Since.IsZero() || !l.Timestamp.Before(q.Since)) && (q.Until.IsZero() || l.Timestamp.Before(q.Until))
		if inWindow && oneOf(l.Component, q.Components) && oneOf(l.Container, q.Containers) {
			out = append(out, l)
		}
	}
	return out
}

// oneOf tells whether v is in the query's list; an empty list takes all.
func oneOf(v string, list []string) bool {
	return len(list) == 0 || slices.Contains(list, v)
}

func (f *fakeHistory) Stream(_ context.Context, q history.Query, fn func(history.Line) error) error {
	f.ask(q)
	if f.err != nil {
		return f.err
	}
	for _, l := range f.matching(q) {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeHistory) Tail(_ context.Context, q history.Query, n int) ([]history.Line, error) {
	f.ask(q)
	if f.err != nil {
		return nil, f.err
	}
	m := f.matching(q)
	if len(m) > n {
		m = m[len(m)-n:]
	}
	return m, nil
}

func (f *fakeHistory) Deployments(context.Context, string) ([]history.Seen, error) {
	return nil, f.err
}

// historyLines are n lines of the predictor's main container, one a minute up to at.
func historyLines(n int, at time.Time) []history.Line {
	var out []history.Line
	for i := range n {
		ts := at.Add(time.Duration(i-n+1) * time.Minute)
		out = append(out, history.Line{Timestamp: ts, RawTS: ts.Format(time.RFC3339Nano), Message: fmt.Sprintf("history line %d", i),
			Component: state.ComponentPredictor, Container: state.ContainerMain, Pod: "gone-pod"})
	}
	return out
}

// syncBuffer is a buffer that the engine's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
