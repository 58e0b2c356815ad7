package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"io"
	"net/http"
	"os"
	"testing"
)

// OpenSearchURL is the test OpenSearch that `make test` starts (hack/opensearch.sh), from
// HOPSDEPLOY_TEST_OPENSEARCH_URL. Without it a test skips, except under CI=true, where it fails.
func OpenSearchURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("HOPSDEPLOY_TEST_OPENSEARCH_URL")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("HOPSDEPLOY_TEST_OPENSEARCH_URL is not set: run the tests with `make test`, which starts OpenSearch")
		}
		t.Skip("no test OpenSearch: HOPSDEPLOY_TEST_OPENSEARCH_URL is not set (run `make test`)")
	}
	return u
}

// BulkLoad indexes docs with the _bulk API (no index template: dynamic mapping, as on a
// Hopsworks cluster) and refreshes, in batches of 5,000.
func BulkLoad(url string, docs []fixtures.LogDoc) error {
	for start := 0; start < len(docs); start += 5000 {
		end := min(start+5000, len(docs))
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		for _, d := range docs[start:end] {
			_ = enc.Encode(map[string]any{"index": map[string]any{"_index": d.Index()}})
			_ = enc.Encode(d.Source())
		}
		resp, err := http.Post(url+"/_bulk", "application/x-ndjson", &b)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r struct {
			Errors bool `json:"errors"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &r) != nil || r.Errors {
			return fmt.Errorf("bulk: %s: %.500s", resp.Status, body)
		}
	}
	resp, err := http.Post(url+"/_refresh", "application/json", nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
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
