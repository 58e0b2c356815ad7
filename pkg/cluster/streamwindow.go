package cluster

import (
	"net/http"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The logs command reads its streams over the one HTTP/2 connection its lists opened: a stream
// then costs one round trip, where a connection of its own (HTTP/1.1) cost TCP's and TLS's
// handshakes too, and a TLS signature by the API server. What bounds the memory is the
// receive window: Go lets each stream hold up to 4 MiB that the reader has not taken yet, and
// ten streams that the server fills faster than one writer drains them made 35-40 MiB of heap
// (docs/benchmarks.md). The logs command asks for a smaller one (LogStreamWindow).

// LogStreamWindow is the receive window of each of the logs command's streams: ten streams
// hold at most 10 MiB unread (40 with Go's), and one stream 100 ms away still reads 10 MB/s.
// Reading 1,000,000 lines from ten pods, 256 KiB, 1 MiB and 4 MiB made peaks of 31, 32 and
// 34 MiB, with no difference in time that the benchmark could tell from its spread.
const LogStreamWindow = 1 << 20

// privateTransport returns a copy of cfg whose transport client-go builds for it alone: its
// cache shares one transport among configs of the same TLS settings, and a window set on it
// would reach every client of the process. A config with a proxy is never cached; without
// one of the kubeconfig's, the proxy is the environment's, as client-go's default.
func privateTransport(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	if cfg.Proxy == nil {
		cfg.Proxy = http.ProxyFromEnvironment
	}
	return cfg
}

// setStreamWindow sets the HTTP/2 receive window of each stream of the *http.Transport under
// client-go's round trippers; Go's HTTP/2 reads it when it opens a connection. A transport
// it cannot reach (a custom one) keeps Go's window.
func setStreamWindow(rt http.RoundTripper, window int) {
	for rt != nil {
		switch t := rt.(type) {
		case *http.Transport:
			t.HTTP2 = &http.HTTP2Config{MaxReceiveBufferPerStream: window}
			return
		case utilnet.RoundTripperWrapper:
			rt = t.WrappedRoundTripper()
		default:
			return
		}
	}
}

// bulkLogs opens log streams over HTTP/1.1, a connection each: a long read's bytes then
// wait in the kernel, not in the heap, and cost no HTTP/2 flow control (a window update a
// read, which the API server reads and answers).
func bulkLogs(cfg *rest.Config) (LogOpener, error) {
	h1 := rest.CopyConfig(cfg)
	h1.NextProtos = []string{"http/1.1"}
	kc, err := kubernetes.NewForConfig(h1)
	if err != nil {
		return nil, err
	}
	return KubeLogs(kc), nil
}
