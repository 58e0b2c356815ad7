package logs

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Engine streams the logs of a deployment's selected pods and containers.
type Engine struct {
	Kube kubernetes.Interface
	// Open opens one stream; nil means the API server's pods/log through Kube.
	Open StreamOpener
	// Bulk opens the rest of a long read to the end over a connection of its own (HTTP/1.1,
	// handoff.go); nil reads all of it over Open.
	Bulk       StreamOpener
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
	// NotBefore drops live lines older than this (history printed them).
	NotBefore time.Time

	warned atomic.Bool
	errs   atomic.Int64
}

// Errors counts the streams that failed.
func (e *Engine) Errors() int64 { return e.errs.Load() }

func (e *Engine) onError(t Target, err error) {
	e.errs.Add(1)
	Notice(e.ErrOut, "%s %s: %s", t.Pod, t.Container, term.OneLine(err))
}

func (e *Engine) opener() StreamOpener {
	if e.Open != nil {
		return e.Open
	}
	return KubeStreams(e.Kube)
}

func (e *Engine) newTail(stop, idle func() bool) *tail {
	return &tail{open: e.opener(), bulk: e.Bulk, idle: idle, notBefore: e.NotBefore, sink: e.Sink, deployment: e.Deployment, opts: e.Options, follow: e.Following, stamps: e.Sink.opts.Timestamps || e.Sink.opts.Format == "json", stop: stop, onError: e.onError}
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

// Targets are the streams that Run, or a follow's start, reads of pods: the selected
// containers that have started (or, with --previous, have an instance before).
func (e *Engine) Targets(pods []corev1.Pod) []Target { return e.targets(pods, nil) }

// targets is Targets, telling notStarted of each selected container that is left out.
func (e *Engine) targets(pods []corev1.Pod, notStarted func(p *corev1.Pod, t Target)) []Target {
	var targets []Target
	for i := range pods {
		for _, t := range e.Selection.Targets(&pods[i]) {
			if t.ContainerID != "" || e.Options.Previous {
				targets = append(targets, t)
			} else if notStarted != nil {
				notStarted(&pods[i], t)
			}
		}
	}
	return targets
}

// Run streams the current logs of pods once (no follow) and returns when all are read.
func (e *Engine) Run(ctx context.Context, pods []corev1.Pod) error {
	targets := e.targets(pods, func(p *corev1.Pod, t Target) {
		Notice(e.ErrOut, "%s %s: not started yet (%s)", t.Pod, t.Container, waitingReason(p, t.Container))
	})
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
			e.newTail(nil, nil).run(ctx, t, false)
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
	idle     atomic.Bool // the instance is not running (terminated, or waiting to restart)
}

// follower keeps one tail running per selected container instance while pods come and go.
type follower struct {
	e     *Engine
	ctx   context.Context
	slots slots
	grace time.Duration

	mu        sync.Mutex
	running   map[string]*stream // target key -> the instance being streamed
	announced map[string]string  // target key -> last termination ID announced
	wg        sync.WaitGroup
	total     atomic.Int64
}

func newFollower(ctx context.Context, e *Engine) *follower {
	grace := e.Grace
	if grace == 0 {
		grace = 2 * time.Second
	}
	return &follower{e: e, ctx: ctx, slots: make(slots, max(e.MaxRequests, 1)), grace: grace,
		running: map[string]*stream{}, announced: map[string]string{}}
}

// start runs a tail for t; fresh says every line of the instance is new (a new pod or a
// restarted container), so the user's tail and since do not apply.
func (f *follower) start(t Target, fresh bool) {
	sctx, cancel := context.WithCancel(f.ctx)
	st := &stream{id: t.ContainerID, cancel: cancel}
	f.running[t.Key()] = st
	f.total.Add(1)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer cancel()
		if !f.e.acquire(sctx, f.slots, int(f.total.Load())) {
			return
		}
		defer func() { <-f.slots }()
		f.e.newTail(func() bool { return st.replaced.Load() || st.ended.Load() },
			func() bool { return st.replaced.Load() || st.idle.Load() }).run(sctx, t, fresh)
	}()
}

// retire lets a replaced or deleted instance's stream drain for the grace period, then ends it.
func (f *follower) retire(st *stream) {
	st.replaced.Store(true)
	time.AfterFunc(f.grace, st.cancel)
}

// update reconciles the streams with a pod's current containers; initial is the first list,
// whose lines obey the user's tail and since.
func (f *follower) update(p *corev1.Pod, initial bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	statuses := map[string]corev1.ContainerStatus{}
	for _, cs := range state.ContainerStatuses(p) {
		statuses[cs.Name] = cs
	}
	for _, t := range f.e.Selection.Targets(p) {
		cs := statuses[t.Container]
		if id, text := Termination(cs); id != "" && f.announced[t.Key()] != id {
			f.announced[t.Key()] = id
			if !initial {
				Notice(f.e.ErrOut, "- %s %s terminated: %s", t.Pod, t.Container, text)
			}
		}
		if t.ContainerID == "" {
			continue // not started: a later event brings its ID
		}
		cur := f.running[t.Key()]
		if cur != nil && cur.id == t.ContainerID {
			cur.ended.Store(cs.State.Terminated != nil)
			cur.idle.Store(cs.State.Running == nil)
			continue
		}
		if cur != nil {
			f.retire(cur)
		}
		if !initial {
			Notice(f.e.ErrOut, "+ %s %s", t.Pod, t.Container)
		}
		f.start(t, !initial)
	}
}

// remove retires every stream of a deleted pod, and forgets its announced terminations
// (a long follow of replaced pods must not grow with every pod it saw).
func (f *follower) remove(p *corev1.Pod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := p.Namespace + "/" + p.Name + "/"
	for k, st := range f.running {
		if strings.HasPrefix(k, prefix) {
			f.retire(st)
			delete(f.running, k)
		}
	}
	for k := range f.announced {
		if strings.HasPrefix(k, prefix) {
			delete(f.announced, k)
		}
	}
}

// keepListed ends the streams of seeded pods that the informer's first list does not have
// (deleted in between: no event will say so).
func (f *follower) keepListed(store cache.Store) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, st := range f.running {
		pod := k[:strings.LastIndexByte(k, '/')] // namespace/pod, the store's key
		if _, ok, _ := store.GetByKey(pod); !ok {
			f.retire(st)
			delete(f.running, k)
		}
	}
}

// podListWatch lists and watches the deployment's pods. Until the first list has synced, a
// failure goes to listErr (it is the command's, as kubectl's is); after, a failed watch is
// said once on stderr, and retried.
func (e *Engine) podListWatch(synced *atomic.Bool, listErr chan<- error) *cache.ListWatch {
	pods := e.Kube.CoreV1().Pods(e.Namespace)
	var watchWarned atomic.Bool
	failed := func(err error) {
		select {
		case listErr <- err:
		default:
		}
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = e.LabelSelector
			l, err := pods.List(ctx, o)
			if err != nil && !synced.Load() {
				failed(err)
			}
			return l, err
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = e.LabelSelector
			w, err := pods.Watch(ctx, o)
			switch {
			case err == nil || ctx.Err() != nil:
			case !synced.Load():
				// The initial list may come through a watch (WatchList): its failure is the
				// command's, as a failed list is.
				failed(err)
			case watchWarned.CompareAndSwap(false, true):
				Notice(e.ErrOut, "warning: pod watch: %s (retrying)", term.OneLine(err))
			}
			return w, err
		},
	}
}

// handler feeds the informer's pod events to the follower.
func (f *follower) handler(synced *atomic.Bool) cache.ResourceEventHandlerDetailedFuncs {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			if p, ok := obj.(*corev1.Pod); ok {
				f.update(p, initial && !synced.Load())
			}
		},
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				f.update(p, false)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			if f.e.Selection.Wants(p) {
				Notice(f.e.ErrOut, "- %s deleted", p.Name)
			}
			f.remove(p)
		},
	}
}

// Follow streams pods and keeps going: an informer on the deployment's pods (it lists, then
// watches from the list's resource version, and lists again when a watch expires) starts a
// stream for every new pod and restarted container, ends streams of deleted pods, and says on
// stderr when a container dies. It returns when ctx ends.
//
// The pods the caller has just read (seed; none is fine) start their streams at once, a round
// trip before the informer's first list comes: that list then finds them streaming, and ends
// the streams of any it no longer has.
func (e *Engine) Follow(ctx context.Context, seed []corev1.Pod) error {
	// A failed output (a full disk, a closed pipe) ends the follow: every stream would
	// otherwise be reopened for ever with nowhere to write.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-e.Sink.Failed():
			cancel()
		case <-ctx.Done():
		}
	}()
	f := newFollower(ctx, e)
	for i := range seed {
		f.update(&seed[i], true)
	}
	var synced atomic.Bool
	listErr := make(chan error, 1)
	store, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: cache.ToListWatcherWithWatchListSemantics(e.podListWatch(&synced, listErr), e.Kube),
		ObjectType:    &corev1.Pod{},
		Handler:       f.handler(&synced),
	})
	ictx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() { defer close(done); informer.RunWithContext(ictx) }()
	// The first list must succeed (a forbidden or unreachable API is an error, as kubectl's is).
	for !informer.HasSynced() {
		select {
		case err := <-listErr:
			stop()
			<-done
			return err
		case <-ctx.Done():
			<-done
			f.wg.Wait()
			return e.Sink.Flush()
		case <-time.After(10 * time.Millisecond):
		}
	}
	synced.Store(true)
	f.keepListed(store)
	<-ctx.Done()
	<-done
	f.wg.Wait()
	return e.Sink.Flush()
}
