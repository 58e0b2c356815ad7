// Package logserver stands in for the one part of a cluster that cannot run here: the kubelet's
// log endpoint. The real kube-apiserver proxies GET pods/log to
// https://<node InternalIP>:<kubeletEndpoint port>/containerLogs/<ns>/<pod>/<container>, so a
// Node pointing at this server makes `pods/log` work through the real API server.
//
// Logs are plain files, one line each "<RFC3339Nano timestamp> <message>":
//
//	<root>/<namespace>/<pod>/<container>.log           the running (or last) instance
//	<root>/<namespace>/<pod>/<container>.previous.log  the previous instance (--previous)
//
// Query parameters behave as the kubelet's: tailLines, sinceSeconds, sinceTime (inclusive),
// timestamps, limitBytes, previous and follow. A followed stream ends when its file is removed
// or replaced (the container exited, or restarted), when the client leaves, or when CutStreams
// drops every open stream (a connection cut, for tests).
package logserver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server serves container logs from files under Root.
type Server struct {
	Root string
	// PollInterval is how often a followed file is checked for new lines.
	PollInterval time.Duration

	mu      sync.Mutex
	cancels map[int]context.CancelFunc
	next    int
}

// New returns a Server for root.
func New(root string) *Server {
	return &Server{Root: root, PollInterval: 20 * time.Millisecond, cancels: map[int]context.CancelFunc{}}
}

// Path is where the log of a container instance lives.
func Path(root, ns, pod, container string, previous bool) string {
	name := container + ".log"
	if previous {
		name = container + ".previous.log"
	}
	return filepath.Join(root, ns, pod, name)
}

// Active is how many streams are open.
func (s *Server) Active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cancels)
}

// CutStreams ends every open stream at once, as a dropped connection would, and returns how
// many it cut.
func (s *Server) CutStreams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.cancels)
	for id, c := range s.cancels {
		c()
		delete(s.cancels, id)
	}
	return n
}

func (s *Server) track(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	id := s.next
	s.next++
	s.cancels[id] = cancel
	s.mu.Unlock()
	return ctx, func() {
		s.mu.Lock()
		delete(s.cancels, id)
		s.mu.Unlock()
		cancel()
	}
}

type options struct {
	follow, previous, timestamps bool
	tail                         int64 // -1: all
	limit                        int64 // 0: none
	since                        time.Time
}

func parseOptions(q map[string][]string) (options, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	o := options{tail: -1, follow: get("follow") == "true", previous: get("previous") == "true", timestamps: get("timestamps") == "true"}
	if v := get("tailLines"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return o, fmt.Errorf("invalid tailLines %q", v)
		}
		o.tail = n
	}
	if v := get("limitBytes"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("invalid limitBytes %q", v)
		}
		o.limit = n
	}
	if v := get("sinceSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("invalid sinceSeconds %q", v)
		}
		o.since = time.Now().Add(-time.Duration(n) * time.Second)
	}
	if v := get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return o, fmt.Errorf("invalid sinceTime %q", v)
		}
		o.since = t
	}
	return o, nil
}

// ServeHTTP answers GET /containerLogs/<ns>/<pod>/<container>.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[0] != "containerLogs" || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	ns, pod, container := parts[1], parts[2], parts[3]
	o, err := parseOptions(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	path := Path(s.Root, ns, pod, container, o.previous)
	f, err := os.Open(path)
	if err != nil {
		// The kubelet's own wording, which kubectl users know.
		msg := fmt.Sprintf("container %q in pod %q is waiting to start: ContainerCreating", container, pod)
		if o.previous {
			msg = fmt.Sprintf("previous terminated container %q in pod %q not found", container, pod)
		}
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	defer f.Close()
	if err := seekTail(f, o.tail); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	ctx, done := s.track(r.Context())
	defer done()
	s.stream(ctx, w, f, path, o)
}

// stream copies lines from f to w, filtered and shaped as options ask.
func (s *Server) stream(ctx context.Context, w http.ResponseWriter, f *os.File, path string, o options) {
	flusher, _ := w.(http.Flusher)
	bw := bufio.NewWriterSize(w, 32*1024)
	defer bw.Flush()
	br := bufio.NewReaderSize(f, 64*1024)
	var written int64
	var partial []byte
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && (err == nil || !o.follow) {
			if len(partial) > 0 {
				line = append(partial, line...)
				partial = nil
			}
			out := shape(line, o)
			if out == nil {
				continue
			}
			if o.limit > 0 && written+int64(len(out)) > o.limit {
				bw.Write(out[:o.limit-written])
				return
			}
			written += int64(len(out))
			if _, werr := bw.Write(out); werr != nil {
				return
			}
			continue
		}
		if len(line) > 0 { // following and the line is not complete yet
			partial = append(partial, line...)
		}
		if err != io.EOF || !o.follow {
			return
		}
		bw.Flush()
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.PollInterval):
		}
		if !sameFile(f, path) {
			// The container exited or restarted: drain what was written, then end.
			rest, _ := io.ReadAll(br)
			for _, l := range bytes.SplitAfter(append(partial, rest...), []byte("\n")) {
				if out := shape(l, o); out != nil {
					bw.Write(out)
				}
			}
			return
		}
	}
}

// shape applies since and timestamps to one line; nil means skip it.
func shape(line []byte, o options) []byte {
	if len(line) == 0 {
		return nil
	}
	if line[len(line)-1] != '\n' {
		line = append(line, '\n')
	}
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return line
	}
	if !o.since.IsZero() {
		if ts, err := time.Parse(time.RFC3339Nano, string(line[:sp])); err == nil && ts.Before(o.since) {
			return nil
		}
	}
	if o.timestamps {
		return line
	}
	return line[sp+1:]
}

func sameFile(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// seekTail positions f at the start of its last n lines (n < 0: the whole file).
func seekTail(f *os.File, n int64) error {
	if n < 0 {
		return nil
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if n == 0 {
		_, err = f.Seek(size, io.SeekStart)
		return err
	}
	const chunk = 64 * 1024
	buf := make([]byte, chunk)
	pos := size
	var newlines int64
	// A trailing newline ends the last line; it does not start a new one.
	end := size
	if size > 0 {
		b := make([]byte, 1)
		if _, err := f.ReadAt(b, size-1); err == nil && b[0] == '\n' {
			end = size - 1
		}
	}
	pos = end
	for pos > 0 {
		start := pos - chunk
		if start < 0 {
			start = 0
		}
		m, err := f.ReadAt(buf[:pos-start], start)
		if err != nil && err != io.EOF {
			return err
		}
		for i := m - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				newlines++
				if newlines == n {
					_, err := f.Seek(start+int64(i)+1, io.SeekStart)
					return err
				}
			}
		}
		pos = start
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}

// Writer appends log lines to container log files, as a container runtime would.
type Writer struct{ Root string }

// Append writes lines to the container's current log, each stamped with ts (or now), and
// returns the timestamp of the last.
func (w Writer) Append(ns, pod, container string, ts time.Time, lines ...string) error {
	return w.write(Path(w.Root, ns, pod, container, false), ts, lines)
}

// AppendPrevious writes lines to the previous instance's log.
func (w Writer) AppendPrevious(ns, pod, container string, ts time.Time, lines ...string) error {
	return w.write(Path(w.Root, ns, pod, container, true), ts, lines)
}

// Restart moves the current log to the previous one, as a container restart does; a followed
// stream of the old instance then ends.
func (w Writer) Restart(ns, pod, container string) error {
	return os.Rename(Path(w.Root, ns, pod, container, false), Path(w.Root, ns, pod, container, true))
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
	return f.Close()
}
