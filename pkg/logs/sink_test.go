package logs

import (
	"bytes"
	"strings"
	"testing"
)

// Piped, a line's bytes are kept as kubectl logs keeps them; the names around it (a pod, or an
// OpenSearch host and container) are neutralised always, and so are notices.
func TestSinkNeutralisesNamesAndKeepsPipedLines(t *testing.T) {
	var out bytes.Buffer
	s := NewSink(&out, SinkOptions{Prefix: true})
	_ = s.Write(&Line{Host: "node\x1b]0;x\x07", Container: "c\u202e", Message: []byte("raw \x1b[2J"), Source: "history"}, true)
	if got, want := out.String(), "history:node\\x1b]0;x\\x07 c\\u202e raw \x1b[2J\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	out.Reset()
	Notice(&out, "- %s deleted", "pod\x9b2J")
	if strings.ContainsRune(out.String(), 0x9b) || !strings.Contains(out.String(), `\x9b`) {
		t.Errorf("notice %q", out.String())
	}
}

// The first line is written out at once; the lines after it wait for a block (or a flush).
func TestSinkWritesTheFirstLineAtOnce(t *testing.T) {
	var out bytes.Buffer
	s := NewSink(&out, SinkOptions{})
	_ = s.Write(&Line{Message: []byte("first")}, false)
	if got := out.String(); got != "first\n" {
		t.Errorf("after the first line: %q, want it written", got)
	}
	_ = s.Write(&Line{Message: []byte("second")}, false)
	if got := out.String(); got != "first\n" {
		t.Errorf("after the second line: %q, want it buffered", got)
	}
	if err := s.Flush(); err != nil || out.String() != "first\nsecond\n" {
		t.Errorf("after the flush: %q, %v", out.String(), err)
	}
}

// A batch holds a stream's lines until it is written, then writes them in one piece, counted;
// each line carries its own pod and container (neutralised), and --grep drops what it does
// not match. The first batch goes out at once, the next waits for a block or a flush.
func TestBatchWritesAStreamsLinesInOnePiece(t *testing.T) {
	var out bytes.Buffer
	s := NewSink(&out, SinkOptions{Prefix: true, Grep: "KEEP"})
	b := s.Batch()
	b.Add(&Line{Pod: "p\x1b[2J", Container: "c", Message: []byte("keep 1"), Source: "live"})
	b.Add(&Line{Pod: "p\x1b[2J", Container: "c", Message: []byte("drop"), Source: "live"})
	b.Add(&Line{Pod: "p\x1b[2J", Container: "d", Message: []byte("keep 2"), Source: "live"})
	if out.Len() != 0 || s.Lines() != 0 {
		t.Fatalf("before the batch is written: %q, %d lines", out.String(), s.Lines())
	}
	if err := b.Write(false); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "p\\x1b[2J c keep 1\np\\x1b[2J d keep 2\n"; got != want || s.Lines() != 2 {
		t.Errorf("the first batch: %q (%d lines), want %q at once", got, s.Lines(), want)
	}
	b.Add(&Line{Pod: "q", Container: "d", Message: []byte("keep 3"), Source: "live"})
	_ = b.Write(false)
	if s.Lines() != 3 || strings.Contains(out.String(), "keep 3") {
		t.Errorf("the second batch: %d lines, %q: want it counted and buffered", s.Lines(), out.String())
	}
	if err := b.Write(true); err != nil || !strings.HasSuffix(out.String(), "\nq d keep 3\n") {
		t.Errorf("an empty batch written with a flush: %q, %v", out.String(), err)
	}
}
