package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

// status quotes the last lines of the container its diagnosis names: here the previous
// instance of a container killed for memory.
func TestStatusQuotesTheContainerTheDiagnosisNames(t *testing.T) {
	sc := fixtures.OOMKilled("ns", "bigmodel")
	c, _ := clientsOf(t, sc)
	r, err := Status(context.Background(), Sources{Cluster: c}, "ns", "bigmodel", 5)
	if err != nil {
		t.Fatal(err)
	}
	d := r.Diagnosis
	if d == nil || d.Logs == nil || !d.Logs.Previous || d.Logs.Container != state.ContainerMain {
		t.Fatalf("diagnosis %+v", d)
	}
	if want := sc.LogLines(sc.PodNames()[0], state.ContainerMain, true); fmt.Sprint(d.Logs.Lines) != fmt.Sprint(want) {
		t.Errorf("quoted %q, want %q", d.Logs.Lines, want)
	}
}

// A log that cannot be read is said in the evidence; the diagnosis stands without it.
func TestStatusSaysWhenTheLogCannotBeRead(t *testing.T) {
	sc := fixtures.OOMKilled("ns", "bigmodel")
	sc.Logs = nil
	c, _ := clientsOf(t, sc)
	r, err := Status(context.Background(), Sources{Cluster: c}, "ns", "bigmodel", 5)
	if err != nil {
		t.Fatal(err)
	}
	if ev := strings.Join(r.Diagnosis.Evidence, "\n"); !strings.Contains(ev, "could not read the log: ") {
		t.Errorf("evidence %q", ev)
	}
}

// A name that nothing in the cluster carries is Stopped when history saw it (inferred, and
// said so, without Hopsworks), deleted when Hopsworks no longer knows it, and not found
// with a hint when history cannot be read.
func TestStatusOfANameTheClusterDoesNotHave(t *testing.T) {
	c, _ := clientsOf(t, fixtures.Running("ns", "fraud"))
	seen := &fakeHistory{lines: historyLines(3, now.Add(-time.Hour))}

	r, err := Status(context.Background(), Sources{Cluster: c, History: seen.open}, "ns", "stopped", 5)
	if err != nil || r.Status != string(state.Stopped) || r.History == nil || r.StatusSource != diagnose.StatusFromHistory {
		t.Fatalf("report %+v, err %v", r, err)
	}
	if !r.History.At.Equal(now.Add(-time.Hour)) || r.History.Message != "history line 2" {
		t.Errorf("last seen %+v", r.History)
	}

	deleted := func(context.Context, string) (string, bool, error) { return "", false, nil }
	_, err = Status(context.Background(), Sources{Cluster: c, History: seen.open, Hopsworks: deleted}, "ns", "stopped", 5)
	var nf *cluster.NotFoundError
	if !errors.As(err, &nf) || !strings.Contains(nf.Hint, "deleted") {
		t.Errorf("a deployment Hopsworks does not know: err %v", err)
	}

	down := &fakeHistory{err: &history.Error{Kind: history.Unreachable, Msg: "unreachable"}}
	_, err = Status(context.Background(), Sources{Cluster: c, History: down.open}, "ns", "stopped", 5)
	if !errors.As(err, &nf) || !strings.Contains(nf.Hint, "its history could not be read either: unreachable") {
		t.Errorf("history down: err %v", err)
	}

	_, err = Status(context.Background(), Sources{Cluster: c}, "ns", "fruad", 5)
	if !errors.As(err, &nf) || nf.Hint != noHistoryHint || fmt.Sprint(nf.Suggestions) != "[fraud]" {
		t.Errorf("no history: err %v (%+v)", err, nf)
	}
}

// why quotes the failing container's last lines with their source, and its traceback.
func TestWhyQuotesTheTraceback(t *testing.T) {
	c, _ := clientsOf(t, fixtures.PredictorCrashLoop("ns", "churn"))
	w, err := Why(context.Background(), Sources{Cluster: c}, "ns", "churn", 20)
	if err != nil {
		t.Fatal(err)
	}
	if w.LogSource != "previous instance" || len(w.Traceback) == 0 || w.Traceback[len(w.Traceback)-1] != "ModuleNotFoundError: No module named 'xgboost'" {
		t.Errorf("log source %q, traceback %q", w.LogSource, w.Traceback)
	}
}

// Once the pods are gone, why reads each component's last lines from history.
func TestWhyOfAGoneDeploymentQuotesHistory(t *testing.T) {
	c, _ := clientsOf(t, fixtures.Running("ns", "fraud"))
	h := &fakeHistory{lines: historyLines(30, now.Add(-time.Hour))}
	w, err := Why(context.Background(), Sources{Cluster: c, History: h.open}, "ns", "stopped", 5)
	if err != nil {
		t.Fatal(err)
	}
	if w.Status != string(state.Stopped) || len(w.LastWords) != 1 || w.LastWords[0].Component != state.ComponentPredictor ||
		fmt.Sprint(w.LastWords[0].Lines) != "[history line 25 history line 26 history line 27 history line 28 history line 29]" {
		t.Errorf("why %+v", w)
	}
}

// The timeline merges events, container lives and, when asked, the stamped log lines of
// every container instance, previous ones included, in time order.
func TestTimelineWithLogs(t *testing.T) {
	sc := fixtures.OOMKilled("ns", "bigmodel")
	c, _ := clientsOf(t, sc)
	entries, err := Timeline(context.Background(), Sources{Cluster: c}, "ns", "bigmodel", true, 10)
	if err != nil {
		t.Fatal(err)
	}
	var logsSeen, eventsSeen int
	for i, e := range entries {
		if i > 0 && e.Time.Before(entries[i-1].Time) {
			t.Errorf("entry %d (%v) before entry %d (%v)", i, e.Time, i-1, entries[i-1].Time)
		}
		switch e.Kind {
		case "log":
			logsSeen++
			if !strings.HasSuffix(e.Object, "/kserve-container (previous)") {
				t.Errorf("log entry of %s", e.Object)
			}
		case "event":
			eventsSeen++
		}
	}
	if logsSeen != 2 || eventsSeen == 0 {
		t.Errorf("%d log entries (want 2), %d events:\n%+v", logsSeen, eventsSeen, entries)
	}
}

// A bundle holds every container instance's lines, but not the inference logger's request
// payloads unless asked; no OpenSearch, no history section.
func TestBundleLeavesPayloadsOutUnlessAsked(t *testing.T) {
	sc := fixtures.Running("ns", "fraud")
	c, _ := clientsOf(t, sc)
	pod := sc.PodNames()[0]
	for _, include := range []bool{false, true} {
		b, err := Bundle(context.Background(), Sources{Cluster: c}, "ns", "fraud", include)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := b.Logs[bundle.LogKey(pod, state.ContainerMain, false)]; !ok {
			t.Errorf("no main container log in the bundle: %v", keys(b.Logs))
		}
		if _, ok := b.Logs[bundle.LogKey(pod, PayloadContainer, false)]; ok != include {
			t.Errorf("includePayloads %v: inference logger in the bundle: %v", include, ok)
		}
		if len(b.History) != 0 {
			t.Errorf("history without OpenSearch: %q", b.History)
		}
	}
}

// A bundle's history is the window around the last failure, the payloads left out.
func TestBundleHistoryIsTheWindowOfTheLastFailure(t *testing.T) {
	sc := fixtures.OOMKilled("ns", "bigmodel")
	c, snap := clientsOf(t, sc)
	h := &fakeHistory{}
	if _, err := Bundle(context.Background(), Sources{Cluster: c, History: h.open}, "ns", "bigmodel", false); err != nil {
		t.Fatal(err)
	}
	last := snap.Pods[0].Status.ContainerStatuses[0].LastTerminationState.Terminated.FinishedAt.Time
	if len(h.asked) != 1 {
		t.Fatalf("asked %+v", h.asked)
	}
	q := h.asked[0]
	if !q.Since.Equal(last.Add(-10*time.Minute)) || !q.Until.Equal(last.Add(time.Minute)) || fmt.Sprint(q.ExceptContainers) != "["+PayloadContainer+"]" {
		t.Errorf("query %+v, last failure at %v", q, last)
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
