package history

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/valyala/fastjson"
)

// hitSource is the part of a hit's _source that a line is made of.
type hitSource struct {
	AtTimestamp      string
	Timestamp        string
	Message          string
	ServingComponent string
	Component        string
	Container        string
	Host             string
	PodName          string
	Pod              string
}

// The _source fields read, in the order of sourceField's indexes.
const (
	fAtTimestamp = iota
	fTimestamp
	fMessage
	fServingComponent
	fComponent
	fContainer
	fHost
	fPodName
	fPod
	nFields
)

func sourceField(key []byte) int {
	switch string(key) { // no allocation: the compiler compares the bytes
	case "@timestamp":
		return fAtTimestamp
	case "timestamp":
		return fTimestamp
	case "log_message":
		return fMessage
	case "serving_component":
		return fServingComponent
	case "component":
		return fComponent
	case "container_name":
		return fContainer
	case "host":
		return fHost
	case "pod_name":
		return fPodName
	case "pod":
		return fPod
	}
	return -1
}

// page is one search answer's lines, packed: every text of the page in one string, and where
// each line's fields are in it. A buffered page holds three pointers whatever its size, so
// the garbage collector has nothing to scan in it; a string per field made the collector's
// work most of an export's CPU. Or the error that ended a chunk.
type page struct {
	text  string
	spans [][nFields][2]uint32
	err   error
}

func (p *page) len() int { return len(p.spans) }

// source is line i's fields (substrings of the page's text).
func (p *page) source(i int) hitSource {
	sp := &p.spans[i]
	text := func(f int) string { return p.text[sp[f][0]:sp[f][1]] }
	return hitSource{AtTimestamp: text(fAtTimestamp), Timestamp: text(fTimestamp), Message: text(fMessage),
		ServingComponent: text(fServingComponent), Component: text(fComponent), Container: text(fContainer),
		Host: text(fHost), PodName: text(fPodName), Pod: text(fPod)}
}

// pageDecoder decodes search answers in one pass and without reflection: with
// encoding/json, decoding was two thirds of the plugin's CPU on a large export, which
// competes with OpenSearch for the same cores (docs/benchmarks.md). Any document decodes,
// whatever its fields' types: numbers and booleans read as their text, an object as its
// "name" (Filebeat's ECS host.name) or its JSON, an array as its JSON, null as empty; so one
// odd document costs only itself. A decoder is not safe for concurrent use: the parser
// reuses its memory from page to page, which is why the texts are copied out.
type pageDecoder struct {
	p     fastjson.Parser
	buf   []byte              // the page's texts, back to back
	span  *[nFields][2]uint32 // the current document's fields in buf; a later duplicate key wins
	visit func([]byte, *fastjson.Value)
}

// decode returns the lines of at most max hits of a search answer, and the sort values of
// the last of them (where the next page starts), exactly as the server sent them.
func (d *pageDecoder) decode(data []byte, max int) (page, []any, error) {
	v, err := d.p.ParseBytes(data)
	if err != nil {
		return page{}, nil, err
	}
	if v.Type() != fastjson.TypeObject {
		return page{}, nil, fmt.Errorf("the answer is a JSON %s, not an object", v.Type())
	}
	hv := v.Get("hits", "hits")
	if hv == nil {
		return page{}, nil, nil
	}
	arr, err := hv.Array()
	if err != nil {
		return page{}, nil, errors.New("hits.hits is not an array")
	}
	if len(arr) > max {
		arr = arr[:max]
	}
	if d.visit == nil {
		d.visit = d.field
	}
	d.buf = d.buf[:0]
	spans := make([][nFields][2]uint32, len(arr))
	for i, h := range arr {
		d.span = &spans[i]
		if src := h.Get("_source"); src != nil && src.Type() == fastjson.TypeObject {
			o, _ := src.Object()
			o.Visit(d.visit)
		}
	}
	if int64(len(d.buf)) > math.MaxUint32 { // the spans could not say where the texts are
		return page{}, nil, errors.New("the answer's texts are too large")
	}
	var next []any
	if len(arr) > 0 {
		for _, s := range arr[len(arr)-1].GetArray("sort") {
			// Raw, not float64: a long (date_nanos) would lose its last digits.
			next = append(next, json.RawMessage(s.MarshalTo(nil)))
		}
	}
	return page{text: string(d.buf), spans: spans}, next, nil
}

func (d *pageDecoder) field(key []byte, v *fastjson.Value) {
	i := sourceField(key)
	if i < 0 {
		return
	}
	start := len(d.buf)
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		d.buf = append(d.buf, b...)
	case fastjson.TypeNull:
	case fastjson.TypeObject:
		if name := v.GetStringBytes("name"); name != nil {
			d.buf = append(d.buf, name...)
		} else {
			d.buf = v.MarshalTo(d.buf)
		}
	default: // numbers as written, true, false, arrays as JSON
		d.buf = v.MarshalTo(d.buf)
	}
	// A page whose texts pass 4 GiB is refused as a whole once decoded (decode).
	d.span[i] = [2]uint32{uint32(start), uint32(len(d.buf))} // #nosec G115 -- checked in decode
}

// sourceOf decodes one _source document alone (for tests).
func sourceOf(src []byte) hitSource {
	var d pageDecoder
	p, _, err := d.decode([]byte(`{"hits":{"hits":[{"_source":`+string(src)+`}]}}`), 1)
	if err != nil || p.len() == 0 {
		return hitSource{}
	}
	return p.source(0)
}
