package history

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeTokens hands out token-1, token-2...: renewals are counted.
type fakeTokens struct {
	mu  sync.Mutex
	n   int
	err error
}

func (f *fakeTokens) Token(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.n = 1
	}
	return fmt.Sprintf("token-%d", f.n), f.err
}

func (f *fakeTokens) Renew(_ context.Context, stale string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur := fmt.Sprintf("token-%d", f.n); cur != stale {
		return cur, nil
	}
	f.n++
	return fmt.Sprintf("token-%d", f.n), f.err
}

func (f *fakeTokens) Who() string { return "project alpha as data_owner" }

// A server that accepts only the newest token, and records the bodies it was sent.
func TestTokenRenewedOnceAndTheRequestSentAgain(t *testing.T) {
	var valid atomic.Value
	valid.Store("token-1")
	var bodies []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Header.Get("Authorization")+" "+string(b))
		mu.Unlock()
		if r.Header.Get("Authorization") != valid.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	tokens := &fakeTokens{}
	c := &http.Client{Transport: &tokenTransport{base: http.DefaultTransport, tokens: tokens}}
	post := func() int {
		resp, err := c.Post(srv.URL, "application/json", strings.NewReader(`{"q":1}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if post() != 200 {
		t.Fatal("first request")
	}
	valid.Store("token-2") // token-1 expired
	if code := post(); code != 200 {
		t.Fatalf("after expiry: %d", code)
	}
	if want := []string{`token-1 {"q":1}`, `token-1 {"q":1}`, `token-2 {"q":1}`}; fmt.Sprint(bodies) != fmt.Sprint(want) {
		t.Errorf("requests: %q, want %q (the same body sent again with the new token)", bodies, want)
	}
	// Renewed once only: a token OpenSearch still refuses is an answer, not a loop.
	valid.Store("never")
	if code := post(); code != http.StatusUnauthorized || tokens.n != 3 {
		t.Errorf("a refused fresh token: %d after %d tokens", code, tokens.n)
	}
	// A failing renewal is the token source's error.
	tokens.err = fmt.Errorf("hopsworks down")
	if _, err := c.Post(srv.URL, "application/json", strings.NewReader(`{}`)); err == nil || !strings.Contains(err.Error(), "hopsworks down") {
		t.Errorf("renewal error: %v", err)
	}
}
