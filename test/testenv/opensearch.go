package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"
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

// LogDoc is a document as the Hopsworks serving pipeline (Filebeat + Logstash) writes it.
type LogDoc struct {
	Timestamp    time.Time
	Message      string
	Serving      string
	Component    string
	Container    string
	ModelName    string
	ModelVersion string
	ServingID    string
	Project      string
	Host         string
}

// Source is the document body, with the pipeline's field names.
func (d LogDoc) Source() map[string]any {
	return map[string]any{
		"@timestamp": d.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z"), "@version": "1",
		"log_message": d.Message, "serving_name": d.Serving, "serving_component": d.Component,
		"container_name": d.Container, "model_name": d.ModelName, "model_version": d.ModelVersion,
		"serving_id": d.ServingID, "serving_tool": "kserve", "model-server": "python",
		"project_name": d.Project, "project_id": "119", "host": d.Host,
	}
}

// Index is the daily index the pipeline writes a document to: <project>_serving-YYYY.MM.dd.
func (d LogDoc) Index() string {
	return d.Project + "_serving-" + d.Timestamp.UTC().Format("2006.01.02")
}

// BulkLoad indexes docs with the _bulk API (no index template: dynamic mapping, as on a
// Hopsworks cluster) and refreshes, in batches of 5,000.
func BulkLoad(url string, docs []LogDoc) error {
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
