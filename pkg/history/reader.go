package history

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

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
	// DefaultIndex is the index pattern of a query that names none (the project's serving
	// indices, set once the project is known).
	DefaultIndex string
	mu           sync.Mutex
	fields       map[string]*fieldsAsk // by index pattern, asked once
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
		pool, err := hopsworks.LoadCA(s.CAFile, "--opensearch-ca")
		if err != nil {
			return nil, &Error{Kind: TLSFailure, Msg: err.Error()}
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
	return &Reader{client: c, url: redactURL(s.URL), tokens: s.Tokens, PageSize: 2000, Slices: slices, fields: map[string]*fieldsAsk{}}, nil
}
