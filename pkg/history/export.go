package history

// An export: a window cut into time chunks read a few at once in one point in time.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"time"

	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
)

// Stream calls fn for every matching line in time order. The window's first page is handed
// on first, asked beside the aggregations that cut the window into time chunks of about
// ChunkPages pages each (by where the lines are: one date histogram), each read with its own
// search_after, from after the first page, in the same point in time (plain search_after
// where the server has none). Up to Slices chunks are read at once, always the next ones in time, and
// their pages are handed to fn chunk after chunk: the lines and their order are those of one
// sequential read (chunks split the window by time, each is sorted by time then _id), while
// OpenSearch works on several chunks at once, each a narrow range it searches quickly. What
// is held is bounded whatever the number of hits: Slices chunks of at most ChunkPages+1 pages.
func (r *Reader) Stream(ctx context.Context, q Query, fn func(Line) error) error {
	q.Index = r.index(q.Index)
	// The field names and the point in time are asked at once: neither needs the other, and
	// a user far from OpenSearch waits a round trip less.
	pitc := make(chan string, 1)
	go func() { pitc <- r.openPIT(ctx, q.Index) }()
	f, err := r.Fields(ctx, q.Index)
	pit := <-pitc
	defer r.closePIT(pit)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The window's first page is the export's first lines however the window is cut: it is
	// asked beside the chunks' aggregations and handed on as soon as it comes, so that the
	// first line waits for one search, not three in a row. Every chunk then starts after its
	// last line (search_after): a chunk it covers answers nothing, the one it ends in goes on
	// from there, and the later ones are not changed by it.
	decoders := newDecoders(min(max(r.Slices, 1), runtime.GOMAXPROCS(0)))
	type cut struct {
		parts []Query
		err   error
	}
	cuts := make(chan cut, 1)
	go func() {
		if r.Slices <= 1 {
			cuts <- cut{parts: []Query{q}}
			return
		}
		parts, err := r.chunks(ctx, q, f, pit)
		cuts <- cut{parts, err}
	}()
	head, after, err := r.page(ctx, new(bytes.Buffer), decoders, q, f, pit, r.PageSize, false, nil)
	if err != nil {
		return err
	}
	for i := range head.len() {
		if err := fn(lineOf(f, head.source(i))); err != nil {
			return err
		}
	}
	if head.len() < r.PageSize {
		return nil // the whole window was one page
	}
	c := <-cuts
	if c.err != nil {
		return c.err
	}
	return r.readChunks(ctx, c.parts, after, f, pit, decoders, fn)
}

// readChunks reads the chunks, each from after the sort values after, a few at once, and
// hands their lines to fn in order.
func (r *Reader) readChunks(ctx context.Context, parts []Query, after []any, f Fields, pit string, decoders chan *pageDecoder, fn func(Line) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// ahead holds a token for each chunk started and not yet handed to fn. Answers are read
	// into buffers reused from chunk to chunk, and decoded by as many decoders as there are
	// cores: a decoder holds a parsed page, and more of them would not decode faster.
	ahead := make(chan struct{}, max(r.Slices, 1))
	raws := make(chan *bytes.Buffer, max(r.Slices, 1))
	feeds := make(chan chan page, len(parts))
	go func() {
		defer close(feeds)
		for _, part := range parts {
			select {
			case ahead <- struct{}{}:
			case <-ctx.Done():
				return
			}
			out := make(chan page, r.chunkPages()+1)
			go r.feed(ctx, raws, decoders, part, f, pit, after, out)
			feeds <- out
		}
	}()
	for feed := range feeds {
		for p := range feed {
			if p.err != nil {
				return p.err
			}
			for i := range p.len() {
				if err := fn(lineOf(f, p.source(i))); err != nil {
					return err
				}
			}
		}
		<-ahead
	}
	return ctx.Err()
}

// DefaultChunkPages is how many pages a chunk of a parallel read holds, about: enough that
// a chunk's last, partial page is a small part of its requests.
const DefaultChunkPages = 4

func (r *Reader) chunkPages() int {
	if r.ChunkPages > 0 {
		return r.ChunkPages
	}
	return DefaultChunkPages
}

// newDecoders is a pool of n page decoders.
func newDecoders(n int) chan *pageDecoder {
	decoders := make(chan *pageDecoder, n)
	for range n {
		decoders <- new(pageDecoder)
	}
	return decoders
}

// feed pages through one chunk into out, from after the sort values after (nil: from its
// start), and closes it; it reads with a buffer from raws (or a new one), which it gives back.
func (r *Reader) feed(ctx context.Context, raws chan *bytes.Buffer, decoders chan *pageDecoder, q Query, f Fields, pit string, after []any, out chan<- page) {
	defer close(out)
	var raw *bytes.Buffer
	select {
	case raw = <-raws:
	default:
		raw = new(bytes.Buffer)
	}
	defer func() {
		select {
		case raws <- raw:
		default:
		}
	}()
	for {
		p, next, err := r.page(ctx, raw, decoders, q, f, pit, r.PageSize, false, after)
		if err != nil {
			p = page{err: err}
		}
		select {
		case out <- p:
		case <-ctx.Done():
			return
		}
		if err != nil || p.len() < r.PageSize {
			return
		}
		if after != nil && reflect.DeepEqual(next, after) {
			select {
			case out <- page{err: &Error{Kind: Failed, Msg: fmt.Sprintf("OpenSearch at %s answered the same page twice (search_after did not advance): stopped", r.url)}}:
			case <-ctx.Done():
			}
			return
		}
		after = next
	}
}

// maxBuckets bounds the date histogram that chunks reads: the window is looked at in at most
// about this many steps, and an answer with more buckets is not used.
const maxBuckets = 2000

// chunks cuts a query's window into time chunks of about ChunkPages pages each: the first and
// the last matching line (one aggregation), then the lines per step between them (a date
// histogram in whole milliseconds), grouped in order. A step with more lines than a chunk is
// a chunk of its own. No match, or a window of one millisecond, is one chunk.
func (r *Reader) chunks(ctx context.Context, q Query, f Fields, pit string) ([]Query, error) {
	var span struct {
		Aggregations struct {
			First struct {
				Value *float64 `json:"value"`
			} `json:"first"`
			Last struct {
				Value *float64 `json:"value"`
			} `json:"last"`
		} `json:"aggregations"`
	}
	if err := r.aggregate(ctx, q, f, pit, map[string]any{
		"first": map[string]any{"min": map[string]any{"field": f.Time}},
		"last":  map[string]any{"max": map[string]any{"field": f.Time}},
	}, &span); err != nil {
		return nil, err
	}
	a := span.Aggregations
	if a.First.Value == nil || a.Last.Value == nil || *a.Last.Value <= *a.First.Value {
		return []Query{q}, nil
	}
	first, last := int64(*a.First.Value), int64(*a.Last.Value)
	step := max((last-first+1)/maxBuckets, 1)
	var hist struct {
		Aggregations struct {
			Steps struct {
				Buckets []struct {
					Key   float64 `json:"key"`
					Count int64   `json:"doc_count"`
				} `json:"buckets"`
			} `json:"steps"`
		} `json:"aggregations"`
	}
	if err := r.aggregate(ctx, q, f, pit, map[string]any{"steps": map[string]any{"date_histogram": map[string]any{
		"field": f.Time, "fixed_interval": strconv.FormatInt(step, 10) + "ms", "min_doc_count": 1}}}, &hist); err != nil {
		return nil, err
	}
	buckets := hist.Aggregations.Steps.Buckets
	if len(buckets) > 2*maxBuckets+2 {
		return []Query{q}, nil // not the histogram asked for: read the window as one
	}
	target := int64(r.chunkPages() * r.PageSize)
	var parts []Query
	from := q.Since // the first chunk keeps the query's own start (zero: none)
	var lines int64
	for _, b := range buckets {
		at := time.UnixMilli(int64(b.Key)).UTC()
		if lines > 0 && lines+b.Count > target && at.After(from) && (q.Until.IsZero() || at.Before(q.Until)) {
			part := q
			part.Since, part.Until = from, at
			parts = append(parts, part)
			from, lines = at, 0
		}
		lines += b.Count
	}
	end := q
	end.Since = from // the last chunk keeps the query's own end
	return append(parts, end), nil
}

// aggregate runs the query's aggregations aggs (no hits) and decodes the answer into out.
func (r *Reader) aggregate(ctx context.Context, q Query, f Fields, pit string, aggs map[string]any, out any) error {
	body := q.Body(f, 0, false, nil)
	delete(body, "sort")
	body["aggs"] = aggs
	return r.search(ctx, q.Index, pit, body, out)
}

// openPIT opens a point in time, or returns "" where the server has none (before 2.4) so
// that paging falls back to plain search_after.
func (r *Reader) openPIT(ctx context.Context, index string) string {
	req := opensearchapi.PointInTimeCreateReq{Indices: []string{index},
		Params: opensearchapi.PointInTimeCreateParams{KeepAlive: 2 * time.Minute}}
	httpReq, err := req.GetRequest(http.MethodPost)
	if err != nil {
		return ""
	}
	data, _, err := r.exchange(ctx, httpReq, index, nil)
	if err != nil {
		return ""
	}
	var out struct {
		PitID string `json:"pit_id"`
	}
	if json.Unmarshal(data, &out) != nil {
		return ""
	}
	return out.PitID
}

// closePIT deletes a point in time. Hopsworks' project roles do not hold the cluster action
// that deletes one (a member's delete is refused with 403): the point in time then ends by its
// keep-alive, as it would after a crash.
func (r *Reader) closePIT(id string) {
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = r.client.PointInTime.Delete(ctx, opensearchapi.PointInTimeDeleteReq{PitID: []string{id}})
}
