// Package history reads a deployment's past logs from OpenSearch, where the Hopsworks
// serving pipeline (Filebeat + Logstash) ships every container's lines: index
// <project>_serving-YYYY.MM.dd, fields @timestamp, log_message, serving_name,
// serving_component, container_name, host... (docs/hopsworks-state.md §1). Queries are structured JSON built
// from Go values, never strings glued together, so names and filters holding quotes,
// wildcards or JSON are matched literally.
package history

import (
	"slices"
	"strings"
	"time"
)

// Query selects history lines.
type Query struct {
	Index      string   // index pattern, e.g. demo_serving-*
	Deployment string   // serving_name
	Components []string // predictor, transformer; empty = all
	Containers []string // container names; empty = all
	// ExceptContainers leaves these containers out (a bundle leaves out request payloads).
	ExceptContainers []string
	Since            time.Time
	Until            time.Time // exclusive
	Grep             string    // a match query on the message
}

// ProjectOfNamespace is the Hopsworks project a namespace was made for, when it carries no
// hopsworks.ai/project label: Hopsworks makes a project's name DNS-safe (its names hold
// letters, digits and underscores; namespaces hold hyphens instead).
func ProjectOfNamespace(namespace string) string {
	return strings.ReplaceAll(namespace, "-", "_")
}

// ProjectIndexPattern is the serving index pattern of a Hopsworks project (index names are
// lower case).
func ProjectIndexPattern(project string) string {
	return strings.ToLower(project) + "_serving-*"
}

// Fields are the field names an index uses. Newer pipelines spell the component and the
// timestamp otherwise; the reader reads the mapping once to pick them.
type Fields struct {
	Time       string   // @timestamp or timestamp
	Message    string   // log_message
	Name       string   // serving_name.keyword
	Components []string // serving_component.keyword and/or component.keyword
	Container  string   // container_name.keyword
	Host       string   // host
	Pod        string   // a pod name field, where the index has one
}

// DefaultFields are the Hopsworks chef pipeline's fields under dynamic mapping.
var DefaultFields = Fields{
	Time: "@timestamp", Message: "log_message", Name: "serving_name.keyword",
	Components: []string{"serving_component.keyword", "component.keyword"},
	Container:  "container_name.keyword", Host: "host",
}

// Body builds the search body: filters on keyword fields, a time range, an optional match
// query, sorted by time with the document id as the tie-breaker. It asks for the whole
// _source: the pipeline's documents are small, and _source filtering costs the server a parse
// of every document (measured: the export ran slower with it).
func (q Query) Body(f Fields, size int, desc bool, searchAfter []any) map[string]any {
	filter := []any{term(f.Name, q.Deployment)}
	if len(q.Components) > 0 {
		var should []any
		for _, cf := range f.Components {
			should = append(should, terms(cf, q.Components))
		}
		if slices.Contains(q.Components, defaultToolComponent) {
			should = append(should, missing(f.Components...))
		}
		filter = append(filter, map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}})
	}
	if len(q.Containers) > 0 {
		c := terms(f.Container, q.Containers)
		if slices.Contains(q.Containers, defaultToolContainer) {
			c = map[string]any{"bool": map[string]any{"should": []any{c, missing(f.Container)}, "minimum_should_match": 1}}
		}
		filter = append(filter, c)
	}
	rng := map[string]any{"format": "strict_date_optional_time_nanos"}
	if !q.Since.IsZero() {
		rng["gte"] = q.Since.UTC().Format(time.RFC3339Nano)
	}
	if !q.Until.IsZero() {
		rng["lt"] = q.Until.UTC().Format(time.RFC3339Nano)
	}
	if len(rng) > 1 {
		filter = append(filter, map[string]any{"range": map[string]any{f.Time: rng}})
	}
	boolQ := map[string]any{"filter": filter}
	if len(q.ExceptContainers) > 0 {
		boolQ["must_not"] = []any{terms(f.Container, q.ExceptContainers)}
	}
	if q.Grep != "" {
		boolQ["must"] = []any{map[string]any{"match": map[string]any{f.Message: map[string]any{"query": q.Grep, "operator": "and"}}}}
	}
	order := "asc"
	if desc {
		order = "desc"
	}
	body := map[string]any{
		"size":             size,
		"track_total_hits": false,
		"query":            map[string]any{"bool": boolQ},
		"sort": []any{
			map[string]any{f.Time: map[string]any{"order": order, "unmapped_type": "date"}},
			map[string]any{"_id": map[string]any{"order": order}},
		},
	}
	if len(searchAfter) > 0 {
		body["search_after"] = searchAfter
	}
	return body
}

// The pipeline writes no serving_component and no container_name for the DEFAULT tool's pods
// (a plain Deployment, one container serving the model): a document without them is that
// deployment's predictor and main container, so that its history reads as a KServe one's.
const (
	defaultToolComponent = "predictor"
	defaultToolContainer = "kserve-container"
)

// missing matches documents that have none of the fields.
func missing(fields ...string) map[string]any {
	var none []any
	for _, f := range fields {
		none = append(none, map[string]any{"exists": map[string]any{"field": f}})
	}
	return map[string]any{"bool": map[string]any{"must_not": none}}
}

func term(field, value string) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

func terms(field string, values []string) map[string]any {
	return map[string]any{"terms": map[string]any{field: values}}
}
