package printers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"sigs.k8s.io/yaml"
)

// hostile is an event message as an attacker may write it: ESC sequences, an OSC 52 clipboard
// write, a C1 CSI, DEL, a bidi override.
const hostile = "pull failed\x1b[2J\x1b]52;c;ZXZpbA==\x07 \u009b31m \x7f \u202egnp.exe"

func machineOut(t *testing.T, format string, terminal bool) string {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "hopsdeploy.hops.works/v1", "kind": "Status",
		"metadata": map[string]any{"name": "fraud"}, "events": []any{map[string]any{"message": hostile}}}}
	pf := genericclioptions.NewPrintFlags("")
	*pf.OutputFormat = format
	p, err := pf.ToPrinter()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	name, _, _ := strings.Cut(format, "=")
	if err := PrintMachine(&out, p, u, name, terminal); err != nil {
		t.Fatalf("-o %s: %v", format, err)
	}
	return out.String()
}

func actsOnTerminal(s string) bool {
	return strings.ContainsAny(s, "\x1b\x07\x7f\u009b\u202e")
}

// Machine output of hostile cluster text: JSON escaped to the same value, YAML valid always,
// jsonpath sanitised on a terminal and kept as bytes when piped.
func TestMachineOutputIsSafe(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		js := machineOut(t, "json", terminal)
		var v struct {
			Events []struct{ Message string } `json:"events"`
		}
		if err := json.Unmarshal([]byte(js), &v); err != nil || len(v.Events) != 1 || v.Events[0].Message != hostile {
			t.Errorf("-o json is not the same value: %v %+v", err, v)
		}
		if actsOnTerminal(js) {
			t.Errorf("-o json carries raw controls: %q", js)
		}
		ym := machineOut(t, "yaml", terminal)
		var m map[string]any
		if err := yaml.Unmarshal([]byte(ym), &m); err != nil || actsOnTerminal(ym) {
			t.Errorf("-o yaml: %v %q", err, ym)
		}
	}
	if got := machineOut(t, "jsonpath={.events[0].message}", true); actsOnTerminal(got) || !strings.Contains(got, "pull failed") {
		t.Errorf("-o jsonpath on a terminal: %q", got)
	}
	if got := machineOut(t, "jsonpath={.events[0].message}", false); got != hostile {
		t.Errorf("-o jsonpath piped keeps the bytes: %q", got)
	}
}
