package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
)

// benchHistorySecured is the history export on the OpenSearch with the security plugin, as a
// Hopsworks user reads it: TLS, and the project's token from the Hopsworks stand-in. The bare
// loop pages with the same token over the same TLS.
func benchHistorySecured() error {
	sec, err := testenv.OpenSecured(filepath.Join(*dir, "opensearch-secured"))
	if err != nil {
		return fmt.Errorf("%v (start the sandbox with SANDBOX_SECURED=1)", err)
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(*dir, name))
		return strings.TrimSpace(string(b))
	}
	hwURL, apiKey := read("hopsworks-url"), read("hopsworks-api-key")
	ctx := context.Background()
	ns, project := "bench-secured", "bench_secured"
	sc := fixtures.Scenario{Serving: fixtures.Serving{Name: "hist", Namespace: ns, ID: 902}, ISVC: &fixtures.ISVCStatus{Ready: "True"}}
	if err := apply(ctx, sc); err != nil {
		return err
	}
	if err := loadHistory(filepath.Join(*dir, "opensearch-secured"), project, sec.Load); err != nil {
		return err
	}
	hw, err := hopsworks.NewClient(hopsworks.Settings{URL: hwURL, APIKey: apiKey, CAFile: sec.CAFile})
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(sec.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	tlsClient := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	bare := func() error {
		tok, err := hopsworks.NewProjectToken(hw, project).Token(ctx)
		if err != nil {
			return err
		}
		return bareLoop(tlsClient, sec.LocalURL, tok, project+"_serving-*", *docs)
	}
	osPid := filepath.Join(*dir, "opensearch-secured", "logs", "opensearch.pid")
	cmd := []string{"env", "HOPSWORKS_URL=" + hwURL, "HOPSWORKS_API_KEY_FILE=" + filepath.Join(*dir, "hopsworks-api-key"), "HOPSWORKS_CA=" + sec.CAFile,
		*plugin, "logs", "hist", "-n", ns, "--source", "history", "--since", "72h", "-o", "raw"}
	jobs := []job{
		{name: "bare search_after loop, TLS and the project's token", fn: bare, server: osPid},
		{name: "kubectl hopsdeploy logs --source history (Hopsworks credentials)", cmds: [][]string{cmd}, server: osPid, check: historyChecked,
			// As on the plain OpenSearch: 1.5 times the bare loop's throughput, at most 100 MiB.
			goal: &goal{Against: "bare search_after loop, TLS and the project's token", Wall: 1 / 1.5, MemMiB: 100}},
	}
	return measure(fmt.Sprintf("Exporting %d history lines from OpenSearch with the security plugin", *docs), jobs, func(_ string, s sample) string {
		return fmt.Sprintf("%.0f lines/s", float64(*docs)/s.wall.Seconds())
	})
}
