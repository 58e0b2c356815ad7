package printers_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// now is the pinned clock of every golden file.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Every scenario of the catalog, from its pure snapshot to what status (human and JSON), why
// and timeline print, compared with testdata/golden (go test ./pkg/printers -update rewrites
// them; read the diff before committing it).
func TestGolden(t *testing.T) {
	for name, sc := range fixtures.Catalog("demo") {
		t.Run(name, func(t *testing.T) {
			snap := sc.Snapshot(now)

			// status: warnings only, as the gatherer reads them; the quoted log's last 10 lines.
			warn := *snap
			warn.Events = nil
			for _, e := range snap.Events {
				if e.Type == corev1.EventTypeWarning {
					warn.Events = append(warn.Events, e)
				}
			}
			r := diagnose.Build(&warn)
			r.Diagnosis = diagnose.Diagnose(&warn, r)
			if l := r.Diagnosis.Logs; l != nil {
				r.Diagnosis.AttachLogs(last(sc.LogLines(l.Pod, l.Container, l.Previous), 10))
			}
			style := printers.NewStyle(false)
			style.Now = now
			var status bytes.Buffer
			if err := printers.Status(&status, r, style); err != nil {
				t.Fatal(err)
			}
			compare(t, name+".status.txt", status.Bytes())
			js, _ := json.MarshalIndent(r, "", "  ")
			compare(t, name+".status.json", append(js, '\n'))

			// why: the failing container's last 20 lines.
			w := diagnose.Explain(&warn)
			if l := w.Diagnosis.Logs; l != nil {
				source := "live"
				if l.Previous {
					source = "previous instance"
				}
				w.AttachLogs(last(sc.LogLines(l.Pod, l.Container, l.Previous), 20), source)
			}
			var why bytes.Buffer
			if err := printers.Why(&why, w, style); err != nil {
				t.Fatal(err)
			}
			compare(t, name+".why.txt", why.Bytes())

			// timeline: every event type.
			var tl bytes.Buffer
			if err := printers.Timeline(&tl, diagnose.Timeline(snap, nil)); err != nil {
				t.Fatal(err)
			}
			compare(t, name+".timeline.txt", tl.Bytes())

			// The derivation's status is the one the catalog's scenario is named for.
			if r.Status == "" || state.Status(r.Status) == state.Creating {
				t.Errorf("no status derived: %q", r.Status)
			}
		})
	}
}

func last(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

func compare(t *testing.T, file string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", file)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./pkg/printers -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./pkg/printers -update rewrites it):\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}
