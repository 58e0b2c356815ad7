package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// untar returns every file of a bundle, by name.
func untar(t *testing.T, b []byte) map[string]string {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[h.Name] = string(data)
	}
}

// Redaction, one place at a time: the planted value never reaches any file of the bundle, and
// what is not a secret stays.
func TestRedaction(t *testing.T) {
	const secret = "s3cr3t-marker-4711"
	tests := []struct {
		name  string
		plant func(s *state.Snapshot)
	}{
		{"pod env value", func(s *state.Snapshot) {
			s.Pods[0].Spec.Containers[0].Env = []corev1.EnvVar{{Name: "AWS_SECRET_ACCESS_KEY", Value: secret}}
		}},
		{"init container env value", func(s *state.Snapshot) {
			s.Pods[0].Spec.InitContainers[0].Env = []corev1.EnvVar{{Name: "TOKEN", Value: secret}}
		}},
		{"pod last-applied-configuration", func(s *state.Snapshot) {
			s.Pods[0].Annotations = map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"env":"` + secret + `"}`}
		}},
		{"InferenceService env value", func(s *state.Snapshot) {
			_ = unstructured.SetNestedSlice(s.ISVC.Object, []any{map[string]any{
				"name": "kserve-container", "env": []any{map[string]any{"name": "API_KEY", "value": secret}}}}, "spec", "predictor", "containers")
		}},
		{"InferenceService last-applied-configuration", func(s *state.Snapshot) {
			a := s.ISVC.GetAnnotations()
			a["kubectl.kubernetes.io/last-applied-configuration"] = secret
			s.ISVC.SetAnnotations(a)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := fixtures.Running("demo", "fraud").Snapshot(now)
			tc.plant(snap)
			b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap), Logs: map[string][]string{}}
			if err := b.SetReport(); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := bundle.Write(&buf, b); err != nil {
				t.Fatal(err)
			}
			files := untar(t, buf.Bytes())
			for name, data := range files {
				if strings.Contains(data, secret) {
					t.Errorf("%s holds the secret", name)
				}
			}
			if !strings.Contains(files["bundle.json"], bundle.Redacted) {
				t.Errorf("nothing marked %s in bundle.json", bundle.Redacted)
			}
			if !strings.Contains(files["bundle.json"], "AWS_SECRET_ACCESS_KEY") && tc.name == "pod env value" {
				t.Errorf("the variable's name is gone too: only values are secrets")
			}
		})
	}
}

// A bundle read back gives the report that was written into it.
func TestRoundTrip(t *testing.T) {
	sc := fixtures.StorageInitFailing("demo", "irisinit")
	snap := sc.Snapshot(now)
	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap), Logs: map[string][]string{}}
	pod := snap.Pods[0].Name
	b.Logs[bundle.LogKey(pod, state.ContainerStorage, true)] = sc.LogLines(pod, state.ContainerStorage, true)
	if err := b.SetReport(); err != nil {
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
	got, want := read.Report(), b.Report()
	if got.Status != "Failed" || got.Status != want.Status || got.Diagnosis.Cause != want.Diagnosis.Cause || len(got.Diagnosis.Logs.Lines) == 0 {
		t.Errorf("read back: %s %q, want %s %q", got.Status, got.Diagnosis.Cause, want.Status, want.Diagnosis.Cause)
	}
}
