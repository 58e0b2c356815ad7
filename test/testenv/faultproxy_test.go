package testenv

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// A latency proxy delays each exchange by its round trip, both ways, the first also by the
// TCP handshake's, and passes every byte in order.
func TestLatencyProxyDelaysEachRoundTrip(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // an echo server, a line at a time
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if _, err := c.Write([]byte(line)); err != nil {
				return
			}
		}
	}()
	const rtt = 60 * time.Millisecond
	p, err := NewLatencyProxy(ln.Addr().String(), rtt)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dialed := time.Now() // a connection's first exchange counts from its dial, as a handshake's
	c, err := net.Dial("tcp", p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	big := strings.Repeat("x", 200<<10) + "\n"
	for i, msg := range []string{"one\n", "two\n", big} {
		start := time.Now()
		if i == 0 {
			start = dialed
		}
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		got, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got != msg {
			t.Fatalf("exchange %d came back changed (%d bytes for %d)", i, len(got), len(msg))
		}
		want := rtt
		if i == 0 {
			want = 2 * rtt // the handshake's round trip, then the exchange's
		}
		if took := time.Since(start); took < want {
			t.Errorf("exchange %d took %v, less than %v", i, took, want)
		}
	}
}
