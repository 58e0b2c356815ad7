package history

import (
	"testing"
)

// OpenSearch answers are untrusted input: no field capabilities or hit may crash the reader.
func FuzzFieldsFromCaps(f *testing.F) {
	f.Add([]byte(`{"indices":["x_serving-2026.11.25"],"fields":{"@timestamp":{"date":{"type":"date","searchable":true}},"serving_component.keyword":{"keyword":{"type":"keyword"}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, _, _ := FieldsFromCaps(b)
		if got.Time == "" || got.Name == "" || len(got.Components) == 0 {
			t.Fatalf("incomplete fields %+v", got)
		}
	})
}

func FuzzLineFromSource(f *testing.F) {
	f.Add([]byte(`{"@timestamp":"2026-11-25T10:00:00.123Z","log_message":"hello","serving_component":"predictor","container_name":"kserve-container","host":"w1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l := lineOf(DefaultFields, sourceOf(b))
		if !l.Timestamp.IsZero() && l.RawTS == "" {
			t.Fatalf("a timestamp without its text: %+v", l)
		}
	})
}

// A search answer is untrusted: decoding never crashes, and a line is made of every hit.
func FuzzDecodeHits(f *testing.F) {
	f.Add([]byte(`{"hits":{"hits":[{"_source":{"@timestamp":"2026-11-25T10:00:00Z","log_message":1,"host":{"name":"w"}},"sort":[1]}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d pageDecoder
		hits, _, err := d.decode(b, 5)
		if err != nil {
			return
		}
		if hits.len() > 5 {
			t.Fatalf("%d hits where 5 were asked for", hits.len())
		}
		for i := range hits.len() {
			_ = lineOf(DefaultFields, hits.source(i))
		}
	})
}
