package testenv

import (
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TCPProxy forwards TCP connections to a target, and can fail the way a restarting server
// does: every open connection dropped, new ones refused for a while. TLS passes through
// untouched, so clients keep trusting the real server's certificate.
type TCPProxy struct {
	Addr   string
	target string

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	done   bool
	oneWay time.Duration // SetLatency
}

// SetLatency makes the proxy a server rtt away for the connections it accepts from now on:
// every chunk of data arrives rtt/2 after it was sent, each way, and nothing the client sends
// leaves before the TCP handshake's round trip has passed (the proxy accepts at once, where a
// remote server's SYN-ACK takes a round trip). Data is delayed, not throttled: a delay line,
// as a long link is.
func (p *TCPProxy) SetLatency(rtt time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.oneWay = rtt / 2
}

// NewLatencyProxy is a proxy to target that is rtt away (SetLatency), until Close.
func NewLatencyProxy(target string, rtt time.Duration) (*TCPProxy, error) {
	p, err := newTCPProxy(target)
	if err != nil {
		return nil, err
	}
	p.SetLatency(rtt)
	return p, nil
}

// NewTCPProxy listens on a free loopback port and forwards to target (host:port), until the
// test ends.
func NewTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	p, err := newTCPProxy(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// newTCPProxy is NewTCPProxy for a part that outlives any one test (the Env's kubelet port).
func newTCPProxy(target string) (*TCPProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &TCPProxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go p.serve(ln)
	return p, nil
}

// Port is the port the proxy listens on.
func (p *TCPProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Cut drops every open connection, as a network fault would, keeps accepting new ones, and
// returns how many client connections it dropped.
func (p *TCPProxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	n := len(p.conns) / 2 // each client connection has its upstream twin
	clear(p.conns)
	return n
}

func (p *TCPProxy) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		d := p.oneWay
		p.mu.Unlock()
		established := time.Now().Add(2 * d)
		go p.pipe(c, up, d, time.Time{})
		go p.pipe(up, c, d, established)
	}
}

// pipe copies src to dst until either ends, each chunk delay late, none sent before notBefore.
func (p *TCPProxy) pipe(dst, src net.Conn, delay time.Duration, notBefore time.Time) {
	if delay > 0 {
		delayCopy(dst, src, delay, notBefore)
	} else {
		_, _ = io.Copy(dst, src)
	}
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// delayCopy copies src to dst, each chunk written delay after it was read, or after
// notBefore if that is later.
func delayCopy(dst, src net.Conn, delay time.Duration, notBefore time.Time) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				sent := time.Now()
				if sent.Before(notBefore) {
					sent = notBefore
				}
				ch <- chunk{buf[:n], sent.Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			src.Close() // ends the reader, whose chunks are dropped
			for range ch {
			}
			return
		}
	}
}

// Restart drops every connection and refuses new ones for d, as a restarting server would.
func (p *TCPProxy) Restart(t testing.TB, d time.Duration) {
	t.Helper()
	p.mu.Lock()
	p.ln.Close()
	p.mu.Unlock()
	p.Cut()
	time.Sleep(d)
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		t.Fatalf("reopen %s: %v", p.Addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go p.serve(ln)
}

// Close stops the proxy.
func (p *TCPProxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
}

// KubeconfigVia writes a copy of the Env's kubeconfig whose server is the proxy.
func (e *Env) KubeconfigVia(t testing.TB, p *TCPProxy) string {
	t.Helper()
	b, err := os.ReadFile(e.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(strings.TrimPrefix(e.Config.Host, "https://"), "http://")
	host = strings.TrimSuffix(host, "/")
	out := strings.ReplaceAll(string(b), host, p.Addr)
	path := t.TempDir() + "/kubeconfig-via-proxy"
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// APIServerAddr is the API server's host:port.
func (e *Env) APIServerAddr() string {
	host := strings.TrimPrefix(strings.TrimPrefix(e.Config.Host, "https://"), "http://")
	return strings.TrimSuffix(host, "/")
}
