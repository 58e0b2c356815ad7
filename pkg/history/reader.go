package history

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	text "github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term" // "term" is the query builder here
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/opensearch-project/opensearch-go/v4/opensearchutil"
)

// Kind tells OpenSearch failures apart, for exit codes.
type Kind int

const (
	Unreachable Kind = iota + 1 // connection refused, timeout, DNS
	Refused                     // 401: the credentials are wrong
	TLSFailure                  // certificate not trusted
	NoIndex                     // no index matches the pattern
	Failed                      // any other error answer
	Forbidden                   // 403: the credentials do not reach the index
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

// DefaultSlices is how many time slices an export reads at once: OpenSearch works on
// several while the plugin decodes (see docs/benchmarks.md).
const DefaultSlices = 4

// Source reads history lines: a Reader, or a fake in unit tests.
type Source interface {
	Stream(ctx context.Context, q Query, fn func(Line) error) error
	Tail(ctx context.Context, q Query, n int) ([]Line, error)
	Deployments(ctx context.Context, index string) ([]Seen, error)
}

// Reader queries one OpenSearch.
type Reader struct {
	client   *opensearchapi.Client
	url      string
	tokens   TokenSource // nil unless the token comes from Hopsworks
	PageSize int
	// Slices is how many time chunks of a window Stream reads at once (1: sequential).
	Slices int
	// ChunkPages is about how many pages a chunk holds (0: DefaultChunkPages).
	ChunkPages int
	// Chunks is how many chunks the last Stream cut its window into (what a test checks).
	Chunks int
	// DefaultIndex is the index pattern of a query that names none (the project's serving
	// indices, set once the project is known).
	DefaultIndex string
	fields       map[string]Fields // by index pattern, read once
}

// index is the pattern a query reads: its own, else the reader's default.
func (r *Reader) index(pattern string) string {
	if pattern != "" {
		return pattern
	}
	return r.DefaultIndex
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
	tr.TLSClientConfig.ServerName = s.TLSServerName
	if s.VerifyChainOnly && !s.InsecureSkipVerify {
		// Go's verification is turned off only to be done again here, without the host name.
		tr.TLSClientConfig.InsecureSkipVerify = true // #nosec G402 -- the chain is verified below
		roots := tr.TLSClientConfig.RootCAs
		tr.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("OpenSearch sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
			return err
		}
	}
	header := http.Header{}
	var rt http.RoundTripper = tr
	switch {
	case s.Tokens != nil:
		rt = &tokenTransport{base: tr, tokens: s.Tokens}
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
		Transport: rt, DiscoverNodesOnStart: &off, HealthCheckMaxRetries: -1,
		// 429 and 503 answers are retried with backoff; a timeout is not, so that
		// --request-timeout bounds what the user waits.
		RetryOnStatus: []int{429, 502, 503, 504}, MaxRetries: 3, RequestTimeout: timeout,
		RetryBackoff: func(attempt int) time.Duration { return time.Duration(200*(1<<attempt)) * time.Millisecond },
	}})
	if err != nil {
		return nil, &Error{Kind: Failed, Msg: "OpenSearch client: " + err.Error()}
	}
	slices := s.Slices
	if slices == 0 {
		slices = DefaultSlices
	}
	return &Reader{client: c, url: redactURL(s.URL), tokens: s.Tokens, PageSize: 2000, Slices: slices, fields: map[string]Fields{}}, nil
}

// classify turns a client error into an *Error: OpenSearch's own answers by their error.type
// and status, transport failures by Go's error types. Words inside a server's message (a
// reason that mentions "x509:") never make it a TLS failure.
func (r *Reader) classify(err error, status int, index string) error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	var hw *hopsworks.Error // fetching or renewing the token failed: Hopsworks' own error
	if errors.As(err, &hw) {
		return hw
	}
	var se *ServerError
	if errors.As(err, &se) {
		return r.classifyServer(se, index)
	}
	var ose *opensearch.StructError // the typed client's error answers
	if errors.As(err, &ose) {
		return r.classifyServer(&ServerError{Status: max(ose.Status, status), Type: ose.Err.Type, Reason: ose.Err.Reason}, index)
	}
	var ue *url.Error
	var ce x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var cv *tls.CertificateVerificationError
	var alert tls.AlertError
	var tlsRec tls.RecordHeaderError
	switch {
	case errors.As(err, &he):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("TLS with OpenSearch at %s failed: %s; name the host its certificate is for with --opensearch-tls-server-name (or, as Hopsworks' client does, --opensearch-tls-verify-chain-only)", r.url, tlsCause(err))}
	case errors.As(err, &ua) || errors.As(err, &ce) || errors.As(err, &cv) || errors.As(err, &alert):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("TLS with OpenSearch at %s failed: %s; trust its CA with --opensearch-ca FILE (or, knowing the risk, --opensearch-insecure-skip-verify)", r.url, tlsCause(err))}
	case errors.As(err, &tlsRec):
		return &Error{Kind: TLSFailure, Msg: fmt.Sprintf("OpenSearch at %s does not speak TLS: use an http:// URL", r.url)}
	case status == 401 || status == 403 || status == 404:
		return r.classifyServer(&ServerError{Status: status, Reason: err.Error()}, index)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("OpenSearch at %s is unreachable: it closed the connection", r.url)}
	case errors.As(err, &ue) || isNetErr(err) || errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: Unreachable, Msg: fmt.Sprintf("OpenSearch at %s is unreachable: %s", r.url, netCause(err))}
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered with an error (%d): %s", r.url, status, clip(err.Error()))}
}

// classifyServer names an error answer of OpenSearch's.
func (r *Reader) classifyServer(se *ServerError, index string) error {
	switch {
	case se.HasType("search_context_missing_exception"):
		return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s no longer holds the point in time of this read (search_context_missing_exception): the read paused longer than its keep-alive; run it again", r.url)}
	case se.HasType("index_not_found_exception") || se.Status == 404 && se.Type == "":
		return &Error{Kind: NoIndex, Msg: fmt.Sprintf("no OpenSearch index matches %s at %s: no history for this project (it is kept 7 days); use --index to name another", index, r.url)}
	case se.Status == 401 && r.tokens != nil:
		return &Error{Kind: Refused, Msg: fmt.Sprintf("OpenSearch at %s refused a fresh Hopsworks token of %s (401): is OpenSearch's JWT authentication set up with Hopsworks' signing key?", r.url, r.tokens.Who())}
	case se.Status == 401:
		return &Error{Kind: Refused, Msg: fmt.Sprintf("OpenSearch at %s refused the credentials (401): check --opensearch-user and the password in HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file", r.url)}
	case se.Status == 403 && r.tokens != nil:
		return &Error{Kind: Forbidden, Msg: fmt.Sprintf("OpenSearch at %s forbids reading %s to %s (403): a project's members read that project's indices only; use --project (or --index) for a project the key's user is a member of", r.url, index, r.tokens.Who())}
	case se.Status == 403:
		return &Error{Kind: Forbidden, Msg: fmt.Sprintf("OpenSearch at %s forbids reading %s (403): the user needs read on %s", r.url, index, index)}
	}
	return &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered with an error (%d): %s", r.url, se.Status, clip(se.Error()))}
}

// clip is a server's words in a one-line message.
func clip(msg string) string { return text.Clip(msg, 300) }

// redactURL drops any user:password from a URL before it is printed.
func redactURL(raw string) string { return text.RedactURL(raw) }

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

// Fields asks OpenSearch once per pattern which of the field names it knows the index has
// (_field_caps, which the read action group allows: a project's data scientists may not read
// the mapping itself) and picks the ones it uses; a pattern that matches no index is a NoIndex
// error.
func (r *Reader) Fields(ctx context.Context, index string) (Fields, error) {
	if f, ok := r.fields[index]; ok {
		return f, nil
	}
	t := true
	req := opensearchapi.IndicesFieldCapsReq{Indices: []string{index}, Params: opensearchapi.IndicesFieldCapsParams{
		Fields: capFields, AllowNoIndices: &t}}
	httpReq, err := req.GetRequest(http.MethodGet)
	if err != nil {
		return Fields{}, r.classify(err, 0, index)
	}
	data, status, err := r.exchange(ctx, httpReq, index, nil)
	var he *Error
	if errors.As(err, &he) && he.Kind == Forbidden {
		// A role that may search but not ask for field capabilities: the pipeline's default
		// fields; a search it may not make either says so itself.
		r.fields[index] = DefaultFields
		return DefaultFields, nil
	}
	if err != nil {
		return Fields{}, err
	}
	f, indices, err := FieldsFromCaps(data)
	if err != nil {
		return Fields{}, r.classify(fmt.Errorf("decode the field capabilities: %w", err), status, index)
	}
	if indices == 0 {
		return Fields{}, r.classify(errors.New("no index"), 404, index)
	}
	r.fields[index] = f
	return f, nil
}

// capFields are the fields Fields asks about: each name the pipelines use, and its keyword
// sub-field.
var capFields = func() []string {
	var out []string
	for _, n := range []string{"@timestamp", "timestamp", "serving_name", "serving_component", "component", "container_name", "pod_name", "pod"} {
		out = append(out, n, n+".keyword")
	}
	return out
}()

// FieldsFromCaps picks the field names from a _field_caps answer ({"indices": [...],
// "fields": {name: {type: {...}}}}): @timestamp or timestamp, keyword sub-fields or keyword
// fields, and the component and pod fields where they exist. indices is how many indices the
// pattern matched.
func FieldsFromCaps(answer []byte) (f Fields, indices int, err error) {
	var caps struct {
		Indices []json.RawMessage                     `json:"indices"`
		Fields  map[string]map[string]json.RawMessage `json:"fields"`
	}
	if err := json.Unmarshal(answer, &caps); err != nil {
		return DefaultFields, 0, err
	}
	props := map[string]string{} // field path -> type; keyword wins where indices differ
	for name, types := range caps.Fields {
		for t := range types {
			if props[name] != "keyword" {
				props[name] = t
			}
		}
	}
	return fieldsFrom(props), len(caps.Indices), nil
}

// fieldsFrom picks the field names from the fields an index has (path -> type, keyword
// sub-fields as "<f>.keyword").
func fieldsFrom(props map[string]string) Fields {
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

func lineOf(f Fields, s hitSource) Line {
	raw := s.AtTimestamp
	if f.Time == "timestamp" {
		raw = s.Timestamp
	}
	ts, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		raw = ""
	}
	comp := s.ServingComponent
	if comp == "" {
		comp = s.Component
	}
	l := Line{Timestamp: ts, RawTS: raw, Message: s.Message, Component: comp, Container: s.Container, Host: s.Host}
	if f.Pod != "" {
		l.Pod = s.PodName
		if l.Pod == "" {
			l.Pod = s.Pod
		}
	}
	return l
}

// Stream calls fn for every matching line in time order. The window is cut into time
// chunks of about ChunkPages pages each (by where the lines are: one date histogram), each
// read with its own search_after in the same point in time (plain search_after where the
// server has none). Up to Slices chunks are read at once, always the next ones in time, and
// their pages are handed to fn chunk after chunk: the lines and their order are those of one
// sequential read (chunks split the window by time, each is sorted by time then _id), while
// OpenSearch works on several chunks at once, each a narrow range it searches quickly. What
// is held is bounded whatever the number of hits: Slices chunks of at most ChunkPages+1 pages.
func (r *Reader) Stream(ctx context.Context, q Query, fn func(Line) error) error {
	q.Index = r.index(q.Index)
	f, err := r.Fields(ctx, q.Index)
	if err != nil {
		return err
	}
	pit := r.openPIT(ctx, q.Index)
	defer r.closePIT(pit)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	parts := []Query{q}
	if r.Slices > 1 {
		if parts, err = r.chunks(ctx, q, f, pit); err != nil {
			return err
		}
	}
	r.Chunks = len(parts)
	// ahead holds a token for each chunk started and not yet handed to fn. Answers are read
	// into buffers reused from chunk to chunk, and decoded by as many decoders as there are
	// cores: a decoder holds a parsed page, and more of them would not decode faster.
	ahead := make(chan struct{}, max(r.Slices, 1))
	raws := make(chan *bytes.Buffer, max(r.Slices, 1))
	decoders := newDecoders(min(max(r.Slices, 1), runtime.GOMAXPROCS(0)))
	feeds := make(chan chan page, len(parts))
	go func() {
		defer close(feeds)
		for _, part := range parts {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			out := make(chan page, r.chunkPages()+1)
			go r.feed(ctx, raws, decoders, part, f, pit, out)
			feeds <- out
		}
	}()
	for feed := range feeds {
		for p := range feed {
			if p.err != nil {
				return p.err
			}
			for i := range p.len() {
				if err := fn(lineOf(f, p.source(i))); err != nil {
					return err
				}
			}
		}
		<-ahead
	}
	return ctx.Err()
}

// DefaultChunkPages is how many pages a chunk of a parallel read holds, about: enough that
// a chunk's last, partial page is a small part of its requests.
const DefaultChunkPages = 4

func (r *Reader) chunkPages() int {
	if r.ChunkPages > 0 {
		return r.ChunkPages
	}
	return DefaultChunkPages
}

// newDecoders is a pool of n page decoders.
func newDecoders(n int) chan *pageDecoder {
	decoders := make(chan *pageDecoder, n)
	for range n {
		decoders <- new(pageDecoder)
	}
	return decoders
}

// feed pages through one chunk into out, and closes it; it reads with a buffer from raws (or
// a new one), which it gives back.
func (r *Reader) feed(ctx context.Context, raws chan *bytes.Buffer, decoders chan *pageDecoder, q Query, f Fields, pit string, out chan<- page) {
	defer close(out)
	var raw *bytes.Buffer
	select {
	case raw = <-raws:
	default:
		raw = new(bytes.Buffer)
	}
	defer func() {
		select {
		case raws <- raw:
		default:
		}
	}()
	var after []any
	for {
		p, next, err := r.page(ctx, raw, decoders, q, f, pit, r.PageSize, false, after)
		if err != nil {
			p = page{err: err}
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return
		}
		if err != nil || p.len() < r.PageSize {
			return
		}
		if after != nil && reflect.DeepEqual(next, after) {
			select {
			case out <- page{err: &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered the same page twice (search_after did not advance): stopped", r.url)}}:
			case <-ctx.Done():
			}
			return
		}
		after = next
	}
}

// maxBuckets bounds the date histogram that chunks reads: the window is looked at in at most
// about this many steps, and an answer with more buckets is not used.
const maxBuckets = 2000

// chunks cuts a query's window into time chunks of about ChunkPages pages each: the first and
// the last matching line (one aggregation), then the lines per step between them (a date
// histogram in whole milliseconds), grouped in order. A step with more lines than a chunk is
// a chunk of its own. No match, or a window of one millisecond, is one chunk.
func (r *Reader) chunks(ctx context.Context, q Query, f Fields, pit string) ([]Query, error) {
	var span struct {
		Aggregations struct {
			First struct {
				Value *float64 `json:"value"`
			} `json:"first"`
			Last struct {
				Value *float64 `json:"value"`
			} `json:"last"`
		} `json:"aggregations"`
	}
	if err := r.aggregate(ctx, q, f, pit, map[string]any{
		"first": map[string]any{"min": map[string]any{"field": f.Time}},
		"last":  map[string]any{"max": map[string]any{"field": f.Time}},
	}, &span); err != nil {
		return nil, err
	}
	a := span.Aggregations
	if a.First.Value == nil || a.Last.Value == nil || *a.Last.Value <= *a.First.Value {
		return []Query{q}, nil
	}
	first, last := int64(*a.First.Value), int64(*a.Last.Value)
	step := max((last-first+1)/maxBuckets, 1)
	var hist struct {
		Aggregations struct {
			Steps struct {
				Buckets []struct {
					Key   float64 `json:"key"`
					Count int64   `json:"doc_count"`
				} `json:"buckets"`
			} `json:"steps"`
		} `json:"aggregations"`
	}
	if err := r.aggregate(ctx, q, f, pit, map[string]any{"steps": map[string]any{"date_histogram": map[string]any{
		"field": f.Time, "fixed_interval": strconv.FormatInt(step, 10) + "ms", "min_doc_count": 1}}}, &hist); err != nil {
		return nil, err
	}
	buckets := hist.Aggregations.Steps.Buckets
	if len(buckets) > 2*maxBuckets+2 {
		return []Query{q}, nil // not the histogram asked for: read the window as one
	}
	target := int64(r.chunkPages() * r.PageSize)
	var parts []Query
	from := q.Since // the first chunk keeps the query's own start (zero: none)
	var lines int64
	for _, b := range buckets {
		at := time.UnixMilli(int64(b.Key)).UTC()
		if lines > 0 && lines+b.Count > target && at.After(from) && (q.Until.IsZero() || at.Before(q.Until)) {
			part := q
			part.Since, part.Until = from, at
			parts = append(parts, part)
			from, lines = at, 0
		}
		lines += b.Count
	}
	end := q
	end.Since = from // the last chunk keeps the query's own end
	return append(parts, end), nil
}

// aggregate runs the query's aggregations aggs (no hits) and decodes the answer into out.
func (r *Reader) aggregate(ctx context.Context, q Query, f Fields, pit string, aggs map[string]any, out any) error {
	body := q.Body(f, 0, false, nil)
	delete(body, "sort")
	body["aggs"] = aggs
	return r.search(ctx, q.Index, pit, body, out)
}

// search runs one search and decodes its answer into out.
func (r *Reader) search(ctx context.Context, index, pit string, body map[string]any, out any) error {
	data, status, err := r.post(ctx, index, pit, body, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return r.classify(fmt.Errorf("decode the search answer: %w", err), status, index)
	}
	return nil
}

// Tail returns the newest n lines in time order.
func (r *Reader) Tail(ctx context.Context, q Query, n int) ([]Line, error) {
	q.Index = r.index(q.Index)
	f, err := r.Fields(ctx, q.Index)
	if err != nil {
		return nil, err
	}
	var out []Line // newest first while paging back
	var raw bytes.Buffer
	decoders := newDecoders(1)
	var after []any
	for len(out) < n {
		size := min(r.PageSize, n-len(out))
		p, next, err := r.page(ctx, &raw, decoders, q, f, "", size, true, after)
		if err != nil {
			return nil, err
		}
		for i := range p.len() {
			out = append(out, lineOf(f, p.source(i)))
		}
		if p.len() < size || (after != nil && reflect.DeepEqual(next, after)) {
			break
		}
		after = next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// page runs one search, reads its answer into raw and decodes it with a decoder from
// decoders: the lines of at most size hits, and the sort values to search after next.
func (r *Reader) page(ctx context.Context, raw *bytes.Buffer, decoders chan *pageDecoder, q Query, f Fields, pit string, size int, desc bool, after []any) (page, []any, error) {
	data, status, err := r.post(ctx, q.Index, pit, q.Body(f, size, desc, after), raw)
	if err != nil {
		return page{}, nil, err
	}
	var dec *pageDecoder
	select {
	case dec = <-decoders:
	case <-ctx.Done():
		return page{}, nil, ctx.Err()
	}
	// A server may send more than was asked for, whatever it says: the rest is left.
	p, next, err := dec.decode(data, size)
	decoders <- dec
	if err != nil {
		return page{}, nil, r.classify(fmt.Errorf("decode the search answer: %w", err), status, q.Index)
	}
	return p, next, nil
}

// post runs one search (in the point in time when there is one) and returns its answer, read
// once under MaxAnswerBytes into buf (a new buffer when nil; valid until buf is used again);
// an error answer comes back classified.
func (r *Reader) post(ctx context.Context, index, pit string, body map[string]any, buf *bytes.Buffer) ([]byte, int, error) {
	req := opensearchapi.SearchReq{Indices: []string{index}}
	if pit != "" {
		body["pit"] = map[string]any{"id": pit, "keep_alive": "2m"}
		req.Indices = nil
	} else {
		t := true
		req.Params.AllowNoIndices = &t
	}
	req.Body = opensearchutil.NewJSONReader(body)
	httpReq, err := req.GetRequest(http.MethodPost)
	if err != nil {
		return nil, 0, r.classify(err, 0, index)
	}
	return r.exchange(ctx, httpReq, index, buf)
}

// exchange sends one request and returns its answer, read once under MaxAnswerBytes into buf
// (a new buffer when nil); an error answer comes back classified. Every request of the reader
// goes through it, so that no answer is held whole beyond the cap.
func (r *Reader) exchange(ctx context.Context, httpReq *http.Request, index string, buf *bytes.Buffer) ([]byte, int, error) {
	// Stream, not Perform: the answer is read once, under a cap, instead of buffered by the
	// client and then again by the decoder.
	resp, err := r.client.Client.Stream(httpReq.WithContext(ctx))
	if err != nil {
		return nil, 0, r.classify(err, 0, index)
	}
	defer resp.Body.Close()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	data, err := readCapped(resp.Body, MaxAnswerBytes, buf)
	if err != nil {
		return nil, resp.StatusCode, r.classify(err, resp.StatusCode, index)
	}
	if resp.StatusCode >= 300 {
		return nil, resp.StatusCode, r.classify(parseServerError(resp.StatusCode, data), resp.StatusCode, index)
	}
	return data, resp.StatusCode, nil
}

// MaxAnswerBytes bounds one OpenSearch answer held in memory: a page of 2,000 log lines is
// about 1 MiB; a larger answer is an error, not a reason to hold gigabytes.
const MaxAnswerBytes = 64 << 20

// readCapped reads r to its end into buf, failing past max bytes. The buffer is reused from
// page to page: reading each page into a new one, grown by doubling, made about twice the
// export's size in garbage.
func readCapped(r io.Reader, max int64, buf *bytes.Buffer) ([]byte, error) {
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("an OpenSearch answer is larger than %d MiB: refusing to hold it", max>>20)}
	}
	return data, nil
}

// ServerError is OpenSearch's own error answer: its status, error.type and reason, and the
// types of its root causes (a search fails as search_phase_execution_exception whose root
// cause says why).
type ServerError struct {
	Status int
	Type   string
	Reason string
	Causes []string
}

// HasType tells whether the error or one of its root causes has type t.
func (e *ServerError) HasType(t string) bool {
	return e.Type == t || slices.Contains(e.Causes, t)
}

func (e *ServerError) Error() string {
	if e.Type == "" {
		return fmt.Sprintf("status %d: %s", e.Status, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Type, e.Reason)
}

// parseServerError reads an error answer: {"error":{"type":...,"reason":...},"status":...},
// {"error":"...","status":...}, or anything else (its first 300 bytes as the reason).
func parseServerError(status int, body []byte) *ServerError {
	e := &ServerError{Status: status}
	var v struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &v) == nil && len(v.Error) > 0 {
		type cause struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		var structured struct {
			cause
			RootCause []cause `json:"root_cause"`
			CausedBy  *cause  `json:"caused_by"`
		}
		var plain string
		switch {
		case json.Unmarshal(v.Error, &structured) == nil && structured.Type != "":
			e.Type, e.Reason = structured.Type, structured.Reason
			for _, c := range structured.RootCause {
				e.Causes = append(e.Causes, c.Type)
			}
			if c := structured.CausedBy; c != nil {
				e.Causes = append(e.Causes, c.Type)
			}
			return e
		case json.Unmarshal(v.Error, &plain) == nil:
			e.Reason = plain
			return e
		}
	}
	e.Reason = string(body[:min(len(body), 300)])
	return e
}

// openPIT opens a point in time, or returns "" where the server has none (before 2.4) so
// that paging falls back to plain search_after.
func (r *Reader) openPIT(ctx context.Context, index string) string {
	req := opensearchapi.PointInTimeCreateReq{Indices: []string{index},
		Params: opensearchapi.PointInTimeCreateParams{KeepAlive: 2 * time.Minute}}
	httpReq, err := req.GetRequest(http.MethodPost)
	if err != nil {
		return ""
	}
	data, _, err := r.exchange(ctx, httpReq, index, nil)
	if err != nil {
		return ""
	}
	var out struct {
		PitID string `json:"pit_id"`
	}
	if json.Unmarshal(data, &out) != nil {
		return ""
	}
	return out.PitID
}

// closePIT deletes a point in time. Hopsworks' project roles do not hold the cluster action
// that deletes one (a member's delete is refused with 403): the point in time then ends by its
// keep-alive, as it would after a crash.
func (r *Reader) closePIT(id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = r.client.PointInTime.Delete(ctx, opensearchapi.PointInTimeDeleteReq{PitID: []string{id}})
}

// Seen is a deployment that history knows of, and when it last wrote.
type Seen struct {
	Name     string
	LastSeen time.Time
}

// Deployments lists the deployments that have lines in the indices of a pattern, with their
// last line's time: one terms aggregation over serving_name, not a scan of the lines.
func (r *Reader) Deployments(ctx context.Context, index string) ([]Seen, error) {
	index = r.index(index)
	f, err := r.Fields(ctx, index)
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"size": 0, "track_total_hits": false,
		"aggs": map[string]any{"names": map[string]any{
			"terms": map[string]any{"field": f.Name, "size": 1000},
			"aggs":  map[string]any{"last": map[string]any{"max": map[string]any{"field": f.Time}}},
		}},
	}
	var out struct {
		Aggregations struct {
			Names struct {
				Buckets []struct {
					Key  any `json:"key"`
					Last struct {
						Value float64 `json:"value"`
					} `json:"last"`
				} `json:"buckets"`
			} `json:"names"`
		} `json:"aggregations"`
	}
	if err := r.search(ctx, index, "", body, &out); err != nil {
		return nil, err
	}
	var seen []Seen
	for _, b := range out.Aggregations.Names.Buckets {
		name, ok := b.Key.(string)
		if !ok || name == "" {
			continue
		}
		seen = append(seen, Seen{Name: name, LastSeen: time.UnixMilli(int64(b.Last.Value)).UTC()})
	}
	return seen, nil
}
