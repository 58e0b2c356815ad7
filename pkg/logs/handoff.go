package logs

import (
	"context"
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
// keeps its first stream.

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
	return &handoff{ctx: ctx, cur: first, open: open}
}

func (h *handoff) Read(p []byte) (int, error) {
	if h.state == handoffOpening {
		select {
		case o := <-h.next:
			h.takeOver(o)
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
	case err != nil:
		h.abandon() // the first stream ended (or failed) before the second answered
	case h.state == handoffFirst && h.read >= handoffAfter:
		h.state = handoffOpening
		ctx, cancel := context.WithCancel(h.ctx)
		h.stop, h.next = cancel, make(chan opened, 1)
		go func() {
			rc, err := h.open(ctx)
			h.next <- opened{rc, err}
		}()
	}
	return n, err
}

// takeOver switches to the second stream if its first bytes are those handed out so far;
// otherwise (it failed, or the log changed in between) the first stream goes on alone.
func (h *handoff) takeOver(o opened) {
	h.state = handoffDone
	if o.err != nil {
		h.stop()
		return
	}
	if same, err := prefixIs(o.rc, h.read, h.sum); err != nil || !same {
		_ = o.rc.Close()
		h.stop()
		return
	}
	_ = h.cur.Close()
	h.cur = o.rc
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
