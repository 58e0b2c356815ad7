//go:build integration

package integration

import (
	"fmt"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/test/testenv"
	"k8s.io/apimachinery/pkg/util/rand"
)

// The real OpenSearch takes Hopsworks-shaped documents by dynamic mapping, as a Hopsworks
// cluster's does (text with a .keyword sub-field), and answers term queries on them.
func TestHarnessOpenSearchBulkLoad(t *testing.T) {
	url := testenv.OpenSearchURL(t)
	project := "p" + rand.String(6)
	base := time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC)
	var docs []fixtures.LogDoc
	for i := 0; i < 300; i++ {
		docs = append(docs, fixtures.LogDoc{Timestamp: base.Add(time.Duration(i) * time.Second), Message: fmt.Sprintf("line %d", i),
			Serving: "fraud", Component: []string{"predictor", "transformer"}[i%2], Container: "kserve-container",
			ModelName: "fraud", ModelVersion: "1", ServingID: "11", Project: project, Host: "node-1"})
	}
	if err := testenv.BulkLoad(url, docs); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(url + "/" + project + "_serving-*/_mapping")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	contains(t, "mapping", string(m), `"serving_component":{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}}`, project+"_serving-2026.11.24")

	var out struct {
		Hits struct {
			Total struct{ Value int } `json:"total"`
		} `json:"hits"`
	}
	q := map[string]any{"size": 0, "track_total_hits": true, "query": map[string]any{"term": map[string]any{"serving_component.keyword": "transformer"}}}
	if err := testenv.Search(url, project+"_serving-*", q, &out); err != nil {
		t.Fatal(err)
	}
	if out.Hits.Total.Value != 150 {
		t.Errorf("transformer docs: %d, want 150", out.Hits.Total.Value)
	}

}
