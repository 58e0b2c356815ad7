package testenv

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

// OpenSearchURL is the test OpenSearch that `make test` starts (hack/opensearch.sh), from
// HOPSDEPLOY_TEST_OPENSEARCH_URL. Without it a test skips, except under CI=true, where it fails.
func OpenSearchURL(t testing.TB) string {
	t.Helper()
	return required(t, "HOPSDEPLOY_TEST_OPENSEARCH_URL", "OpenSearch")
}

func required(t testing.TB, env, what string) string {
	t.Helper()
	u := os.Getenv(env)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: run the tests with `make test`, which starts the test %s", env, what)
		}
		t.Skipf("no test %s: %s is not set (run `make test`)", what, env)
	}
	return u
}

// BulkLoad indexes docs with the _bulk API (no index template: dynamic mapping, as on a
// Hopsworks cluster) and refreshes, in batches of 5,000.
func BulkLoad(url string, docs []fixtures.LogDoc) error {
	return bulkLoad(http.DefaultClient, url, nil, docs)
}

func bulkLoad(c *http.Client, url string, auth func(*http.Request), docs []fixtures.LogDoc) error {
	post := func(path, ctype string, body io.Reader) ([]byte, int, error) {
		req, _ := http.NewRequest(http.MethodPost, url+path, body)
		req.Header.Set("Content-Type", ctype)
		if auth != nil {
			auth(req)
		}
		resp, err := c.Do(req)
		if err != nil {
			return nil, 0, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b, resp.StatusCode, nil
	}
	for start := 0; start < len(docs); start += 5000 {
		end := min(start+5000, len(docs))
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, d := range docs[start:end] {
			_ = enc.Encode(map[string]any{"index": map[string]any{"_index": d.Index()}})
			_ = enc.Encode(d.Source())
		}
		body, status, err := post("/_bulk", "application/x-ndjson", &b)
		if err != nil {
			return err
		}
		var r struct {
			Errors bool `json:"errors"`
		}
		if status != 200 || json.Unmarshal(body, &r) != nil || r.Errors {
			return fmt.Errorf("bulk: %d: %.500s", status, body)
		}
	}
	_, _, err := post("/_refresh", "application/json", nil)
	return err
}

// Search posts a query body and decodes the answer into out.
func Search(url, index string, body any, out any) error {
	b, _ := json.Marshal(body)
	resp, err := http.Post(url+"/"+index+"/_search", "application/json", bytes.NewReader(b))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("search: %s: %.500s", resp.Status, raw)
	}
	return json.Unmarshal(raw, out)
}

// SecuredOpenSearch is the second test OpenSearch, with the real security plugin
// (hack/opensearch-secured.sh), from the run folder in HOPSDEPLOY_TEST_SECURED_OPENSEARCH_DIR.
type SecuredOpenSearch struct {
	URL            string // https://127.0.0.1:PORT: not a name on its certificate
	NodeName       string // the name on its certificate
	LocalURL       string // https://localhost:PORT: a name on its certificate
	CAFile         string
	AdminPassword  string
	ReaderPassword string
	JWTKey         []byte // the JWT auth domain's HS256 key
	dir            string
}

// Secured reads the secured OpenSearch's run folder; without one a test skips, except under
// CI=true, where it fails.
func Secured(t testing.TB) *SecuredOpenSearch {
	t.Helper()
	s, err := OpenSecured(required(t, "HOPSDEPLOY_TEST_SECURED_OPENSEARCH_DIR", "OpenSearch with the security plugin"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// OpenSecured reads the run folder of hack/opensearch-secured.sh.
func OpenSecured(dir string) (*SecuredOpenSearch, error) {
	var failed error
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil && failed == nil {
			failed = fmt.Errorf("secured OpenSearch: %v", err)
		}
		return strings.TrimSpace(string(b))
	}
	u, admin, reader, rawKey := read("url"), read("admin-password"), read("reader-password"), read("jwt-key")
	if failed != nil {
		return nil, failed
	}
	key, err := base64.StdEncoding.DecodeString(rawKey)
	if err != nil {
		return nil, fmt.Errorf("secured OpenSearch: jwt-key: %v", err)
	}
	return &SecuredOpenSearch{URL: u, NodeName: "opensearch.hopsdeploy.test", LocalURL: strings.Replace(u, "127.0.0.1", "localhost", 1),
		CAFile: filepath.Join(dir, "certs", "ca.pem"), AdminPassword: admin, ReaderPassword: reader, JWTKey: key, dir: dir}, nil
}

// HopsworksCert is the stand-in's certificate (localhost, 127.0.0.1) from the same CA.
func (s *SecuredOpenSearch) HopsworksCert() (tls.Certificate, error) {
	return tls.LoadX509KeyPair(filepath.Join(s.dir, "certs", "hopsworks.pem"), filepath.Join(s.dir, "certs", "hopsworks.key"))
}

// Load indexes docs as the admin user.
func (s *SecuredOpenSearch) Load(docs []fixtures.LogDoc) error {
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: s.NodeName}}}
	return bulkLoad(c, s.URL, func(r *http.Request) { r.SetBasicAuth("admin", s.AdminPassword) }, docs)
}

// BulkLoad indexes docs as the admin user, or fails the test.
func (s *SecuredOpenSearch) BulkLoad(t testing.TB, docs []fixtures.LogDoc) {
	t.Helper()
	if err := s.Load(docs); err != nil {
		t.Fatal(err)
	}
}

// StartHopsworks serves a Hopsworks REST stand-in over TLS, with a certificate from the
// secured OpenSearch's CA (for localhost and 127.0.0.1), and returns its URL.
func (s *SecuredOpenSearch) StartHopsworks(t testing.TB, h http.Handler) string {
	t.Helper()
	cert, err := s.HopsworksCert()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}
