package history

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// One document of an unexpected shape (Filebeat's ECS host object, a numeric message, a
// null) costs only itself: the page still decodes, every line with what it has.
func TestDecodeHitsTolerant(t *testing.T) {
	page := `{"hits":{"hits":[
	 {"_source":{"@timestamp":"2026-11-25T10:00:00Z","log_message":"plain","host":"w1"},"sort":[1,"a"]},
	 {"_source":{"@timestamp":"2026-11-25T10:00:01Z","log_message":42,"host":{"name":"w2","ip":["10.0.0.2"]}},"sort":[2,"b"]},
	 {"_source":{"@timestamp":"2026-11-25T10:00:02Z","log_message":null,"container_name":true,"host":["x"]},"sort":[3,"c"]},
	 {"_source":"not an object","sort":[4,"d"]}
	]}}`
	var d pageDecoder
	hits, next, err := d.decode([]byte(page), 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprintf("%s", next) != "[4 \"d\"]" {
		t.Errorf("next %s, want the last hit's sort values as sent", next)
	}
	if hits.len() != 4 {
		t.Fatalf("%d hits", hits.len())
	}
	got := []string{}
	for i := range hits.len() {
		l := lineOf(DefaultFields, hits.source(i))
		got = append(got, fmt.Sprintf("%s|%s|%s", l.Message, l.Host, l.Container))
	}
	want := []string{"plain|w1|", "42|w2|", `|["x"]|true`, "||"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("lines %q, want %q", got, want)
	}
	for _, bad := range []string{`<html>`, `[]`, `{"hits":{"hits":{}}}`} {
		if _, _, err := d.decode([]byte(bad), 10); err == nil {
			t.Errorf("an answer that is not a search answer decoded: %s", bad)
		}
	}
	// More hits than asked for: the rest is left, and the next page starts after the last kept.
	hits, next, err = d.decode([]byte(page), 2)
	if err != nil || hits.len() != 2 || fmt.Sprintf("%s", next) != "[2 \"b\"]" {
		t.Errorf("capped at 2: %d hits, next %s, %v", hits.len(), next, err)
	}
	// A long sort value is sent back as it came, not rounded through a float64.
	if _, next, _ := d.decode([]byte(`{"hits":{"hits":[{"_source":{},"sort":[1764064800123456789,"x"]}]}}`), 1); fmt.Sprintf("%s", next) != "[1764064800123456789 \"x\"]" {
		t.Errorf("next %s", next)
	}
}

// Errors are told apart by OpenSearch's error.type and status, never by words in a message.
func TestClassify(t *testing.T) {
	r := &Reader{url: "https://os:9200"}
	tests := []struct {
		name   string
		status int
		body   string
		kind   Kind
		says   string
	}{
		{"expired point in time", 404, `{"error":{"type":"search_context_missing_exception","reason":"No search context found for id [7]"},"status":404}`, Failed, "no longer holds the point in time"},
		{"expired point in time, as a search phase failure", 404, `{"error":{"root_cause":[{"type":"search_context_missing_exception","reason":"No search context found for id [7]"}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":404}`, Failed, "no longer holds the point in time"},
		{"no index", 404, `{"error":{"type":"index_not_found_exception","reason":"no such index [x_serving-*]"},"status":404}`, NoIndex, "no OpenSearch index matches"},
		{"credentials", 401, `{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}`, Refused, "refused the credentials"},
		{"another project's index", 403, `{"error":{"type":"security_exception","reason":"no permissions for [indices:data/read/search]"},"status":403}`, Forbidden, "forbids reading"},
		{"a server message that mentions TLS", 500, `{"error":{"type":"exception","reason":"tls: handshake x509: certificate from the node is odd"},"status":500}`, Failed, "answered with an error (500)"},
		{"a plain error string", 400, `{"error":"bad request","status":400}`, Failed, "bad request"},
		{"not JSON", 502, `<html>bad gateway</html>`, Failed, "<html>bad gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.classify(parseServerError(tc.status, []byte(tc.body)), tc.status, "x_serving-*")
			var he *Error
			if !errors.As(err, &he) || he.Kind != tc.kind || !strings.Contains(he.Msg, tc.says) {
				t.Errorf("%v (kind %v), want kind %v saying %q", err, he.Kind, tc.kind, tc.says)
			}
		})
	}
}

// An answer larger than the cap is an error, not memory.
func TestReadCapped(t *testing.T) {
	if _, err := readCapped(strings.NewReader(strings.Repeat("x", 101)), 100, new(bytes.Buffer)); err == nil {
		t.Error("101 bytes read under a cap of 100")
	}
	if b, err := readCapped(strings.NewReader(strings.Repeat("x", 100)), 100, new(bytes.Buffer)); err != nil || len(b) != 100 {
		t.Errorf("100 bytes under a cap of 100: %d %v", len(b), err)
	}
}

// A hostile or broken server that answers more hits than asked for, always the same page,
// cannot make the reader hold more than a page or loop forever.
func TestStreamBoundsAHostileServer(t *testing.T) {
	var searches atomic.Int64
	r := fakeOpenSearch(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/_field_caps"):
			fmt.Fprint(w, `{"indices":["x_serving-1"],"fields":{"@timestamp":{"date":{"type":"date"}}}}`)
		case strings.Contains(r.URL.Path, "point_in_time"):
			http.Error(w, `{"error":"no PIT here","status":400}`, http.StatusBadRequest)
		case strings.HasSuffix(r.URL.Path, "/_search"):
			searches.Add(1)
			var b strings.Builder
			b.WriteString(`{"hits":{"hits":[`)
			for i := range 15 { // asked for 10
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString(`{"_source":{"@timestamp":"2026-11-25T10:00:00Z","log_message":"same"},"sort":[1,"a"]}`)
			}
			b.WriteString(`]}}`)
			fmt.Fprint(w, b.String())
		default:
			http.NotFound(w, r)
		}
	})
	r.PageSize = 10
	n := 0
	err := r.Stream(context.Background(), Query{Index: "x_serving-*", Deployment: "d"}, func(Line) error { n++; return nil })
	var he *Error
	if !errors.As(err, &he) || !strings.Contains(he.Msg, "search_after did not advance") {
		t.Fatalf("err %v", err)
	}
	if n > 20 || searches.Load() > 3 {
		t.Errorf("%d lines from %d searches: not bounded", n, searches.Load())
	}
}

// The window is cut where the lines are: steps are grouped in order up to a chunk's size, a
// step larger than a chunk is one of its own, the first chunk keeps the query's start and the
// last its end; a server without the aggregations gets one chunk.
func TestChunksFollowTheLines(t *testing.T) {
	ms := func(s string) int64 { // a time at second s of the test's minute, in milliseconds
		tm, _ := time.Parse(time.RFC3339, "2026-11-25T10:00:"+s+"Z")
		return tm.UnixMilli()
	}
	histogram := fmt.Sprintf(`{"aggregations":{"steps":{"buckets":[
	  {"key":%d,"doc_count":100},{"key":%d,"doc_count":150},{"key":%d,"doc_count":900},
	  {"key":%d,"doc_count":50},{"key":%d,"doc_count":50},{"key":%d,"doc_count":120}]}}}`,
		ms("00"), ms("01"), ms("02"), ms("03"), ms("04"), ms("05"))
	var withAggs atomic.Bool
	r := fakeOpenSearch(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch {
		case !withAggs.Load():
			fmt.Fprint(w, `{"hits":{"hits":[]}}`)
		case strings.Contains(string(b), `"min"`):
			fmt.Fprintf(w, `{"aggregations":{"first":{"value":%d},"last":{"value":%d}}}`, ms("00"), ms("05"))
		default:
			fmt.Fprint(w, histogram)
		}
	})
	r.PageSize, r.ChunkPages = 100, 2 // chunks of about 200 lines
	since, until := time.Unix(ms("00")/1000-60, 0).UTC(), time.Unix(ms("05")/1000+60, 0).UTC()
	q := Query{Index: "x", Deployment: "d", Since: since, Until: until}
	withAggs.Store(true)
	parts, err := r.chunks(context.Background(), q, DefaultFields, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range parts {
		got = append(got, p.Since.Format("05")+"-"+p.Until.Format("05"))
	}
	// 100 | 150 -> cut; 150 | 900 -> cut; 900 alone; 50+50 | 120 -> cut (220 > 200); the rest.
	want := since.Format("05") + "-01 01-02 02-03 03-05 05-" + until.Format("05")
	if strings.Join(got, " ") != want {
		t.Errorf("chunks %v, want %s", got, want)
	}
	withAggs.Store(false)
	if parts, err := r.chunks(context.Background(), q, DefaultFields, ""); err != nil || len(parts) != 1 || parts[0].Since != since || parts[0].Until != until {
		t.Errorf("without aggregations: %v %v", parts, err)
	}
}

// fakeOpenSearch is a reader of a server that answers with handler, for the duration of t.
func fakeOpenSearch(t *testing.T, handler http.HandlerFunc) *Reader {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	r, err := NewReader(Settings{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The field names come from _field_caps, which Hopsworks' data_scientist role may call; the
// mapping, which it may not, is never asked for. A pattern matching no index is NoIndex.
func TestFieldsFromFieldCapabilities(t *testing.T) {
	var asked []string
	r := fakeOpenSearch(t, func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		switch {
		case strings.Contains(r.URL.Path, "_mapping"):
			http.Error(w, `{"error":{"type":"security_exception","reason":"no permissions for [indices:admin/mappings/get]"},"status":403}`, http.StatusForbidden)
		case strings.HasPrefix(r.URL.Path, "/none_serving-*/_field_caps"):
			fmt.Fprint(w, `{"indices":[],"fields":{}}`)
		case strings.HasSuffix(r.URL.Path, "/_field_caps"):
			if f := r.URL.Query().Get("fields"); !strings.Contains(f, "serving_component.keyword") || !strings.Contains(f, "@timestamp") {
				t.Errorf("fields asked for: %q", f)
			}
			fmt.Fprint(w, `{"indices":["x_serving-1","x_serving-2"],"fields":{
			  "timestamp":{"date":{"type":"date"}},
			  "component":{"keyword":{"type":"keyword"},"text":{"type":"text"}},
			  "serving_name":{"text":{"type":"text"}},"serving_name.keyword":{"keyword":{"type":"keyword"}},
			  "pod_name":{"keyword":{"type":"keyword"}}}}`)
		default:
			http.NotFound(w, r)
		}
	})
	f, err := r.Fields(context.Background(), "x_serving-*")
	if err != nil {
		t.Fatal(err)
	}
	if f.Time != "timestamp" || f.Name != "serving_name.keyword" || !slices.Equal(f.Components, []string{"component"}) || f.Pod != "pod_name" || f.Container != "container_name.keyword" {
		t.Errorf("fields %+v", f)
	}
	_, err = r.Fields(context.Background(), "none_serving-*")
	var he *Error
	if !errors.As(err, &he) || he.Kind != NoIndex {
		t.Errorf("no index: %v", err)
	}
	for _, p := range asked {
		if strings.Contains(p, "_mapping") {
			t.Errorf("the mapping was asked for: %s", p)
		}
	}
}

// Every answer is read under the cap, field capabilities and points in time too: a server
// that sends more than MaxAnswerBytes (a gzip bomb expands to it) is refused, not held.
func TestEveryAnswerIsCapped(t *testing.T) {
	big := strings.Repeat(" ", MaxAnswerBytes+1)
	var pits atomic.Int64
	r := fakeOpenSearch(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/_field_caps") && strings.HasPrefix(r.URL.Path, "/big"):
			fmt.Fprint(w, `{"indices":["big"],"fields":{}`+big+`}`)
		case strings.HasSuffix(r.URL.Path, "/_field_caps"):
			fmt.Fprint(w, `{"indices":["x_serving-1"],"fields":{}}`)
		case strings.Contains(r.URL.Path, "point_in_time"):
			pits.Add(1)
			fmt.Fprint(w, `{"pit_id":"p"`+big+`}`)
		default:
			fmt.Fprint(w, `{"hits":{"hits":[]}}`)
		}
	})
	_, err := r.Fields(context.Background(), "big_serving-*")
	if err == nil || !strings.Contains(err.Error(), "larger than 64 MiB") {
		t.Errorf("a 64 MiB field capabilities answer: %v", err)
	}
	if id := r.openPIT(context.Background(), "x_serving-*"); id != "" || pits.Load() != 1 {
		t.Errorf("a 64 MiB point-in-time answer gave %q", id)
	}
}

// A role that may search but is refused field capabilities reads with the default fields.
func TestFieldsDefaultWhenFieldCapabilitiesAreRefused(t *testing.T) {
	r := fakeOpenSearch(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"error":{"type":"security_exception","reason":"no permissions for [indices:data/read/field_caps]"},"status":403}`, http.StatusForbidden)
	})
	f, err := r.Fields(context.Background(), "x_serving-*")
	if err != nil || f.Time != DefaultFields.Time || f.Name != DefaultFields.Name {
		t.Errorf("fields %+v, err %v", f, err)
	}
}
