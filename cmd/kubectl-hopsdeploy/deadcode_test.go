package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The linker drops the exported methods nothing calls only while no reachable code looks a
// method up by a name known at run time (reflect's Method or MethodByName, as text/template's
// and html/template's execution do). One such call keeps every exported method of every type:
// the binary grew from 33 to 54 MB and every command started with 7 MiB more resident. The
// linker's dependency dump marks such a function <ReflectMethod>; it names who reached it.
func TestNoMethodLookupByNameIsReachable(t *testing.T) {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-dumpdep", "-o", filepath.Join(t.TempDir(), "plugin"), ".")
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var marked []string
	lines := bufio.NewScanner(stderr)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		// "caller -> callee <ReflectMethod>": the edge that made callee reachable.
		if l := lines.Text(); strings.HasSuffix(l, "<ReflectMethod>") && len(marked) < 10 {
			marked = append(marked, l)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	if len(marked) > 0 {
		t.Errorf("code that looks methods up by name is reachable, so the linker keeps every exported method (use no text/template or html/template execution):\n%s", strings.Join(marked, "\n"))
	}
}
