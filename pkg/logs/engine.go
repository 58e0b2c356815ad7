package logs

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// Engine streams the logs of a deployment's selected pods and containers.
type Engine struct {
	Kube       kubernetes.Interface
	Namespace  string
	Deployment string
	// LabelSelector finds the deployment's pods (for the follow watch).
	LabelSelector string
	Selection     Selection
	Options       corev1.PodLogOptions // tail, since, previous, limit-bytes
	Following     bool
	MaxRequests   int
	Sink          *Sink
	ErrOut        io.Writer
	// Grace is how long a deleted pod's or replaced container's stream may drain.
	Grace time.Duration

	warned atomic.Bool
	errs   atomic.Int64
}

// Errors counts the streams that failed.
func (e *Engine) Errors() int64 { return e.errs.Load() }

func (e *Engine) onError(t Target, err error) {
	e.errs.Add(1)
	Notice(e.ErrOut, "%s %s: %s", t.Pod, t.Container, oneLine(err))
}

func oneLine(err error) string { return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ") }

func (e *Engine) newTail(stop func() bool) *tail {
	return &tail{kube: e.Kube, sink: e.Sink, deployment: e.Deployment, opts: e.Options, follow: e.Following, stamps: e.Sink.opts.Timestamps, stop: stop, onError: e.onError}
}

// slots bounds concurrent streams; past the bound it warns once and queues.
type slots chan struct{}

func (e *Engine) acquire(ctx context.Context, s slots, want int) bool {
	select {
	case s <- struct{}{}:
		return true
	default:
	}
	if e.warned.CompareAndSwap(false, true) {
		Notice(e.ErrOut, "warning: %d streams exceed --max-log-requests=%d: the others wait for a free slot", want, cap(s))
	}
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

// Run streams the current logs of pods once (no follow) and returns when all are read.
func (e *Engine) Run(ctx context.Context, pods []corev1.Pod) error {
	var targets []Target
	for i := range pods {
		for _, t := range e.Selection.Targets(&pods[i]) {
			if t.ContainerID == "" && !e.Options.Previous {
				Notice(e.ErrOut, "%s %s: not started yet (%s)", t.Pod, t.Container, waitingReason(&pods[i], t.Container))
				continue
			}
			targets = append(targets, t)
		}
	}
	s := make(slots, max(e.MaxRequests, 1))
	var wg sync.WaitGroup
	for _, t := range targets {
		if !e.acquire(ctx, s, len(targets)) {
			break
		}
		wg.Add(1)
		go func(t Target) {
			defer wg.Done()
			defer func() { <-s }()
			e.newTail(nil).run(ctx, t, false)
		}(t)
	}
	wg.Wait()
	return e.Sink.Flush()
}

func waitingReason(p *corev1.Pod, container string) string {
	for _, cs := range state.ContainerStatuses(p) {
		if cs.Name == container && cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
			return "waiting: " + cs.State.Waiting.Reason
		}
	}
	return "waiting"
}

// stream is one running tail in follow mode.
type stream struct {
	id       string
	cancel   context.CancelFunc
	replaced atomic.Bool // a newer instance of the container exists, or the pod is gone
	ended    atomic.Bool // the instance terminated
}

// Follow streams pods and keeps going: a pod watch (resumed across reconnects) starts a
// stream for every new pod and restarted container, ends streams of deleted pods, and says
// on stderr when a container dies. It returns when ctx ends.
func (e *Engine) Follow(ctx context.Context) error {
	list, err := e.Kube.CoreV1().Pods(e.Namespace).List(ctx, metav1.ListOptions{LabelSelector: e.LabelSelector})
	if err != nil {
		return err
	}
	grace := e.Grace
	if grace == 0 {
		grace = 2 * time.Second
	}
	s := make(slots, max(e.MaxRequests, 1))
	var mu sync.Mutex
	running := map[string]*stream{}
	announced := map[string]string{} // target key -> last termination ID announced
	var wg sync.WaitGroup
	var total atomic.Int64

	start := func(t Target, fresh bool) {
		sctx, cancel := context.WithCancel(ctx)
		st := &stream{id: t.ContainerID, cancel: cancel}
		running[t.Key()] = st
		total.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cancel()
			if !e.acquire(sctx, s, int(total.Load())) {
				return
			}
			defer func() { <-s }()
			e.newTail(func() bool { return st.replaced.Load() || st.ended.Load() }).run(sctx, t, fresh)
		}()
	}
	retire := func(st *stream) {
		st.replaced.Store(true)
		time.AfterFunc(grace, st.cancel)
	}
	update := func(p *corev1.Pod, initial bool) {
		mu.Lock()
		defer mu.Unlock()
		statuses := map[string]corev1.ContainerStatus{}
		for _, cs := range state.ContainerStatuses(p) {
			statuses[cs.Name] = cs
		}
		for _, t := range e.Selection.Targets(p) {
			cs := statuses[t.Container]
			if id, text := Termination(cs); id != "" && announced[t.Key()] != id {
				announced[t.Key()] = id
				if !initial {
					Notice(e.ErrOut, "- %s %s terminated: %s", t.Pod, t.Container, text)
				}
			}
			if t.ContainerID == "" {
				continue // not started: a later event brings its ID
			}
			cur := running[t.Key()]
			if cur != nil && cur.id == t.ContainerID {
				cur.ended.Store(cs.State.Terminated != nil)
				continue
			}
			if cur != nil {
				retire(cur)
			}
			if !initial {
				Notice(e.ErrOut, "+ %s %s", t.Pod, t.Container)
			}
			start(t, !initial)
		}
	}
	remove := func(p *corev1.Pod) {
		mu.Lock()
		defer mu.Unlock()
		prefix := p.Namespace + "/" + p.Name + "/"
		for k, st := range running {
			if strings.HasPrefix(k, prefix) {
				retire(st)
				delete(running, k)
			}
		}
	}
	for i := range list.Items {
		update(&list.Items[i], true)
	}
	rw, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFunc: func(o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = e.LabelSelector
			return e.Kube.CoreV1().Pods(e.Namespace).Watch(ctx, o)
		},
	})
	if err != nil {
		return err
	}
	defer rw.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case ev, ok := <-rw.ResultChan():
			if !ok {
				break loop
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod {
				if ev.Type == watch.Error {
					Notice(e.ErrOut, "warning: pod watch: %v", fmt.Sprint(ev.Object))
				}
				continue
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				update(p, false)
			case watch.Deleted:
				if e.Selection.Wants(p) {
					Notice(e.ErrOut, "- %s deleted", p.Name)
				}
				remove(p)
			}
		}
	}
	wg.Wait()
	return e.Sink.Flush()
}
