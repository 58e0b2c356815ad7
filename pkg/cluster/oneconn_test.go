package cluster

import (
	"context"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// The requests a command starts together (Gather's lists, by the typed and the dynamic
// clients) share one HTTP/2 connection: one TLS handshake, not one each.
func TestFirstRequestsShareOneConnection(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			t.Errorf("%s over %s, want HTTP/2", r.URL.Path, r.Proto)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"List","metadata":{},"items":[]}`))
	}))
	srv.EnableHTTP2 = true
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	c, err := NewClients(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Kube.CoreV1().Pods("p").List(ctx, metav1.ListOptions{}); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := c.Dyn.Resource(ISVCResource).Namespace("p").List(ctx, metav1.ListOptions{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := conns.Load(); n != 1 {
		t.Errorf("8 requests started together opened %d connections, want 1", n)
	}
}

// A config without TLS or credentials gets client-go's http.DefaultClient: the gate goes on a
// copy of it, over the default transport, and the default client stays as it is.
func TestClientsWithoutTLSLeaveTheDefaultClientAlone(t *testing.T) {
	c, err := NewClients(&rest.Config{Host: "http://127.0.0.1:1"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Kube.CoreV1().Pods("p").List(context.Background(), metav1.ListOptions{}); err == nil {
		t.Error("a list from a closed port succeeded")
	}
	if http.DefaultClient.Transport != nil {
		t.Errorf("http.DefaultClient's transport is now %T", http.DefaultClient.Transport)
	}
}
