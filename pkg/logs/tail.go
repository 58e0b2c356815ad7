package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// StreamOpener opens the log stream of one pod's container: the engine's seam to the API
// server (cluster.LogOpener), which tests feed, cut and count.
type StreamOpener = cluster.LogOpener

// KubeStreams opens streams through the API server's pods/log.
func KubeStreams(kube kubernetes.Interface) StreamOpener { return cluster.KubeLogs(kube) }

// Resume is where a dropped stream picks up: the last timestamp written and how many lines
// carried exactly that timestamp. The kubelet's sinceTime has one-second precision, so a
// resumed request starts at the top of that second and the lines already written are skipped.
type Resume struct {
	TS    time.Time
	Count int
}

// skip tells whether a line at ts was already written before the drop; it consumes the count
// of lines at exactly the last timestamp.
func (r *Resume) skip(ts time.Time, pending *int) bool {
	if r.TS.IsZero() || ts.IsZero() {
		return false
	}
	if ts.Before(r.TS) {
		return true
	}
	if ts.Equal(r.TS) && *pending > 0 {
		*pending--
		return true
	}
	return false
}

// mark records a written line.
func (r *Resume) mark(ts time.Time) {
	if ts.IsZero() {
		return
	}
	if ts.Equal(r.TS) {
		r.Count++
		return
	}
	r.TS, r.Count = ts, 1
}

// tail streams one target until it ends; in follow mode it resumes a dropped stream until
// stop says the instance is gone.
type tail struct {
	open       StreamOpener
	bulk       StreamOpener // the rest of a long read to the end (handoff); nil: all over open
	sink       *Sink
	deployment string
	opts       corev1.PodLogOptions // the user's options
	follow     bool
	stamps     bool        // the output shows timestamps (--timestamps, -o json)
	stop       func() bool // the instance ended or was replaced: do not resume
	idle       func() bool // the instance was replaced or does not run (the pod informer's view)
	onError    func(t Target, err error)
	// notBefore drops lines older than this (history printed them); zero keeps all.
	notBefore time.Time
}

// instanceEnded tells, after a follow stream ended cleanly, whether its instance ended (the
// container exited, or was replaced) rather than the request (an idle timeout, a proxy):
// resuming after an exit would read the next instance's first lines, which its own tail
// prints too. The follower's pod informer says when the instance stopped running (idle); the
// kubelet reports an exit within about a second, so it is given two before the stream is taken
// as still live.
func (tl *tail) instanceEnded(ctx context.Context) bool {
	if tl.idle == nil {
		return false
	}
	for deadline := time.Now().Add(2 * time.Second); ; {
		if tl.idle() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// maxLine bounds one log line held in memory; longer lines are written in pieces of this size.
const maxLine = 4 << 20

func (tl *tail) run(ctx context.Context, t Target, fresh bool) {
	opts := firstRequest(tl.opts, t.Container, tl.follow, tl.stamps, !tl.notBefore.IsZero())
	stamped := opts.Timestamps
	if fresh {
		// A new pod or a restarted container: all of its lines are new.
		opts.TailLines, opts.SinceSeconds, opts.SinceTime = nil, nil, nil
	}
	var res Resume
	backoff := 100 * time.Millisecond
	for {
		n, err := tl.stream(ctx, t, &opts, &res, stamped)
		if n > 0 {
			backoff = 100 * time.Millisecond
		}
		if tl.sink.Err() != nil {
			return // the output failed: reading on would have nowhere to go (the command ends)
		}
		if !tl.follow || ctx.Err() != nil {
			if err != nil && !errors.Is(err, io.EOF) && ctx.Err() == nil {
				tl.onError(t, err)
			}
			return
		}
		if apierrors.IsNotFound(err) || (tl.stop != nil && tl.stop()) {
			return
		}
		// --limit-bytes: the kubelet ends the stream at the limit, and so does following it,
		// as with kubectl logs -f --limit-bytes. Resuming would ask for the start again.
		if tl.opts.LimitBytes != nil && errors.Is(err, io.EOF) {
			return
		}
		if errors.Is(err, io.EOF) && tl.instanceEnded(ctx) {
			return // the watch starts the next instance's own tail
		}
		if err != nil && !errors.Is(err, io.EOF) && !isTransient(err) && n == 0 && backoff >= 2*time.Second {
			tl.onError(t, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 2*time.Second {
			backoff *= 2
		}
		if !res.TS.IsZero() {
			since := metav1.NewTime(res.TS.Truncate(time.Second))
			opts.SinceTime, opts.SinceSeconds, opts.TailLines, opts.LimitBytes = &since, nil, nil, nil
		}
	}
}

// firstRequest is the options of a stream's first request, from the user's: its container,
// follow, and timestamps when something reads them: the output (stamps), a followed stream's
// resuming, the cut between history and live (cut). A read to the end without them moves 40%
// fewer bytes through the kubelet and the API server (a line of 70 bytes has 31 of
// timestamp), as kubectl logs asks. --limit-bytes counts the bytes the user sees: then only
// when shown.
func firstRequest(user corev1.PodLogOptions, container string, follow, stamps, cut bool) corev1.PodLogOptions {
	opts := user
	opts.Container = container
	opts.Timestamps = stamps || (opts.LimitBytes == nil && (follow || cut))
	opts.Follow = follow
	return opts
}

func isTransient(err error) bool {
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err)
}

// stream makes one request and writes its lines; it returns how many it wrote.
func (tl *tail) stream(ctx context.Context, t Target, opts *corev1.PodLogOptions, res *Resume, stamped bool) (int, error) {
	rc, err := tl.openStream(ctx, t, opts)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	// A read to the end takes big reads; a followed stream, one of up to hundreds, mostly
	// waits for its next line: kubectl's 4 KiB, longer lines come in pieces (readPiece).
	size := 64 * 1024
	if tl.follow {
		size = 4 * 1024
	}
	// What the batch holds goes out, and a followed stream's output is flushed, before each
	// read of the stream, which may wait for the network: the lines read so far are shown
	// while it waits. Batch and reads are this goroutine's alone.
	batch := tl.sink.Batch()
	var werr error
	br := bufio.NewReaderSize(beforeRead{rc, func() error {
		werr = batch.Write(tl.follow)
		return werr
	}}, size)
	pending := res.Count
	resumeFrom := *res
	n := 0
	// A line longer than maxLine comes in pieces; the pieces after the first carry the first
	// one's timestamp, so that a resumed stream skips all of them, not only the first.
	var cont bool
	var contTS time.Time
	var contRaw string
	// One line, its stream's fields set once: a read to the end passes a million through.
	l := Line{Namespace: t.Namespace, Deployment: tl.deployment, Pod: t.Pod, Component: t.Component, Container: t.Container, Source: "live"}
	// Without timestamps no line is skipped or resumed: what the reader holds goes to the batch
	// a buffer at a time, not a line at a time (Batch.AddLines).
	for {
		if !stamped && !cont {
			if added, err := addBuffered(br, batch, &l, &n); added {
				if err != nil {
					return n, err
				}
				continue
			}
		}
		line, more, err := readPiece(br)
		if werr != nil {
			return n, werr
		}
		// An empty line is a line, as kubectl prints it; an empty piece is not: the nothing
		// after a last newline (io.EOF), or the newline that ends a line split in pieces.
		if len(line) > 0 || more || (err == nil && !cont) {
			ts, raw, msg := time.Time{}, "", line
			switch {
			case cont:
				ts, raw = contTS, contRaw
			case stamped:
				ts, raw, msg = splitTimestamp(line)
			}
			cont, contTS, contRaw = more, ts, raw
			early := !tl.notBefore.IsZero() && !ts.IsZero() && ts.Before(tl.notBefore)
			if !early && !resumeFrom.skip(ts, &pending) {
				l.Timestamp, l.RawTS, l.Message = ts, raw, msg
				batch.Add(&l)
				res.mark(ts)
				n++
			}
		}
		if err != nil || batch.Len() >= batchMax {
			if werr = batch.Write(tl.follow && err != nil); werr != nil {
				return n, werr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, io.EOF
			}
			return n, err
		}
	}
}

// openStream makes the request; a long read to the end hands off to a connection of its own
// (handoff.go).
func (tl *tail) openStream(ctx context.Context, t Target, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
	rc, err := tl.open(ctx, t.Namespace, t.Pod, opts)
	if err != nil || tl.bulk == nil || !handoffApplies(opts) {
		return rc, err
	}
	if ho, ok := rc.(interface{ handsOffAlready() bool }); ok && ho.handsOffAlready() {
		return rc, nil // a prefetched read to the end (Prefetch)
	}
	same := *opts
	return newHandoff(ctx, rc, func(ctx context.Context) (io.ReadCloser, error) { return tl.bulk(ctx, t.Namespace, t.Pod, &same) }), nil
}

// addBuffered adds the complete lines that br holds to the batch, counting them in n, and
// writes the batch once it is full; added is false when br holds none (the next read is
// readPiece's).
func addBuffered(br *bufio.Reader, batch *Batch, l *Line, n *int) (added bool, err error) {
	buffered, _ := br.Peek(br.Buffered())
	end := bytes.LastIndexByte(buffered, '\n')
	if end < 0 {
		return false, nil
	}
	used, lines := batch.AddLines(l, buffered[:end+1])
	_, _ = br.Discard(used)
	*n += lines
	if batch.Len() >= batchMax {
		err = batch.Write(false)
	}
	return used > 0, err
}

// beforeRead calls before ahead of each read of r; its error ends the reading.
type beforeRead struct {
	r      io.Reader
	before func() error
}

func (b beforeRead) Read(p []byte) (int, error) {
	if err := b.before(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

// readLine reads one line without its newline. A line longer than maxLine comes back in
// pieces; a last line without a newline comes back with io.EOF.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, _, err := readPiece(br)
	return line, err
}

// readPiece is readLine that also says when the piece is not the end of its line (more).
func readPiece(br *bufio.Reader) (piece []byte, more bool, err error) {
	line, err := br.ReadSlice('\n')
	if err == nil {
		return line[:len(line)-1], false, nil
	}
	if !errors.Is(err, bufio.ErrBufferFull) {
		return append([]byte(nil), line...), false, err
	}
	buf := append([]byte(nil), line...)
	for len(buf) < maxLine {
		line, err = br.ReadSlice('\n')
		buf = append(buf, line...)
		if err == nil {
			return buf[:len(buf)-1], false, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return buf, false, err
		}
	}
	return buf, true, nil
}

// splitTimestamp splits the RFC3339Nano timestamp the API server puts before each line.
func splitTimestamp(line []byte) (time.Time, string, []byte) {
	sp := bytes.IndexByte(line, ' ')
	if sp < 20 || sp > 40 {
		return time.Time{}, "", line
	}
	ts, err := time.Parse(time.RFC3339Nano, string(line[:sp]))
	if err != nil {
		return time.Time{}, "", line
	}
	return ts, string(line[:sp]), line[sp+1:]
}
