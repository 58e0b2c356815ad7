package history

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/certs"
)

// testCA makes a CA and a server certificate for host (not the address it is reached at),
// and writes the CA to a PEM file.
func testCA(t *testing.T, host string) (tls.Certificate, string) {
	t.Helper()
	caPEM, cert, err := certs.Serving(host)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	_ = os.WriteFile(file, caPEM, 0o600)
	return cert, file
}

// A certificate made for another host name than the URL's: refused by default with a message
// that names the way out; accepted when its name is given, or on the explicit chain-only
// opt-in (warned of); a certificate from another CA fails closed on every option.
func TestTLSHostNameOptions(t *testing.T) {
	cert, caFile := testCA(t, "opensearch.hops.internal")
	_, otherCA := testCA(t, "opensearch.hops.internal")
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"indices":["x_serving-1"],"fields":{"@timestamp":{"date":{"type":"date"}}}}`)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	read := func(s Settings) error {
		s.URL = srv.URL
		r, err := NewReader(s)
		if err != nil {
			return err
		}
		_, err = r.Fields(context.Background(), "x_serving-*")
		return err
	}
	var he *Error
	if err := read(Settings{CAFile: caFile}); !errors.As(err, &he) || he.Kind != TLSFailure || !strings.Contains(he.Msg, "--opensearch-tls-server-name") {
		t.Errorf("another host name: %v", err)
	}
	if err := read(Settings{CAFile: caFile, TLSServerName: "opensearch.hops.internal"}); err != nil {
		t.Errorf("with its name: %v", err)
	}
	if err := read(Settings{CAFile: caFile, VerifyChainOnly: true}); err != nil {
		t.Errorf("chain only: %v", err)
	}
	for _, s := range []Settings{{CAFile: otherCA}, {CAFile: otherCA, TLSServerName: "opensearch.hops.internal"}, {CAFile: otherCA, VerifyChainOnly: true}} {
		if err := read(s); !errors.As(err, &he) || he.Kind != TLSFailure {
			t.Errorf("another CA with %+v: %v, want a TLS failure", s, err)
		}
	}
	if w := warnings(Settings{URL: "https://os", VerifyChainOnly: true}, false); len(w) != 1 || !strings.Contains(w[0], "not its host name") {
		t.Errorf("chain-only warning: %q", w)
	}
}
