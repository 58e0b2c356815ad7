package kwoklogs

import (
	"bytes"
	"os"
	"path/filepath"
	"time"
)

// Path is where the log of a container instance lives.
func Path(root, ns, pod, container string, previous bool) string {
	name := container + ".log"
	if previous {
		name = container + ".previous.log"
	}
	return filepath.Join(root, ns, pod, name)
}

// Writer appends log lines to the contract's files, as a container runtime would. With a
// Bridge, each write is mirrored for KWOK before it returns, so that a test which writes a
// line and then reads it does not race the bridge's poll.
type Writer struct {
	Root   string
	Bridge *Bridge
}

// Append writes lines to the container's current log, each stamped with ts (or now), and
// returns the timestamp of the last.
func (w Writer) Append(ns, pod, container string, ts time.Time, lines ...string) error {
	return w.write(Path(w.Root, ns, pod, container, false), ts, lines)
}

// AppendPrevious writes lines to the previous instance's log.
func (w Writer) AppendPrevious(ns, pod, container string, ts time.Time, lines ...string) error {
	return w.write(Path(w.Root, ns, pod, container, true), ts, lines)
}

// Restart moves the current log to the previous one, as a container restart does.
func (w Writer) Restart(ns, pod, container string) error {
	cur, prev := Path(w.Root, ns, pod, container, false), Path(w.Root, ns, pod, container, true)
	if err := os.Rename(cur, prev); err != nil {
		return err
	}
	w.sync(cur)
	w.sync(prev)
	return nil
}

func (w Writer) sync(path string) {
	if w.Bridge != nil {
		w.Bridge.MirrorFile(path)
	}
}

func (w Writer) write(path string, ts time.Time, lines []string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for i, l := range lines {
		t := ts
		if t.IsZero() {
			t = time.Now()
		} else {
			t = ts.Add(time.Duration(i) * time.Millisecond)
		}
		b.WriteString(t.UTC().Format(time.RFC3339Nano))
		b.WriteByte(' ')
		b.WriteString(l)
		b.WriteByte('\n')
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	w.sync(path)
	return nil
}
