package cluster

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/rest"
)

// WarmStreams opens n connections of the Streams client, which the streams then use: a GET
// after it opens none.
func TestWarmStreamsOpensConnectionsTheStreamsReuse(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	c, err := NewClients(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.WarmStreams(ctx, 3)()
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections opened, want 3", n)
	}
	for range 3 {
		if _, err := c.Streams.Discovery().ServerVersion(); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections after the warmed ones were used, want 3", n)
	}
	(&Clients{}).WarmStreams(ctx, 3)() // no Streams client: nothing to do
}
