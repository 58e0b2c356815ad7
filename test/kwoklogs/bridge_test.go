package kwoklogs

import (
	"os"
	"testing"
	"time"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func inode(t *testing.T, path string) os.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// The twins follow the contract files through appends, a restart and a rewrite, in the CRI
// format KWOK reads, and a twin that gets another instance's lines is a new file.
func TestMirrorFollowsAppendsRestartsAndRewrites(t *testing.T) {
	b := &Bridge{Root: t.TempDir()}
	w := Writer{Root: b.Root, Bridge: b}
	ts := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	cur, prev := b.CRIPath("ns", "pod", "c.log"), b.CRIPath("ns", "pod", "c.previous.log")

	if err := w.Append("ns", "pod", "c", ts, "one", "two"); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-26T10:00:00Z stdout F one\n2026-11-26T10:00:00.001Z stdout F two\n"
	if got := read(t, cur); got != want {
		t.Fatalf("first lines: %q, want %q", got, want)
	}
	first := inode(t, cur)

	// An append goes to the end of the same file: a follower reading it goes on.
	if err := w.Append("ns", "pod", "c", ts.Add(time.Second), "three"); err != nil {
		t.Fatal(err)
	}
	want += "2026-11-26T10:00:01Z stdout F three\n"
	if got := read(t, cur); got != want || !os.SameFile(first, inode(t, cur)) {
		t.Fatalf("after an append: %q (same file: %v), want %q", got, os.SameFile(first, inode(t, cur)), want)
	}

	// A restart: the old instance's lines are the previous log, the current one starts
	// empty in a new file (renamed over the old, so that KWOK's follower reopens it).
	if err := w.Restart("ns", "pod", "c"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, prev); got != want {
		t.Fatalf("previous after the restart: %q, want %q", got, want)
	}
	if got := read(t, cur); got != "" || os.SameFile(first, inode(t, cur)) {
		t.Fatalf("current after the restart: %q (same file: %v), want a new empty file", got, os.SameFile(first, inode(t, cur)))
	}
	// The second instance writes more than the first, so that only the file's identity, not
	// its size, tells the bridge that the previous log is another file.
	second := "2026-11-26T10:00:02Z stdout F the second instance, longer than the first\n"
	for range 3 {
		if err := w.Append("ns", "pod", "c", ts.Add(2*time.Second), "the second instance, longer than the first"); err != nil {
			t.Fatal(err)
		}
	}
	second = second + second + second
	if got := read(t, cur); got != second {
		t.Fatalf("the second instance: %q", got)
	}

	// A second restart: the previous log is the second instance's alone, not the first's
	// with the second's tail appended.
	if err := w.Restart("ns", "pod", "c"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, prev); got != second {
		t.Fatalf("previous after the second restart: %q, want %q", got, second)
	}

	// A contract file that another writer rewrites shorter is mirrored whole again; an
	// incomplete last line waits for its end; a line without a timestamp gets one.
	path := Path(b.Root, "ns", "pod", "c", false)
	if err := os.WriteFile(path, []byte("2026-11-26T11:00:00Z x\nno-stamp\npart"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.MirrorFile(path)
	got := read(t, cur)
	if len(got) < 30 || got[:31] != "2026-11-26T11:00:00Z stdout F x" {
		t.Fatalf("rewritten: %q", got)
	}
	if want := " stdout F no-stamp\n"; got[len(got)-len(want):] != want {
		t.Fatalf("a line without a timestamp: %q", got)
	}
}

// Paths outside the contract (deeper, shallower, outside the root, not .log) are left alone.
func TestMirrorFileIgnoresOtherPaths(t *testing.T) {
	b := &Bridge{Root: t.TempDir()}
	for _, p := range []string{b.Root + "/ns/pod/c.txt", b.Root + "/ns/c.log", b.Root + "/ns/pod/x/c.log", "/etc/hostname"} {
		b.MirrorFile(p)
	}
	if _, err := os.Stat(b.Root + "/.cri"); !os.IsNotExist(err) {
		t.Fatalf("something was mirrored: %v", err)
	}
}
