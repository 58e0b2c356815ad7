package cluster

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// A stream that the plugin does not read holds no more than the window NewClients was given:
// the server's writes stop there. A client built after it from the same config keeps Go's
// window (4 MiB): the window stays on the transport it was set on.
func TestStreamWindowBoundsWhatAStreamHoldsUnread(t *testing.T) {
	var written atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := make([]byte, 16<<10)
		for written.Load() < 8<<20 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
			w.(http.Flusher).Flush()
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	cfg := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{
		CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})}}
	heldUnread := func(window int) int64 {
		c, err := NewClients(cfg, window)
		if err != nil {
			t.Fatal(err)
		}
		written.Store(0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		body, err := c.Kube.CoreV1().RESTClient().Get().AbsPath("/stream").Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		// Unread, the stream fills up to the window, and the server's writes stop there.
		last := int64(-1)
		for n := written.Load(); n != last; n = written.Load() {
			last = n
			time.Sleep(100 * time.Millisecond)
		}
		return last
	}
	small, dflt := heldUnread(64<<10), heldUnread(0)
	t.Logf("held unread: %d KiB with a 64 KiB window, %d KiB with Go's", small>>10, dflt>>10)
	if n := small; n > 256<<10 {
		t.Errorf("a 64 KiB window let the server write %d KiB that nobody read", n>>10)
	}
	if n := dflt; n < 2<<20 {
		t.Errorf("Go's window let the server write only %d KiB: the test cannot tell a window from none", n>>10)
	}
}
