package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	corev1 "k8s.io/api/core/v1"
)

func TestResumeSkipsWhatWasWritten(t *testing.T) {
	base := time.Date(2026, 11, 25, 10, 0, 5, 0, time.UTC)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	// Written before the drop: three lines at 5.100 (equal timestamps), then one at 5.200, twice.
	var r Resume
	for _, ms := range []int{100, 100, 100, 200, 200} {
		r.mark(at(ms))
	}
	if r.TS != at(200) || r.Count != 2 {
		t.Fatalf("resume point %v x%d", r.TS, r.Count)
	}
	// The resumed stream starts at the top of the second and repeats them, then goes on.
	pending := r.Count
	var printed []int
	for _, ms := range []int{0, 100, 100, 100, 200, 200, 200, 300} {
		if !r.skip(at(ms), &pending) {
			printed = append(printed, ms)
		}
	}
	if len(printed) != 2 || printed[0] != 200 || printed[1] != 300 {
		t.Errorf("printed %v, want [200 300]: the third line at .200 is new", printed)
	}
	// Lines without a timestamp are never skipped; a zero resume point skips nothing.
	if r.skip(time.Time{}, &pending) || (&Resume{}).skip(at(0), &pending) {
		t.Error("skipped a line it cannot place")
	}
}

func TestReadLineAndTimestamp(t *testing.T) {
	long := strings.Repeat("y", 200*1024)
	br := bufio.NewReaderSize(strings.NewReader("2026-11-25T10:00:05.123456789Z hello world\n2026-11-25T10:00:05Z "+long+"\nno timestamp here\nlast without newline"), 64*1024)
	var got []string
	for {
		l, err := readLine(br)
		if len(l) > 0 {
			got = append(got, string(l))
		}
		if err != nil {
			break
		}
	}
	if len(got) != 4 || got[3] != "last without newline" {
		t.Fatalf("lines: %d %q", len(got), got[len(got)-1])
	}
	ts, raw, msg := splitTimestamp([]byte(got[0]))
	if ts.Nanosecond() != 123456789 || raw != "2026-11-25T10:00:05.123456789Z" || string(msg) != "hello world" {
		t.Errorf("split: %v %q %q", ts, raw, msg)
	}
	if _, _, msg := splitTimestamp([]byte(got[1])); string(msg) != long {
		t.Errorf("a 200 KiB line was cut")
	}
	if ts, _, msg := splitTimestamp([]byte(got[2])); !ts.IsZero() || string(msg) != "no timestamp here" {
		t.Errorf("a line without timestamp: %v %q", ts, msg)
	}
}

// A kubelet (or a proxy) that ignores limitBytes and sends 256 MiB: TailLines reads 64 KiB.
func TestTailLinesHoldsItsLimit(t *testing.T) {
	var read countingReader
	open := func(context.Context, string, string, *corev1.PodLogOptions) (io.ReadCloser, error) {
		return io.NopCloser(&read), nil
	}
	lines, err := cluster.TailLines(context.Background(), open, "ns", "pod", "c", false, 10, false)
	if err != nil {
		t.Fatal(err)
	}
	if read.n > cluster.TailLimitBytes+4096 || len(strings.Join(lines, "\n")) > cluster.TailLimitBytes {
		t.Errorf("read %d bytes for a tail of 10 lines", read.n)
	}
}

// countingReader is an endless log of short lines that counts what was read of it.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n > 256<<20 {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = 'x'
		if i%80 == 79 {
			p[i] = '\n'
		}
	}
	r.n += len(p)
	return len(p), nil
}

// A followed stream whose last read ends inside a line writes and flushes the whole lines
// before it waits for the rest: the next read may take as long as the pod's next line.
func TestFollowedStreamWritesWholeLinesBeforeItWaits(t *testing.T) {
	pr, pw := io.Pipe()
	open := func(context.Context, string, string, *corev1.PodLogOptions) (io.ReadCloser, error) { return pr, nil }
	var out syncBuffer
	tl := &tail{open: open, sink: NewSink(&out, SinkOptions{}), follow: true}
	done := make(chan error, 1)
	go func() {
		_, err := tl.stream(context.Background(), Target{Namespace: "ns", Pod: "p", Container: "c"}, &corev1.PodLogOptions{Follow: true}, &Resume{}, false)
		done <- err
	}()
	if _, err := pw.Write([]byte("one\ntwo\nthr")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); out.String() != "one\ntwo\n" && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if got := out.String(); got != "one\ntwo\n" {
		t.Fatalf("while the rest of a line is awaited: %q, want the two whole lines", got)
	}
	_, _ = pw.Write([]byte("ee\n"))
	_ = pw.Close()
	if err := <-done; !errors.Is(err, io.EOF) {
		t.Fatalf("stream: %v", err)
	}
	if got := out.String(); got != "one\ntwo\nthree\n" {
		t.Errorf("%q", got)
	}
}

// A stream without timestamps hands the reader's buffer to the batch whole
// (Batch.AddLines): its output is what formatting one line at a time gives, whatever the
// reads' sizes, the sink's options, empty lines (kept, as kubectl prints them), lines longer
// than the buffer or exactly maxLine long (whose newline comes as a piece of its own), or a
// last line without its newline; and it counts the lines it read, --grep's dropped ones too.
func TestStreamOfWholeBuffersWritesWhatLineByLineWould(t *testing.T) {
	var log bytes.Buffer
	for i := range 3000 {
		switch i % 7 {
		case 0:
			log.WriteString("\n") // an empty line
		case 3:
			fmt.Fprintf(&log, "line %d keep \x1b[2J with a CR\r\n", i)
		default:
			fmt.Fprintf(&log, "line %d %s\n", i, strings.Repeat("x", i%200))
		}
		switch i {
		case 1500:
			log.WriteString(strings.Repeat("long ", 30000) + "\n") // 150 KB: longer than the buffer
		case 2500:
			log.WriteString(strings.Repeat("m", maxLine) + "\n")
		}
	}
	log.WriteString("the last line, without its newline")
	want := strings.Split(log.String(), "\n")
	for _, opts := range []SinkOptions{{}, {Prefix: true}, {Prefix: true, Color: true}, {Format: "raw", Prefix: true},
		{Format: "json"}, {Prefix: true, Grep: "KEEP"}, {Prefix: true, Sanitize: true}} {
		var reference bytes.Buffer
		ref := NewSink(&reference, opts)
		b := ref.Batch()
		for _, l := range want {
			b.Add(&Line{Namespace: "ns", Pod: "p", Container: "c", Source: "live", Message: []byte(l)})
		}
		if err := b.Write(true); err != nil {
			t.Fatal(err)
		}
		for _, seed := range []int64{1, 2, 3} {
			open := func(context.Context, string, string, *corev1.PodLogOptions) (io.ReadCloser, error) {
				return io.NopCloser(&choppyReader{b: log.Bytes(), seed: seed}), nil
			}
			var out bytes.Buffer
			tl := &tail{open: open, sink: NewSink(&out, opts)}
			n, err := tl.stream(context.Background(), Target{Namespace: "ns", Pod: "p", Container: "c"}, &corev1.PodLogOptions{}, &Resume{}, false)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%+v: %v", opts, err)
			}
			_ = tl.sink.Flush()
			if out.String() != reference.String() {
				t.Errorf("%+v, reads of seed %d: %d bytes differ from the %d formatted a line at a time", opts, seed, out.Len(), reference.Len())
			}
			if n != len(want) {
				t.Errorf("%+v: %d lines read, want %d", opts, n, len(want))
			}
		}
	}
}

// choppyReader hands out its bytes in reads of sizes from 1 byte to 20 KB, after its seed.
type choppyReader struct {
	b    []byte
	seed int64
	i    int
}

func (r *choppyReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	r.i++
	size := int((r.seed*7919+int64(r.i)*104729)%20000) + 1
	n := copy(p[:min(len(p), size)], r.b)
	r.b = r.b[n:]
	return n, nil
}

// BenchmarkStreamReadToItsEnd is the engine's own work on a read to the end: 100,000 lines
// from a stream in memory, prefixed, into a sink that discards them (go test -bench).
func BenchmarkStreamReadToItsEnd(b *testing.B) {
	var log bytes.Buffer
	for i := range 100000 {
		fmt.Fprintf(&log, "bench-predictor-7d9f8b-b0000 request %06d served in 12 ms, status 200, model fraud v3\n", i)
	}
	open := func(context.Context, string, string, *corev1.PodLogOptions) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(log.Bytes())), nil
	}
	b.SetBytes(int64(log.Len()))
	for b.Loop() {
		tl := &tail{open: open, sink: NewSink(io.Discard, SinkOptions{Prefix: true})}
		if _, err := tl.stream(context.Background(), Target{Namespace: "ns", Pod: "bench-predictor-7d9f8b-b0000", Container: "kserve-container"}, &corev1.PodLogOptions{}, &Resume{}, false); !errors.Is(err, io.EOF) {
			b.Fatal(err)
		}
	}
}
