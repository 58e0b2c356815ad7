package inspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/logs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes/fake"
)

// logsRun is a logs run of a scenario's deployment, with its output.
type logsRun struct {
	src         LogSources
	snap        *state.Snapshot
	out, errOut *syncBuffer
}

func newLogsRun(t *testing.T, sc fixtures.Scenario, h *fakeHistory) *logsRun {
	c, snap := clientsOf(t, sc)
	r := &logsRun{src: LogSources{Kube: c.Kube, Open: c.Logs, HistoryHint: "set --opensearch-url"}, snap: snap, out: &syncBuffer{}, errOut: &syncBuffer{}}
	if h != nil {
		r.src.History = h.open
	}
	return r
}

func (r *logsRun) config(mod func(*LogsConfig)) LogsConfig {
	c := LogsConfig{Namespace: r.snap.Namespace, Deployment: r.snap.Name, Component: "predictor", Tail: 10, Source: SourceAuto,
		MaxRequests: 50, Out: r.out, ErrOut: r.errOut, Now: func() time.Time { return now }}
	if mod != nil {
		mod(&c)
	}
	return c
}

// Following more streams than --max-log-requests fails at once with the number needed, as
// kubectl logs -f does: queued followed streams would never get a slot.
func TestFollowMoreStreamsThanTheBoundFailsFast(t *testing.T) {
	r := newLogsRun(t, fixtures.Running("ns", "fraud"), nil)
	cfg := r.config(func(c *LogsConfig) {
		c.Component, c.Containers, c.Follow, c.MaxRequests = "all", []string{"all"}, true, 5
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := Logs(ctx, r.src, r.snap, cfg)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "following 10 log streams needs --max-log-requests=10 or more (it is 5)") {
		t.Fatalf("err %v", err)
	}
}

// What the cluster shows wrong in a request is a UsageError that names the valid choices.
func TestLogsRequestsTheDeploymentCannotServe(t *testing.T) {
	tests := []struct {
		name string
		sc   fixtures.Scenario
		mod  func(*LogsConfig)
		want string
	}{
		{"unknown container", fixtures.Running("ns", "fraud"), func(c *LogsConfig) { c.Containers = []string{"sidecar"} },
			`unknown container "sidecar" in fraud predictor: valid containers are storage-initializer, kserve-container, queue-proxy, agent, inference-logger, or all`},
		{"a pod of another component", fixtures.Running("ns", "fraud"), func(c *LogsConfig) { c.Pod = "fraud-transformer-00001-deployment-m2k9w" },
			`pod "fraud-transformer-00001-deployment-m2k9w" is not an instance of fraud predictor`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newLogsRun(t, tt.sc, nil)
			err := Logs(context.Background(), r.src, r.snap, r.config(tt.mod))
			var ue *UsageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want a usage error with %q", err, tt.want)
			}
			if r.out.String() != "" {
				t.Errorf("printed %q for a request that cannot be served", r.out.String())
			}
		})
	}
}

// A transformer asked of a deployment that has none is the cluster's answer (exit 1), not a
// usage error: the flag is valid, the deployment has no such component.
func TestLogsOfATransformerThatIsNotThere(t *testing.T) {
	r := newLogsRun(t, fixtures.PredictorCrashLoop("ns", "churn"), nil)
	err := Logs(context.Background(), r.src, r.snap, r.config(func(c *LogsConfig) { c.Component = "transformer" }))
	var ue *UsageError
	if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), "deployment churn has no transformer: use -c predictor") {
		t.Errorf("err %v (%T)", err, err)
	}
}

// Every selected container of every pod of the component is read, each line prefixed with
// its pod and container when there is more than one stream.
func TestLogsReadsEveryStreamOfTheComponent(t *testing.T) {
	sc := fixtures.Running("ns", "fraud")
	r := newLogsRun(t, sc, nil)
	err := Logs(context.Background(), r.src, r.snap, r.config(func(c *LogsConfig) {
		c.Component, c.Containers, c.Tail = "all", []string{"kserve-container,queue-proxy"}, 2
	}))
	if err != nil {
		t.Fatalf("Logs: %v (stderr %q)", err, r.errOut.String())
	}
	names := sc.PodNames()
	for _, want := range []string{
		names[0] + " kserve-container " + sc.LogLines(names[0], "kserve-container", false)[12],
		names[1] + " kserve-container " + sc.LogLines(names[1], "kserve-container", false)[4],
		names[1] + " queue-proxy " + sc.LogLines(names[1], "queue-proxy", false)[0],
	} {
		if !strings.Contains(r.out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, r.out.String())
		}
	}
	if n := strings.Count(r.out.String(), "\n"); n != 6 { // two pods, 2 main lines and 1 queue-proxy line each
		t.Errorf("%d lines, want 6:\n%s", n, r.out.String())
	}
}

// Without -f, a read where some streams failed and others were printed is a PartialError
// (its own exit code), not a success.
func TestLogsWithSomeStreamsFailedIsPartial(t *testing.T) {
	sc := fixtures.Running("ns", "fraud")
	r := newLogsRun(t, sc, nil)
	good := r.src.Open
	denied := sc.PodNames()[1]
	r.src.Open = func(ctx context.Context, ns, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
		if pod == denied {
			return nil, apierrors.NewForbidden(corev1.Resource("pods/log"), pod, fmt.Errorf("no"))
		}
		return good(ctx, ns, pod, opts)
	}
	err := Logs(context.Background(), r.src, r.snap, r.config(func(c *LogsConfig) { c.Component = "all" }))
	var pe *PartialError
	if !errors.As(err, &pe) || pe.Failed != 1 || !strings.Contains(r.out.String(), "Uvicorn running") {
		t.Errorf("err %v, out %q, stderr %q", err, r.out.String(), r.errOut.String())
	}
}

// A deployment with nothing in the cluster is read from history, and the user is told why.
func TestLogsOfAGoneDeploymentComeFromHistory(t *testing.T) {
	h := &fakeHistory{lines: historyLines(5, now.Add(-time.Hour))}
	r := newLogsRun(t, fixtures.Running("ns", "fraud"), h)
	gone := Gone("ns", "fraud")
	err := Logs(context.Background(), r.src, gone, r.config(func(c *LogsConfig) { c.Tail = 3 }))
	if err != nil {
		t.Fatalf("Logs: %v", err)
	}
	if got := r.out.String(); strings.Count(got, "history line") != 3 || !strings.Contains(got, "history line 4") {
		t.Errorf("want the last 3 history lines, got %q", got)
	}
	if !strings.Contains(r.errOut.String(), "source: nothing of fraud is in the cluster (stopped?): reading history") {
		t.Errorf("stderr %q", r.errOut.String())
	}
	if len(h.asked) != 1 || h.asked[0].Deployment != "fraud" || fmt.Sprint(h.asked[0].Components) != "[predictor]" || fmt.Sprint(h.asked[0].Containers) != "[kserve-container]" {
		t.Errorf("history asked %+v", h.asked)
	}
}

// A window older than the pods reads history up to the newest instance's start, then live; a
// history failure is said in its place, the live lines are printed, and the run's error is
// the history's, marked as already reported.
func TestLogsHistoryFailureBeforeLiveLinesIsReported(t *testing.T) {
	h := &fakeHistory{err: &history.Error{Kind: history.Unreachable, Msg: "OpenSearch at https://os:9200 is unreachable"}}
	r := newLogsRun(t, fixtures.Running("ns", "fraud"), h)
	err := Logs(context.Background(), r.src, r.snap, r.config(func(c *LogsConfig) { c.Since, c.Tail = 2*time.Hour, -1 }))
	var rep *ReportedError
	if !errors.As(err, &rep) {
		t.Fatalf("err %v (%T), want a ReportedError", err, err)
	}
	if !strings.Contains(r.errOut.String(), "error: OpenSearch at https://os:9200 is unreachable") || !strings.Contains(r.out.String(), "Uvicorn running") {
		t.Errorf("stdout %q\nstderr %q", r.out.String(), r.errOut.String())
	}
}

// --last-words returns each container that died with its exit reason and its final lines,
// read from the previous instance.
func TestLastWordsReadThePreviousInstance(t *testing.T) {
	sc := fixtures.OOMKilled("ns", "bigmodel")
	r := newLogsRun(t, sc, nil)
	deaths, err := LastWords(context.Background(), r.src, r.snap, r.config(func(c *LogsConfig) { c.LastWords = true }))
	if err != nil || len(deaths) != 1 {
		t.Fatalf("deaths %+v, err %v", deaths, err)
	}
	d := deaths[0]
	if d.Container != state.ContainerMain || d.Reason != "OOMKilled" || d.ExitCode != 137 || !d.Previous() ||
		fmt.Sprint(d.Lines) != fmt.Sprint(sc.LogLines(sc.PodNames()[0], state.ContainerMain, true)) {
		t.Errorf("death %+v", d)
	}
}

// Once the pods are gone, the last words come from history, which keeps no exit reason.
func TestLastWordsOfGonePodsComeFromHistory(t *testing.T) {
	h := &fakeHistory{lines: historyLines(20, now.Add(-time.Hour))}
	r := newLogsRun(t, fixtures.Running("ns", "fraud"), h)
	deaths, err := LastWords(context.Background(), r.src, Gone("ns", "fraud"), r.config(func(c *LogsConfig) { c.LastWords, c.Tail = true, -1 }))
	if err != nil || len(deaths) != 1 {
		t.Fatalf("deaths %+v, err %v", deaths, err)
	}
	if d := deaths[0]; d.Source != "history" || len(d.Lines) != 10 || d.Lines[9] != "history line 19" || !strings.Contains(d.Reason, "no exit reason") {
		t.Errorf("death %+v", d)
	}
	// Without OpenSearch there is nothing to read, and the user is told what to set.
	r.src.History = nil
	deaths, err = LastWords(context.Background(), r.src, Gone("ns", "fraud"), r.config(func(c *LogsConfig) { c.LastWords = true }))
	if err != nil || deaths != nil || !strings.Contains(r.errOut.String(), "set --opensearch-url for their last lines") {
		t.Errorf("deaths %+v, err %v, stderr %q", deaths, err, r.errOut.String())
	}
}

// A logs run with no explicit opener reads the API server's pods/log through Kube.
func TestLogsDefaultsToThePodsLogOfTheAPIServer(t *testing.T) {
	sc := fixtures.Running("ns", "fraud")
	r := newLogsRun(t, sc, nil)
	r.src = LogSources{Kube: fake.NewClientset(&r.snap.Pods[0])}
	if err := Logs(context.Background(), r.src, r.snap, r.config(nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.out.String(), "fake logs") { // client-go's fake serves this body
		t.Errorf("out %q", r.out.String())
	}
}

var _ logs.StreamOpener = scenarioLogs{}.open
