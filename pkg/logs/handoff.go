package logs

import (
	"context"
	"errors"
	"hash/crc32"
	"io"

	corev1 "k8s.io/api/core/v1"
)

// A long read to the end starts over the lists' HTTP/2 connection, where its first line comes
// one round trip after the pods are known, and goes on over an HTTP/1.1 connection of its
// own once the log proves long: over HTTP/2, every read costs a window update that the API
// server reads and answers, on cores it shares with the kubelet (a million lines took 20 to
// 50% more CPU than over HTTP/1.1, docs/benchmarks.md). The second request asks for the same
// bytes from the start; it takes over from the first once its first bytes are the ones
// already written, checked by their checksum. A log that changed between the two (rotated)
// keeps its first stream; after a first request limited to 64 KiB, as a prefetched read to
// the end asks for (prefetch.go), it fails that stream instead (newLimitedHandoff).

// handoffAfter is how far a read goes over its first stream before it opens the second: a
// log shorter than this (a --tail, most pods' logs) costs no connection of its own. What
// the first stream reads until the second answers is read twice: at 256 KiB a million lines
// took 7% longer (docs/benchmarks.md).
var handoffAfter int64 = 64 << 10

// handoffApplies tells whether a request reads the same bytes whenever it is made: from the
// start of one container instance's log, or from a fixed time, to its end, not followed,
// not from the end (--tail) or from now (--since), not cut by --limit-bytes.
func handoffApplies(o *corev1.PodLogOptions) bool {
	return !o.Follow && o.TailLines == nil && o.SinceSeconds == nil && o.LimitBytes == nil
}

// handoff reads a stream, first, until the same request made over bulk takes over.
type handoff struct {
	ctx   context.Context
	limit int64                                        // the first stream was asked for this many bytes (0: all)
	after int64                                        // the second request is made once this many are read
	cur   io.ReadCloser                                // the stream being read
	open  func(context.Context) (io.ReadCloser, error) // the same request over bulk
	read  int64                                        // bytes handed out from cur (the first stream)
	sum   uint32                                       // their CRC-32
	next  chan opened                                  // the second stream, once it answers
	stop  context.CancelFunc                           // cancels the second request
	state int                                          // handoffFirst, handoffOpening or handoffDone
}

const (
	handoffFirst = iota
	handoffOpening
	handoffDone
)

type opened struct {
	rc  io.ReadCloser
	err error
}

func newHandoff(ctx context.Context, first io.ReadCloser, open func(context.Context) (io.ReadCloser, error)) *handoff {
	return &handoff{ctx: ctx, cur: first, open: open, after: handoffAfter}
}

// newLimitedHandoff reads first, a request for the log's first limit bytes, then the same
// request without the limit, made over open once half of those are read, from the bytes
// after them. The first stream cannot go on past its limit: a log that changed in between
// fails the read (errLogChanged).
func newLimitedHandoff(ctx context.Context, first io.ReadCloser, limit int64, open func(context.Context) (io.ReadCloser, error)) *handoff {
	return &handoff{ctx: ctx, cur: first, open: open, limit: limit, after: limit / 2}
}

// errLogChanged ends a limited hand-off whose second stream does not start with the bytes
// already written: the log was rotated, or replaced, between the two requests.
var errLogChanged = errors.New("the log changed while it was read (rotated?): read it again")

func (h *handoff) Read(p []byte) (int, error) {
	if h.state == handoffOpening && h.limit == 0 {
		select {
		case o := <-h.next:
			_ = h.takeOver(o) // if not, the first stream goes on
		default:
		}
	}
	n, err := h.cur.Read(p)
	if h.state == handoffDone {
		return n, err
	}
	h.read += int64(n)
	h.sum = crc32.Update(h.sum, crc32.IEEETable, p[:n])
	switch {
	case errors.Is(err, io.EOF) && h.limit > 0 && h.read >= h.limit:
		return n, h.afterLimit() // the first stream ended at its limit: the second goes on
	case err != nil:
		h.abandon() // the first stream ended (or failed) before the second answered
	case h.state == handoffFirst && h.read >= h.after:
		h.openSecond()
	}
	return n, err
}

// openSecond makes the second request.
func (h *handoff) openSecond() {
	h.state = handoffOpening
	ctx, cancel := context.WithCancel(h.ctx)
	h.stop, h.next = cancel, make(chan opened, 1)
	go func() {
		rc, err := h.open(ctx)
		h.next <- opened{rc, err}
	}()
}

// takeOver switches to the second stream if its first bytes are those handed out so far;
// otherwise (it failed, or the log changed in between) the first stream goes on alone, and
// the reason comes back.
func (h *handoff) takeOver(o opened) error {
	h.state = handoffDone
	if o.err != nil {
		h.stop()
		return o.err
	}
	if same, err := prefixIs(o.rc, h.read, h.sum); err != nil || !same {
		_ = o.rc.Close()
		h.stop()
		if err == nil {
			err = errLogChanged
		}
		return err
	}
	_ = h.cur.Close()
	h.cur = o.rc
	return nil
}

// afterLimit waits for the second stream and moves to it; an error when it failed or does not
// start with the bytes already read.
func (h *handoff) afterLimit() error {
	if h.state == handoffFirst {
		h.openSecond()
	}
	select {
	case o := <-h.next:
		return h.takeOver(o)
	case <-h.ctx.Done():
		h.abandon()
		return h.ctx.Err()
	}
}

// prefixIs reads n bytes from r and tells whether their CRC-32 is sum.
func prefixIs(r io.Reader, n int64, sum uint32) (bool, error) {
	w := crc32.NewIEEE()
	got, err := io.Copy(w, io.LimitReader(r, n))
	if err != nil {
		return false, err
	}
	return got == n && w.Sum32() == sum, nil
}

// abandon gives up the second stream: closed as soon as it answers, if it has not yet.
func (h *handoff) abandon() {
	if h.state != handoffOpening {
		h.state = handoffDone
		return
	}
	h.state = handoffDone
	h.stop()
	go func(next chan opened) {
		if o := <-next; o.rc != nil {
			_ = o.rc.Close()
		}
	}(h.next)
}

func (h *handoff) Close() error {
	h.abandon()
	err := h.cur.Close()
	if h.stop != nil {
		h.stop() // the second stream's context, once it is read to its end
	}
	return err
}
