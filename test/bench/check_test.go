package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
)

// The live-logs check catches a run that dropped and doubled lines in equal number, a line out
// of order and a pod missing, and passes every tool's prefix.
func TestSeqCheck(t *testing.T) {
	lines := func(pod string, seqs ...int) string {
		var b strings.Builder
		for _, s := range seqs {
			fmt.Fprintf(&b, "%s INFO:root:request %d handled in 12ms\n", pod, s)
		}
		return b.String()
	}
	a, b := "bench-predictor-7d9f8b-b0000", "[pod/bench-predictor-7d9f8b-b0001/kserve-container]"
	for name, tc := range map[string]struct {
		out  string
		want string
	}{
		"whole":            {lines(a, 0, 1, 2) + lines(b, 0, 1, 2), ""},
		"dropped, doubled": {lines(a, 0, 1, 1) + lines(b, 0, 1, 2), "where request 2 was next"},
		"out of order":     {lines(a, 0, 2, 1) + lines(b, 0, 1, 2), "where request 1 was next"},
		"a pod missing":    {lines(a, 0, 1, 2), "lines of 1 pods, want 2"},
		"short":            {lines(a, 0, 1) + lines(b, 0, 1, 2), "2 lines, want 3"},
	} {
		c := newSeqCheck(2, 3)
		w := c.stream(0)
		// Written in odd pieces, as a pipe hands them over.
		for i := 0; i < len(tc.out); i += 7 {
			_, _ = w.Write([]byte(tc.out[i:min(i+7, len(tc.out))]))
		}
		err := c.done()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// The text check wants every text and the line count in each output.
func TestTextCheck(t *testing.T) {
	for _, tc := range []struct {
		out  string
		rows int
		ok   bool
	}{
		{"Status:     Failed\nCondition:  STARTED false\n", 2, true},
		{"Status:     Failed\nCondition:  STARTED false\n", 3, false},
		{"Status:     Running\n", 0, false},
	} {
		c := outputHas(tc.rows, "Status:     Failed", "STARTED false")()
		_, _ = io.WriteString(c.stream(0), tc.out)
		if err := c.done(); (err == nil) != tc.ok {
			t.Errorf("%q rows %d: %v", tc.out, tc.rows, err)
		}
	}
}

// A row check counts only the benchmark's own rows: another benchmark's objects in the same
// cluster neither fail it nor make up for a missing row.
func TestRowsWith(t *testing.T) {
	for _, tc := range []struct {
		out string
		ok  bool
	}{
		{"NAMESPACE NAME\nbench-list-000 a\nbench-list-001 b\nbench-status churn\n", true},
		{"NAMESPACE NAME\nbench-list-000 a\nbench-status churn\nbench-big big\n", false},
	} {
		c := rowsWith(2, "bench-list-", "bench-list-000")()
		_, _ = io.WriteString(c.stream(0), tc.out)
		if err := c.done(); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.out, err)
		}
	}
}

// The soak's fit: a flat series has no slope, a rising one its rate.
func TestFit(t *testing.T) {
	if l := fit([]point{{2, 5}, {3, 5}, {4, 5}}); l.slope != 0 || l.mean != 5 {
		t.Errorf("flat: %+v", l)
	}
	if l := fit([]point{{2, 1}, {3, 3}, {4, 5}}); l.slope != 2 || l.mean != 3 {
		t.Errorf("rising: %+v", l)
	}
	if m := gcTrace.FindStringSubmatch("gc 7 @1.2s 1%: 0.01+0.5+0.002 ms clock, 0.02+0.1/0.3/0.1+0.005 ms cpu, 12->13->6 MB, 14 MB goal, 1 MB stacks, 0 MB globals, 2 P"); m == nil || m[1] != "6" || m[2] != "1" {
		t.Errorf("gc trace: %q", m)
	}
}

// The list floor reads a page's continue token from the protobuf envelope, as the API server
// writes it, without decoding the items.
func TestProtoContinue(t *testing.T) {
	codec := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	for _, token := range []string{"", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ"} {
		list := &corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: metav1.ListMeta{Continue: token, ResourceVersion: "123"},
			Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"continue": "no"}}}}}
		var b bytes.Buffer
		if err := codec.Encode(list, &b); err != nil {
			t.Fatal(err)
		}
		if got, err := protoContinue(b.Bytes()); err != nil || got != token {
			t.Errorf("continue %q, %v; want %q", got, err, token)
		}
	}
	if _, err := protoContinue([]byte(`{"kind":"PodList"}`)); err == nil {
		t.Error("a JSON answer was read as protobuf")
	}
}
