package cluster

import (
	"context"
	"io"
	"sync"
	"time"
)

// WarmStreams opens up to n connections of the Streams client in the background, while the
// caller reads the deployment: a read to the end opens a connection a stream (HTTP/1.1), and
// each costs TCP's and TLS's handshakes, two round trips before its first line that a remote
// API server makes long (docs/benchmarks.md, "A remote API server"). Each connection carries
// one GET /version, which every user may make, and waits idle for a stream; errors are
// ignored: a stream dials its own connection as before. The returned func waits for them.
func (c *Clients) WarmStreams(ctx context.Context, n int) (wait func()) {
	var wg sync.WaitGroup
	if c.Streams == nil || n <= 0 {
		return wg.Wait
	}
	rc := c.Streams.Discovery().RESTClient()
	if rc == nil { // a fake clientset
		return wg.Wait
	}
	// Each answer is read only once every request has its own (or after a second, should one
	// hang): a connection handed back before another request starts would be taken again,
	// and fewer than n opened.
	var answered sync.WaitGroup
	answered.Add(n)
	all := make(chan struct{})
	go func() { answered.Wait(); close(all) }()
	for range n {
		wg.Go(func() {
			body, err := rc.Get().AbsPath("/version").Stream(ctx)
			answered.Done()
			select {
			case <-all:
			case <-time.After(time.Second):
			}
			if err == nil {
				_, _ = io.Copy(io.Discard, body) // to its end, so that the connection is kept
				_ = body.Close()
			}
		})
	}
	return wg.Wait
}
