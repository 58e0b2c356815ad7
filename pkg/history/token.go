package history

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// TokenSource hands out the token OpenSearch is read with, and a new one when OpenSearch
// refuses the old one as expired: a Hopsworks project's OpenSearch JWT lives minutes, a
// long export or -f lives longer.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	// Renew returns a token newer than stale (fetching one unless another reader did).
	Renew(ctx context.Context, stale string) (string, error)
	// Who names the token's holder for a 403's message ("project alpha as data_owner").
	Who() string
}

// tokenTransport puts the token in every request's Authorization header, as Hopsworks' own
// client does (the value as Hopsworks hands it out), and on a 401 renews it once and sends
// the same request again. The same request means the same page (the same search_after key in
// the same point in time): no line is lost or read twice.
type tokenTransport struct {
	base   http.RoundTripper
	tokens TokenSource
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := replayable(req)
	if err != nil {
		return nil, err
	}
	tok, err := t.tokens.Token(req.Context())
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(withToken(req, tok, body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if tok, err = t.tokens.Renew(req.Context(), tok); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(withToken(req, tok, body))
}

// replayable reads a request's body (a query: small) so that it can be sent twice.
func replayable(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	return io.ReadAll(req.Body)
}

func withToken(req *http.Request, tok string, body []byte) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", tok)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	return r
}
