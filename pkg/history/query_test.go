package history

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestQueryBodyIsStructured(t *testing.T) {
	q := Query{Deployment: `a"b*`, Components: []string{"predictor"}, Containers: []string{"kserve-container"},
		Since: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 25, 11, 0, 0, 5, time.UTC), Grep: `{"x":1}`}
	b, err := json.Marshal(q.Body(DefaultFields, 100, true, []any{1.0, "id"}))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		`{"term":{"serving_name.keyword":"a\"b*"}}`,
		`{"terms":{"serving_component.keyword":["predictor"]}},{"terms":{"component.keyword":["predictor"]}}`,
		`"minimum_should_match":1`,
		`{"terms":{"container_name.keyword":["kserve-container"]}}`,
		`"gte":"2026-11-25T10:00:00Z"`, `"lt":"2026-11-25T11:00:00.000000005Z"`,
		`{"match":{"log_message":{"operator":"and","query":"{\"x\":1}"}}}`,
		`"sort":[{"@timestamp":{"order":"desc","unmapped_type":"date"}},{"_id":{"order":"desc"}}]`,
		`"search_after":[1,"id"]`, `"size":100`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("body lacks %s:\n%s", want, s)
		}
	}
	if ProjectIndexPattern(ProjectOfNamespace("my-project")) != "my_project_serving-*" {
		t.Error(ProjectIndexPattern(ProjectOfNamespace("my-project")))
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("https://alice:secret@os.example.com:9200/path"); strings.Contains(got, "secret") || got != "https://os.example.com:9200/path" {
		t.Error(got)
	}
}

// A DEFAULT-tool deployment's documents have no component and no container: they count as the
// predictor's main container, and only as that.
func TestDefaultToolDocumentsCountAsThePredictor(t *testing.T) {
	body := func(q Query) string {
		b, _ := json.Marshal(q.Body(DefaultFields, 10, false, nil))
		return string(b)
	}
	const noComponent = `{"bool":{"must_not":[{"exists":{"field":"serving_component.keyword"}},{"exists":{"field":"component.keyword"}}]}}`
	const noContainer = `{"bool":{"must_not":[{"exists":{"field":"container_name.keyword"}}]}}`
	got := body(Query{Index: "p_serving-*", Deployment: "d", Components: []string{"predictor"}, Containers: []string{"kserve-container"}})
	if !strings.Contains(got, noComponent) || !strings.Contains(got, noContainer) {
		t.Errorf("the predictor's main container leaves out DEFAULT documents: %s", got)
	}
	got = body(Query{Index: "p_serving-*", Deployment: "d", Components: []string{"transformer"}, Containers: []string{"queue-proxy"}})
	if strings.Contains(got, "must_not") {
		t.Errorf("the transformer's queue-proxy takes DEFAULT documents: %s", got)
	}
}
