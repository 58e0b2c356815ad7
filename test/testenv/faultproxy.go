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

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	done  bool
}

// NewTCPProxy listens on a free loopback port and forwards to target (host:port).
func NewTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &TCPProxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go p.serve(ln)
	t.Cleanup(p.Close)
	return p
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
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *TCPProxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// Restart drops every connection and refuses new ones for d, as a restarting server would.
func (p *TCPProxy) Restart(t testing.TB, d time.Duration) {
	t.Helper()
	p.mu.Lock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
	p.mu.Unlock()
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
