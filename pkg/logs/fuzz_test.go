package logs

import (
	"bufio"
	"bytes"
	"testing"
)

// Log lines are untrusted input: splitting the timestamp never crashes and never loses bytes.
func FuzzSplitTimestamp(f *testing.F) {
	f.Add([]byte("2026-11-25T10:00:05.123456789Z hello world"))
	f.Fuzz(func(t *testing.T, line []byte) {
		ts, raw, msg := splitTimestamp(line)
		if ts.IsZero() {
			if !bytes.Equal(msg, line) {
				t.Fatalf("no timestamp, but the line changed: %q -> %q", line, msg)
			}
			return
		}
		if raw+" "+string(msg) != string(line) {
			t.Fatalf("%q split into %q + %q", line, raw, msg)
		}
	})
}

func FuzzReadLine(f *testing.F) {
	f.Add([]byte("a\nb\r\nno newline"), 16)
	f.Fuzz(func(t *testing.T, data []byte, size int) {
		if size < 16 || size > 1<<16 {
			size = 16
		}
		br := bufio.NewReaderSize(bytes.NewReader(data), size)
		var got []byte
		for {
			l, err := readLine(br)
			got = append(got, l...)
			if err != nil {
				break
			}
			got = append(got, '\n')
		}
		if !bytes.Equal(bytes.TrimSuffix(got, []byte("\n")), bytes.TrimSuffix(data, []byte("\n"))) {
			t.Fatalf("lines lost bytes: %q -> %q", data, got)
		}
	})
}
