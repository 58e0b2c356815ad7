package cluster

import (
	"net/http"
	"net/http/httptrace"
	"sync"
)

// firstConnGate makes the requests that start before the client's first connection is up wait
// for it. Over HTTP/2 they then share that connection; without the gate, each of Gather's
// parallel lists dialed a connection of its own (TCP's and TLS's handshakes, a signature by
// the API server each), and all but one were closed once HTTP/2 was agreed: three handshakes
// of CPU for nothing, on both sides, in every command. The wait costs nothing: the others
// would have waited for handshakes of their own.
type firstConnGate struct {
	rt    http.RoundTripper
	first sync.Once
	up    chan struct{} // closed once the first request has its connection, or has ended
}

func newFirstConnGate(rt http.RoundTripper) *firstConnGate {
	return &firstConnGate{rt: rt, up: make(chan struct{})}
}

func (g *firstConnGate) RoundTrip(req *http.Request) (*http.Response, error) {
	isFirst := false
	g.first.Do(func() { isFirst = true })
	if !isFirst {
		select {
		case <-g.up:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
		return g.rt.RoundTrip(req)
	}
	var release sync.Once
	open := func() { release.Do(func() { close(g.up) }) }
	defer open() // no connection (an error): the others dial their own
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { open() }}
	return g.rt.RoundTrip(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
}
