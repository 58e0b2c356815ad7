package inspect

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
)

var (
	_ Cluster = (*cluster.Clients)(nil)
	_ Cluster = (*bundle.Source)(nil)
)

// roundTrip writes a deployment's bundle as the command does and reads it back.
func roundTrip(t *testing.T, sc fixtures.Scenario) (*bundle.Bundle, *cluster.Clients) {
	t.Helper()
	c, _ := clientsOf(t, sc)
	b, err := Bundle(context.Background(), Sources{Cluster: c}, sc.Serving.Namespace, sc.Serving.Name, false)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	read, err := bundle.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return read, c
}

// why, timeline, the chart and logs say of a bundle what they say of the cluster it was taken
// from (ages aside: a bundle's are as of when it was taken).
func TestCommandsOnABundleSayWhatTheySayLive(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"predictorcrash", "oomkilled", "storageinitfailing", "running"} {
		sc := fixtures.Catalog("ns")[name]
		b, live := roundTrip(t, sc)
		off := Sources{Cluster: b.Source()}
		ns, dep := sc.Serving.Namespace, sc.Serving.Name

		wl, err := Why(ctx, Sources{Cluster: live}, ns, dep, 20)
		if err != nil {
			t.Fatal(err)
		}
		wb, err := Why(ctx, off, ns, dep, 20)
		if err != nil {
			t.Fatal(err)
		}
		if wl.Diagnosis.Cause != wb.Diagnosis.Cause || wl.FailingStep != wb.FailingStep || strings.Join(wl.Traceback, "\n") != strings.Join(wb.Traceback, "\n") ||
			(wl.Diagnosis.Logs == nil) != (wb.Diagnosis.Logs == nil) || wl.Diagnosis.Logs != nil && strings.Join(wl.Diagnosis.Logs.Lines, "\n") != strings.Join(wb.Diagnosis.Logs.Lines, "\n") {
			t.Errorf("%s: why differs:\nlive   %q %q %+v\nbundle %q %q %+v", name, wl.FailingStep, wl.Diagnosis.Cause, wl.Diagnosis.Logs, wb.FailingStep, wb.Diagnosis.Cause, wb.Diagnosis.Logs)
		}
		tl, err := Timeline(ctx, Sources{Cluster: live}, ns, dep, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		tb, err := Timeline(ctx, off, ns, dep, false, 0)
		if err != nil || len(tl) != len(tb) {
			t.Errorf("%s: timeline of %d entries live, %d from the bundle (%v)", name, len(tl), len(tb), err)
		}
		if _, err := Chart(ctx, off, ns, dep); err != nil {
			t.Errorf("%s: chart: %v", name, err)
		}

		// logs, and the last words, of each container the bundle keeps (not the inference
		// logger's payloads): the same lines as live (streams are read in parallel: in any
		// order between them).
		for _, previous := range []bool{false, true} {
			var liveOut, bundleOut syncBuffer
			cfg := LogsConfig{Namespace: ns, Deployment: dep, Component: "all", Containers: []string{"kserve-container,storage-initializer"}, Tail: 5,
				Previous: previous, Source: SourceLive, MaxRequests: 50, Out: &liveOut, ErrOut: &syncBuffer{}, Now: func() time.Time { return now }}
			liveErr := Logs(ctx, LogSources{Kube: live.Kube, Open: live.Logs}, sc.Snapshot(now), cfg)
			cfg.Out = &bundleOut
			bundleErr := Logs(ctx, LogSources{Open: b.Source().OpenLog}, b.Objects.Snapshot(), cfg)
			// An instance the bundle does not hold reads as empty (the command says once what
			// a bundle leaves out), where the kubelet answers 400 for one there never was.
			if sortedLines(liveOut.String()) != sortedLines(bundleOut.String()) || bundleErr != nil {
				t.Errorf("%s (previous %v): logs differ (live err %v, bundle err %v):\nlive:\n%s\nbundle:\n%s", name, previous, liveErr, bundleErr, liveOut.String(), bundleOut.String())
			}
		}
		cfg := LogsConfig{Namespace: ns, Deployment: dep, Component: "all", Tail: 5, LastWords: true, Source: SourceLive, ErrOut: &syncBuffer{}}
		dl, errL := LastWords(ctx, LogSources{Kube: live.Kube, Open: live.Logs}, sc.Snapshot(now), cfg)
		db, errB := LastWords(ctx, LogSources{Open: b.Source().OpenLog}, b.Objects.Snapshot(), cfg)
		if fmt.Sprint(dl) != fmt.Sprint(db) || fmt.Sprint(errL) != fmt.Sprint(errB) {
			t.Errorf("%s: last words differ:\nlive   %+v %v\nbundle %+v %v", name, dl, errL, db, errB)
		}
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// A bundle holds one deployment: another name or namespace is an error.
func TestABundleHoldsOneDeployment(t *testing.T) {
	b, _ := roundTrip(t, fixtures.Running("ns", "fraud"))
	if _, err := Why(context.Background(), Sources{Cluster: b.Source()}, "ns", "other", 5); err == nil || !strings.Contains(err.Error(), "the bundle holds fraud in namespace ns, not other in ns") {
		t.Errorf("err %v", err)
	}
}
