package history

// The field names an index pattern uses, asked once of OpenSearch.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// Fields asks OpenSearch once per pattern which of the field names it knows the index has
// (_field_caps, which the read action group allows: a project's data scientists may not read
// the mapping itself) and picks the ones it uses; a pattern that matches no index is a NoIndex
// error. Callers at the same time share one request (Prepare's and the export's); a failure
// is not kept, so that the next caller asks again.
func (r *Reader) Fields(ctx context.Context, index string) (Fields, error) {
	r.mu.Lock()
	a, ok := r.fields[index]
	if !ok {
		a = &fieldsAsk{get: sync.OnceValues(func() (Fields, error) { return r.askFields(ctx, index) })}
		r.fields[index] = a
	}
	r.mu.Unlock()
	f, err := a.get()
	if err != nil {
		r.mu.Lock()
		if r.fields[index] == a {
			delete(r.fields, index)
		}
		r.mu.Unlock()
	}
	return f, err
}

// fieldsAsk is one request for an index pattern's field names, shared by its callers.
type fieldsAsk struct{ get func() (Fields, error) }

// Prepare asks for the field names of an index pattern ("": the reader's default) ahead of a
// read, while the caller does something else: the connection to OpenSearch and the first of
// an export's requests are then done when the export starts. Its failure is the export's.
func (r *Reader) Prepare(ctx context.Context, index string) {
	_, _ = r.Fields(ctx, r.index(index))
}

func (r *Reader) askFields(ctx context.Context, index string) (Fields, error) {
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
