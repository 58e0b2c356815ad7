package printers_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// hostile is what an attacker writes into any field: an OSC 52 clipboard write, a raw 8-bit
// CSI, and a bidi override.
const hostile = "\x1b]52;c;cm0gLXJmIH4=\x07\x9b2J\u202e"

func assertSafe(t *testing.T, what string, out []byte) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\x07", "\x9b", "\u202e"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("%s prints %q raw:\n%s", what, bad, out)
		}
	}
}

// Every human view of a deployment whose names, reasons, messages and log lines carry
// terminal control sequences prints them neutralised.
func TestHostileFieldsAreNeutralised(t *testing.T) {
	sc := fixtures.PredictorCrashLoop("demo", "churn")
	snap := sc.Snapshot(now)
	p := &snap.Pods[0]
	p.Name += hostile
	cs := &p.Status.ContainerStatuses[0]
	cs.State.Waiting.Message = hostile
	cs.LastTerminationState.Terminated.Reason = "Error" + hostile
	p.Status.Conditions[len(p.Status.Conditions)-1].Message = hostile
	for i := range snap.Events {
		snap.Events[i].Message += hostile
		snap.Events[i].Reason += hostile
		snap.Events[i].InvolvedObject.Name = p.Name
	}
	conds, _, _ := unstructured.NestedSlice(snap.ISVC.Object, "status", "conditions")
	conds[0].(map[string]any)["message"] = hostile
	conds[0].(map[string]any)["reason"] = "R" + hostile
	_ = unstructured.SetNestedSlice(snap.ISVC.Object, conds, "status", "conditions")

	style := printers.NewStyle(false)
	style.Now = now
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	r.Diagnosis.AttachLogs([]string{"Traceback (most recent call last):", "ValueError: " + hostile})
	before, _ := json.Marshal(r)
	var out bytes.Buffer
	if err := printers.Status(&out, r, style); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, "status", out.Bytes())
	// The printer renders a sanitised copy: the report it was given is as it was.
	if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
		t.Error("printers.Status changed the report it was given")
	}
	if !strings.Contains(out.String(), `\x1b]52`) {
		t.Errorf("the neutralised sequence is not shown for what it is:\n%s", out.String())
	}

	w := diagnose.Explain(snap)
	w.AttachLogs([]string{hostile}, "live")
	before, _ = json.Marshal(w)
	out.Reset()
	if err := printers.Why(&out, w, style); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, "why", out.Bytes())
	if after, _ := json.Marshal(w); !bytes.Equal(before, after) {
		t.Error("printers.Why changed the report it was given")
	}

	out.Reset()
	if err := printers.Timeline(&out, diagnose.Timeline(snap, []diagnose.Entry{{Time: now, Kind: "log", Object: "pod/" + p.Name, What: hostile}})); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, "timeline", out.Bytes())

	out.Reset()
	row := printers.RowOf(snap, diagnose.Build(snap))
	row.Name += hostile
	if err := printers.List(&out, []printers.ListRow{row}, true, true, style); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, "list", out.Bytes())

	out.Reset()
	deaths := diagnose.Deaths(snap.Pods, nil, now.Add(-24*60*60*1e9))
	for i := range deaths {
		deaths[i].Lines = []string{hostile}
	}
	if err := printers.LastWords(&out, deaths, true); err != nil {
		t.Fatal(err)
	}
	assertSafe(t, "last words", out.Bytes())
}
