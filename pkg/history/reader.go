package history

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/opensearch-project/opensearch-go/v4/opensearchutil"
)

// Kind tells OpenSearch failures apart, for exit codes.
type Kind int

const (
	Unreachable Kind = iota + 1 // connection refused, timeout, DNS
	Refused                     // 401 or 403
	TLSFailure                  // certificate not trusted
	NoIndex                     // no index matches the pattern
	Failed                      // any other error answer
)

// Error is an OpenSearch failure with a one-line explanation that never holds a secret.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Line is one history document.
type Line struct {
	Timestamp time.Time
	RawTS     string
	Message   string
	Component string
	Container string
	Host      string
	Pod       string
}

// Reader queries one OpenSearch.
type Reader struct {
	client   *opensearchapi.Client
	url      string
	PageSize int
	fields   map[string]Fields // by index pattern, read once
}

// NewReader builds a client from the settings. Node discovery and health checks stay off:
// behind a proxy or ingress the nodes' own addresses are unreachable.
func NewReader(s Settings) (*Reader, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("invalid OpenSearch URL %q: use http(s)://host[:port][/path]", redactURL(s.URL))}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.InsecureSkipVerify} // #nosec G402 -- only when asked
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, &Error{Kind: TLSFailure, Msg: fmt.Sprintf("cannot read --opensearch-ca %s: %v", s.CAFile, err)}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &Error{Kind: TLSFailure, Msg: fmt.Sprintf("--opensearch-ca %s holds no PEM certificate", s.CAFile)}
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	header := http.Header{}
	switch {
	case s.Token != "":
		header.Set("Authorization", "Bearer "+s.Token)
	case s.APIKey != "":
		header.Set("Authorization", "ApiKey "+s.APIKey)
	}
	off := false
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	c, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses: []string{strings.TrimRight(s.URL, "/")}, Username: s.User, Password: s.Password, Header: header,
		Transport: tr, DiscoverNodesOnStart: &off, HealthCheckMaxRetries: -1,
		RetryOnStatus: []int{429, 502, 503, 504}, MaxRetries: 3, EnableRetryOnTimeout: true, RequestTimeout: timeout,
		RetryBackoff: func(attempt int) time.Duration { return time.Duration(200*(1<<attempt)) * time.Millisecond },
	}})
	if err != nil {
		return nil, &Error{Kind: Failed, Msg: "OpenSearch client: " + err.Error()}
	}
	return &Reader{client: c, url: redactURL(s.URL), PageSize: 2000, fields: map[string]Fields{}}, nil
}

// redactURL drops any user:password from a URL before it is printed.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.User = nil
	return u.String()
}

// classify turns a client error into an *Error.
func (r *Reader) classify(err error, status int, index string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	var ce x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var tlsRec tls.RecordHeaderError
	switch {
	case errors.As(err, &ua) || errors.As(err, &ce) || errors.As(err, &he) || strings.Contains(err.Error(), "x509:") || strings.Contains(err.Error(), "tls:"):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("TLS with OpenSearch at %s failed: %s; trust its CA with --opensearch-ca FILE (or, knowing the risk, --opensearch-insecure-skip-verify)", r.url, tlsCause(err))}
	case errors.As(err, &tlsRec):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("OpenSearch at %s does not speak TLS: use an http:// URL", r.url)}
	case status == 401:
		return &Error{Kind: Refused, Msg: fmt.Sprintf("OpenSearch at %s refused the credentials (401): check --opensearch-user and the password in HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file", r.url)}
	case status == 403:
		return &Error{Kind: Refused, Msg: fmt.Sprintf("OpenSearch at %s forbids reading %s (403): the user needs read on %s", r.url, index, index)}
	case status == 404:
		return &Error{Kind: NoIndex, Msg: fmt.Sprintf("no OpenSearch index matches %s at %s: no history for this project (it is kept 7 days); use --index to name another", index, r.url)}
	case errors.As(err, &ue) || isNetErr(err) || errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("OpenSearch at %s is unreachable: %s", r.url, netCause(err))}
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered with an error (%d): %s", r.url, status, msg)}
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host")
}

func netCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

func tlsCause(err error) string {
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return "its certificate is signed by an unknown authority"
	}
	var he x509.HostnameError
	if errors.As(err, &he) {
		return he.Error()
	}
	s := err.Error()
	if i := strings.Index(s, "x509: "); i >= 0 {
		return s[i:]
	}
	return s
}

func statusOf(resp interface{ Inspect() opensearchapi.Inspect }) int {
	if resp == nil {
		return 0
	}
	if r := resp.Inspect().Response; r != nil {
		return r.StatusCode
	}
	return 0
}

// Fields reads the index mapping once per pattern and picks the field names it uses; a
// pattern that matches no index is a NoIndex error.
func (r *Reader) Fields(ctx context.Context, index string) (Fields, error) {
	if f, ok := r.fields[index]; ok {
		return f, nil
	}
	resp, err := r.client.Indices.Mapping.Get(ctx, &opensearchapi.MappingGetReq{Indices: []string{index}})
	if err != nil {
		return Fields{}, r.classify(err, statusOf(resp), index)
	}
	if len(resp.GetIndices()) == 0 {
		return Fields{}, r.classify(errors.New("no index"), 404, index)
	}
	var raw []json.RawMessage
	for _, m := range resp.GetIndices() {
		raw = append(raw, m.Mappings)
	}
	f := FieldsFromMappings(raw)
	r.fields[index] = f
	return f, nil
}

// FieldsFromMappings picks the field names from indices' mappings (the "mappings" objects of
// GET <index>/_mapping): @timestamp or timestamp, keyword sub-fields or keyword fields, and the
// component and pod fields where they exist.
func FieldsFromMappings(mappings []json.RawMessage) Fields {
	props := map[string]string{} // field path -> type, keyword sub-fields as "<f>.keyword"
	for _, m := range mappings {
		var mp struct {
			Properties map[string]struct {
				Type   string                     `json:"type"`
				Fields map[string]json.RawMessage `json:"fields"`
			} `json:"properties"`
		}
		_ = json.Unmarshal(m, &mp)
		for name, p := range mp.Properties {
			props[name] = p.Type
			if _, ok := p.Fields["keyword"]; ok {
				props[name+".keyword"] = "keyword"
			}
		}
	}
	kw := func(name string) string {
		if props[name] == "keyword" {
			return name
		}
		return name + ".keyword"
	}
	f := DefaultFields
	if _, ok := props["@timestamp"]; !ok {
		if _, ok := props["timestamp"]; ok {
			f.Time = "timestamp"
		}
	}
	f.Name, f.Container = kw("serving_name"), kw("container_name")
	f.Components = nil
	for _, c := range []string{"serving_component", "component"} {
		if _, ok := props[c]; ok {
			f.Components = append(f.Components, kw(c))
		}
	}
	if len(f.Components) == 0 {
		f.Components = []string{kw("serving_component")}
	}
	for _, p := range []string{"pod_name", "pod"} {
		if _, ok := props[p]; ok {
			f.Pod = kw(p)
		}
	}
	return f
}

type source map[string]any

func (s source) str(k string) string {
	v, _ := s[k].(string)
	return v
}

func (r *Reader) toLine(f Fields, h opensearchapi.SearchHit) Line { return LineFromSource(f, h.Source) }

// LineFromSource decodes a hit's _source; fields of unexpected types read as empty.
func LineFromSource(f Fields, src json.RawMessage) Line {
	var s source
	_ = json.Unmarshal(src, &s)
	raw := s.str(f.Time)
	ts, _ := time.Parse(time.RFC3339Nano, raw)
	comp := s.str("serving_component")
	if comp == "" {
		comp = s.str("component")
	}
	l := Line{Timestamp: ts, RawTS: raw, Message: s.str(f.Message), Component: comp, Container: s.str("container_name"), Host: s.str("host")}
	if f.Pod != "" {
		l.Pod = s.str(strings.TrimSuffix(f.Pod, ".keyword"))
	}
	return l
}

// Stream calls fn for every matching line in time order, page by page (a point in time where
// the server has them, else plain search_after), holding one page in memory at a time.
func (r *Reader) Stream(ctx context.Context, q Query, fn func(Line) error) error {
	f, err := r.Fields(ctx, q.Index)
	if err != nil {
		return err
	}
	pit := r.openPIT(ctx, q.Index)
	defer r.closePIT(pit)
	var after []any
	for {
		hits, next, err := r.page(ctx, q, f, pit, r.PageSize, false, after)
		if err != nil {
			return err
		}
		for _, h := range hits {
			if err := fn(r.toLine(f, h)); err != nil {
				return err
			}
		}
		if len(hits) < r.PageSize {
			return nil
		}
		after = next
	}
}

// Tail returns the newest n lines in time order.
func (r *Reader) Tail(ctx context.Context, q Query, n int) ([]Line, error) {
	f, err := r.Fields(ctx, q.Index)
	if err != nil {
		return nil, err
	}
	var out []Line // newest first while paging back
	var after []any
	for len(out) < n {
		size := min(r.PageSize, n-len(out))
		hits, next, err := r.page(ctx, q, f, "", size, true, after)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			out = append(out, r.toLine(f, h))
		}
		if len(hits) < size {
			break
		}
		after = next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

func (r *Reader) page(ctx context.Context, q Query, f Fields, pit string, size int, desc bool, after []any) ([]opensearchapi.SearchHit, []any, error) {
	body := q.Body(f, size, desc, after)
	req := &opensearchapi.SearchReq{Indices: []string{q.Index}}
	if pit != "" {
		body["pit"] = map[string]any{"id": pit, "keep_alive": "2m"}
		req.Indices = nil
	} else {
		t := true
		req.Params.AllowNoIndices = &t
	}
	req.Body = opensearchutil.NewJSONReader(body)
	resp, err := r.client.Search(ctx, req)
	if err != nil {
		return nil, nil, r.classify(err, statusOf(resp), q.Index)
	}
	hits := resp.Hits.Hits
	var next []any
	if len(hits) > 0 {
		next = hits[len(hits)-1].Sort
	}
	return hits, next, nil
}

// openPIT opens a point in time, or returns "" where the server has none (before 2.4) so
// that paging falls back to plain search_after.
func (r *Reader) openPIT(ctx context.Context, index string) string {
	resp, err := r.client.PointInTime.Create(ctx, opensearchapi.PointInTimeCreateReq{Indices: []string{index},
		Params: opensearchapi.PointInTimeCreateParams{KeepAlive: 2 * time.Minute}})
	if err != nil || resp == nil {
		return ""
	}
	return resp.PitID
}

func (r *Reader) closePIT(id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = r.client.PointInTime.Delete(ctx, opensearchapi.PointInTimeDeleteReq{PitID: []string{id}})
}
