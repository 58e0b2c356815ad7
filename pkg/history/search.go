package history

// One search and its answer, read under a cap; the last lines; the deployments history knows.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/opensearch-project/opensearch-go/v4/opensearchutil"
)

// search runs one search and decodes its answer into out.
func (r *Reader) search(ctx context.Context, index, pit string, body map[string]any, out any) error {
	data, status, err := r.post(ctx, index, pit, body, nil)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return r.classify(fmt.Errorf("decode the search answer: %w", err), status, index)
	}
	return nil
}

// Tail returns the newest n lines in time order.
func (r *Reader) Tail(ctx context.Context, q Query, n int) ([]Line, error) {
	q.Index = r.index(q.Index)
	f, err := r.Fields(ctx, q.Index)
	if err != nil {
		return nil, err
	}
	var out []Line // newest first while paging back
	var raw bytes.Buffer
	decoders := newDecoders(1)
	var after []any
	for len(out) < n {
		size := min(r.PageSize, n-len(out))
		p, next, err := r.page(ctx, &raw, decoders, q, f, "", size, true, after)
		if err != nil {
			return nil, err
		}
		for i := range p.len() {
			out = append(out, lineOf(f, p.source(i)))
		}
		if p.len() < size || (after != nil && reflect.DeepEqual(next, after)) {
			break
		}
		after = next
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// page runs one search, reads its answer into raw and decodes it with a decoder from
// decoders: the lines of at most size hits, and the sort values to search after next.
func (r *Reader) page(ctx context.Context, raw *bytes.Buffer, decoders chan *pageDecoder, q Query, f Fields, pit string, size int, desc bool, after []any) (page, []any, error) {
	data, status, err := r.post(ctx, q.Index, pit, q.Body(f, size, desc, after), raw)
	if err != nil {
		return page{}, nil, err
	}
	var dec *pageDecoder
	select {
	case dec = <-decoders:
	case <-ctx.Done():
		return page{}, nil, ctx.Err()
	}
	// A server may send more than was asked for, whatever it says: the rest is left.
	p, next, err := dec.decode(data, size)
	decoders <- dec
	if err != nil {
		return page{}, nil, r.classify(fmt.Errorf("decode the search answer: %w", err), status, q.Index)
	}
	return p, next, nil
}

// post runs one search (in the point in time when there is one) and returns its answer, read
// once under MaxAnswerBytes into buf (a new buffer when nil; valid until buf is used again);
// an error answer comes back classified.
func (r *Reader) post(ctx context.Context, index, pit string, body map[string]any, buf *bytes.Buffer) ([]byte, int, error) {
	req := opensearchapi.SearchReq{Indices: []string{index}}
	if pit != "" {
		body["pit"] = map[string]any{"id": pit, "keep_alive": "2m"}
		req.Indices = nil
	} else {
		t := true
		req.Params.AllowNoIndices = &t
	}
	req.Body = opensearchutil.NewJSONReader(body)
	httpReq, err := req.GetRequest(http.MethodPost)
	if err != nil {
		return nil, 0, r.classify(err, 0, index)
	}
	return r.exchange(ctx, httpReq, index, buf)
}

// exchange sends one request and returns its answer, read once under MaxAnswerBytes into buf
// (a new buffer when nil); an error answer comes back classified. Every request of the reader
// goes through it, so that no answer is held whole beyond the cap.
func (r *Reader) exchange(ctx context.Context, httpReq *http.Request, index string, buf *bytes.Buffer) ([]byte, int, error) {
	// Stream, not Perform: the answer is read once, under a cap, instead of buffered by the
	// client and then again by the decoder.
	resp, err := r.client.Client.Stream(httpReq.WithContext(ctx))
	if err != nil {
		return nil, 0, r.classify(err, 0, index)
	}
	defer resp.Body.Close()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	data, err := readCapped(resp.Body, MaxAnswerBytes, buf)
	if err != nil {
		return nil, resp.StatusCode, r.classify(err, resp.StatusCode, index)
	}
	if resp.StatusCode >= 300 {
		return nil, resp.StatusCode, r.classify(parseServerError(resp.StatusCode, data), resp.StatusCode, index)
	}
	return data, resp.StatusCode, nil
}

// MaxAnswerBytes bounds one OpenSearch answer held in memory: a page of 2,000 log lines is
// about 1 MiB; a larger answer is an error, not a reason to hold gigabytes.
const MaxAnswerBytes = 64 << 20

// readCapped reads r to its end into buf, failing past max bytes. The buffer is reused from
// page to page: reading each page into a new one, grown by doubling, made about twice the
// export's size in garbage.
func readCapped(r io.Reader, max int64, buf *bytes.Buffer) ([]byte, error) {
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r, max+1)); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return nil, &Error{Kind: Failed, Msg: fmt.Sprintf("an OpenSearch answer is larger than %d MiB: refusing to hold it", max>>20)}
	}
	return data, nil
}

// Seen is a deployment that history knows of, and when it last wrote.
type Seen struct {
	Name     string
	LastSeen time.Time
}

// Deployments lists the deployments that have lines in the indices of a pattern, with their
// last line's time: one terms aggregation over serving_name, not a scan of the lines.
func (r *Reader) Deployments(ctx context.Context, index string) ([]Seen, error) {
	index = r.index(index)
	f, err := r.Fields(ctx, index)
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"size": 0, "track_total_hits": false,
		"aggs": map[string]any{"names": map[string]any{
			"terms": map[string]any{"field": f.Name, "size": 1000},
			"aggs":  map[string]any{"last": map[string]any{"max": map[string]any{"field": f.Time}}},
		}},
	}
	var out struct {
		Aggregations struct {
			Names struct {
				Buckets []struct {
					Key  any `json:"key"`
					Last struct {
						Value float64 `json:"value"`
					} `json:"last"`
				} `json:"buckets"`
			} `json:"names"`
		} `json:"aggregations"`
	}
	if err := r.search(ctx, index, "", body, &out); err != nil {
		return nil, err
	}
	var seen []Seen
	for _, b := range out.Aggregations.Names.Buckets {
		name, ok := b.Key.(string)
		if !ok || name == "" {
			continue
		}
		seen = append(seen, Seen{Name: name, LastSeen: time.UnixMilli(int64(b.Last.Value)).UTC()})
	}
	return seen, nil
}
