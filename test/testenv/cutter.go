package testenv

import (
	"io"
	"net"
	"sync"
)

// connCutter is a TCP proxy in front of KWOK's kubelet port, where the API server's
// connections to the kubelet pass: Cut drops them all at once, as a network fault between
// the API server and a node would. It passes TLS through untouched.
type connCutter struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]bool
}

// newConnCutter listens on a free loopback port and forwards to target.
func newConnCutter(target string) (*connCutter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c := &connCutter{ln: ln, target: target, conns: map[net.Conn]bool{}}
	go c.serve()
	return c, nil
}

// Port is the port the proxy listens on.
func (c *connCutter) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

func (c *connCutter) serve() {
	for {
		in, err := c.ln.Accept()
		if err != nil {
			return
		}
		go c.forward(in)
	}
}

func (c *connCutter) forward(in net.Conn) {
	out, err := net.Dial("tcp", c.target)
	if err != nil {
		in.Close()
		return
	}
	c.mu.Lock()
	c.conns[in], c.conns[out] = true, true
	c.mu.Unlock()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
	c.mu.Lock()
	delete(c.conns, in)
	delete(c.conns, out)
	c.mu.Unlock()
}

// Cut closes every open connection and returns how many client connections it cut.
func (c *connCutter) Cut() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for conn := range c.conns {
		conn.Close()
	}
	n := len(c.conns) / 2
	clear(c.conns)
	return n
}

// Close stops the proxy and cuts what is open.
func (c *connCutter) Close() {
	c.ln.Close()
	c.Cut()
}
