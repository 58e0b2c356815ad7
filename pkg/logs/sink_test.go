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
