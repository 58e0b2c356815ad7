package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// checker verifies what a job printed, so that a run that dropped, doubled or
// reordered lines does not pass on its line count (or on its exit code alone).
type checker interface {
	// stream is the output of one of the job's commands.
	stream(i int) io.Writer
	// done says what was wrong, once every command has ended.
	done() error
}

// seqCheck checks the live-logs benchmark's output: every pod's lines "request N", N from 0
// to lines-1, each once and in order, whatever the tool's prefix; a command without a pod in
// its lines reads one pod (the raw read: one process a pod). Each command's output is spooled
// to a file as it comes and checked once the commands have ended: parsing a million lines as
// they come took the bench process CPU on the cores the measured tools share.
type seqCheck struct {
	pods, lines int
	mu          sync.Mutex
	next        map[string]*int // each pod's next request number
	spools      map[int]*os.File
	err         error
}

func newSeqCheck(pods, lines int) *seqCheck {
	return &seqCheck{pods: pods, lines: lines, next: map[string]*int{}, spools: map[int]*os.File{}}
}

func (c *seqCheck) stream(i int) io.Writer {
	f, err := os.CreateTemp(spoolDir(), "hopsdeploy-bench-out-")
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.err = err
		return io.Discard
	}
	c.spools[i] = f
	return f
}

// spoolDir is where outputs are spooled: in memory (tmpfs) where the machine has it, so that
// no run's output is written back to a disk during the runs after it.
func spoolDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// check reads each spooled output, line by line, and removes every spool (each holds a whole
// run's output).
func (c *seqCheck) check() error {
	var first error
	for i, f := range c.spools {
		_, err := f.Seek(0, io.SeekStart)
		if err == nil && first == nil {
			stream := []byte("stream " + strconv.Itoa(i))
			_, err = io.Copy(&lineSplitter{onLine: func(l []byte) { c.line(stream, l) }}, f)
		}
		f.Close()
		os.Remove(f.Name())
		if first == nil {
			first = err
		}
	}
	return first
}

// podMark precedes a benchmark pod's suffix (b0000...) in its name.
var podMark = []byte("7d9f8b-b")

// line checks one line of the output named stream (the key of a line without a pod's name).
func (c *seqCheck) line(stream, l []byte) {
	key := stream
	if i := bytes.Index(l, podMark); i >= 0 && i+len(podMark)+4 <= len(l) {
		key = l[i+len(podMark)-1 : i+len(podMark)+4]
	}
	seq := -1
	if i := bytes.Index(l, []byte("request ")); i >= 0 {
		n := 0
		j := i + len("request ")
		for ; j < len(l) && l[j] >= '0' && l[j] <= '9'; j++ {
			n = n*10 + int(l[j]-'0')
		}
		if j > i+len("request ") {
			seq = n
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Looked up by the line's bytes, not a string made a line: a million lines made two
	// million allocations that the bench process then collected during the next run.
	next := c.next[string(key)]
	if next == nil {
		next = new(int)
		c.next[string(key)] = next
	}
	if seq != *next && c.err == nil {
		c.err = fmt.Errorf("%s: line %q where request %d was next (a line lost, doubled or out of order)", key, clip(l), *next)
	}
	*next = seq + 1
}

func (c *seqCheck) done() error {
	if err := c.check(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	if len(c.next) != c.pods {
		return fmt.Errorf("lines of %d pods, want %d", len(c.next), c.pods)
	}
	for k, n := range c.next {
		if *n != c.lines {
			return fmt.Errorf("%s: %d lines, want %d", k, *n, c.lines)
		}
	}
	return nil
}

func clip(l []byte) string {
	if len(l) > 120 {
		return string(l[:120]) + "..."
	}
	return string(l)
}

// lineSplitter hands each complete line written to it to onLine.
type lineSplitter struct {
	buf    []byte
	onLine func([]byte)
}

func (s *lineSplitter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.buf = append(s.buf, p...)
			break
		}
		if len(s.buf) > 0 {
			s.onLine(append(s.buf, p[:i]...))
			s.buf = s.buf[:0]
		} else {
			s.onLine(p[:i])
		}
		p = p[i+1:]
	}
	return n, nil
}

// textCheck checks a command's whole output: it holds every wanted text, and, when rows is
// set, that many lines. It keeps at most 64 MiB of each stream.
type textCheck struct {
	wants  []string
	rows   int
	rowsOf []byte // count only the lines that hold it (nil: every line)
	mu     sync.Mutex
	out    map[int]*bytes.Buffer
}

// outputHas is a check of every command's output for texts (and a line count, rows > 0).
func outputHas(rows int, wants ...string) func() checker {
	return func() checker { return &textCheck{wants: wants, rows: rows, out: map[int]*bytes.Buffer{}} }
}

// rowsWith is outputHas counting only the lines that hold of: the benchmark's own rows, in a
// cluster where other benchmarks of the run left objects of their own.
func rowsWith(rows int, of string, wants ...string) func() checker {
	return func() checker {
		return &textCheck{wants: wants, rows: rows, rowsOf: []byte(of), out: map[int]*bytes.Buffer{}}
	}
}

func (c *textCheck) stream(i int) io.Writer {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := &bytes.Buffer{}
	c.out[i] = b
	return &cappedWriter{w: b, left: 64 << 20}
}

func (c *textCheck) done() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, b := range c.out {
		for _, w := range c.wants {
			if !bytes.Contains(b.Bytes(), []byte(w)) {
				return fmt.Errorf("output %d does not say %q:\n%s", i, w, clip(b.Bytes()))
			}
		}
		n := bytes.Count(b.Bytes(), []byte("\n"))
		if c.rowsOf != nil {
			n = 0
			for _, l := range bytes.Split(b.Bytes(), []byte("\n")) {
				if bytes.Contains(l, c.rowsOf) {
					n++
				}
			}
		}
		if c.rows > 0 && n != c.rows {
			return fmt.Errorf("output %d has %d lines, want %d", i, n, c.rows)
		}
	}
	return nil
}

// cappedWriter keeps the first left bytes and drops the rest, as a sink that never blocks.
type cappedWriter struct {
	w    io.Writer
	left int
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if c.left > 0 {
		n := min(len(p), c.left)
		_, _ = c.w.Write(p[:n])
		c.left -= n
	}
	return len(p), nil
}

// openCheck checks a follower's first output: a line of each of the pods (by the benchmark
// pods' name mark), each line whole. It says when the last pod's first line came; a run that
// has not seen every pod within a minute ends and fails.
type openCheck struct {
	pods   int
	mu     sync.Mutex
	seen   map[string]bool
	at     time.Time
	opened chan struct{}
}

func newOpenCheck(pods int) *openCheck {
	return &openCheck{pods: pods, seen: map[string]bool{}, opened: make(chan struct{})}
}

func (c *openCheck) stream(int) io.Writer {
	return &lineSplitter{onLine: func(l []byte) {
		i := bytes.Index(l, podMark)
		if i < 0 || i+len(podMark)+4 > len(l) || !bytes.Contains(l, []byte("request ")) {
			return
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.seen[string(l[i+len(podMark)-1:i+len(podMark)+4])] = true
		if len(c.seen) == c.pods && c.at.IsZero() {
			c.at = time.Now()
			close(c.opened)
		}
	}}
}

func (c *openCheck) done() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() {
		return fmt.Errorf("lines of %d pods within a minute, want %d", len(c.seen), c.pods)
	}
	return nil
}

// openedOrLate is closed once an openCheck has seen every pod, or after a minute.
func openedOrLate(chk checker) <-chan struct{} {
	c := chk.(*openCheck)
	out := make(chan struct{})
	go func() {
		select {
		case <-c.opened:
		case <-time.After(time.Minute):
		}
		close(out)
	}()
	return out
}
