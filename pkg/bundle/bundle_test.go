package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/test/fixtures"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// writeAndUntar writes a bundle with its report and returns its files, by name.
func writeAndUntar(t *testing.T, b *bundle.Bundle) map[string]string {
	t.Helper()
	if err := b.SetReport(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	return untar(t, buf.Bytes())
}

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
		if h.Mode != 0o600 {
			t.Errorf("%s is mode %o in the tar: extracted, others could read it", h.Name, h.Mode)
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
		{"Standard-mode Deployment's pod template env value", func(s *state.Snapshot) {
			d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "fraud-predictor"}}
			d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "kserve-container", Env: []corev1.EnvVar{{Name: "HOPSWORKS_API_KEY", Value: secret}}}}
			s.ComponentDeployments = append(s.ComponentDeployments, d)
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
			files := writeAndUntar(t, b)
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
			if strings.HasPrefix(tc.name, "Standard-mode") && !strings.Contains(files["bundle.json"], "HOPSWORKS_API_KEY") {
				t.Errorf("the Standard-mode Deployment is not in the bundle")
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
	read := roundTrip(t, b)
	got, want := read.Report(), b.Report()
	if got.Status != "Failed" || got.Status != want.Status || got.Diagnosis.Cause != want.Diagnosis.Cause || len(got.Diagnosis.Logs.Lines) == 0 {
		t.Errorf("read back: %s %q, want %s %q", got.Status, got.Diagnosis.Cause, want.Status, want.Diagnosis.Cause)
	}
}

// marker is the secret planted everywhere a credential can hide.
const marker = "Mk7Zq9SECRETx"

// A marker secret planted in every place a credential hides in a deployment's objects, logs
// and history is absent from every byte of the bundle.
func TestNothingLeaks(t *testing.T) {
	snap := fixtures.Running("demo", "fraud").Snapshot(now)
	isvc := snap.ISVC
	_ = unstructured.SetNestedField(isvc.Object, "s3://AKIAABCDEFGHIJKLMNOP:"+marker+"@models/fraud", "spec", "predictor", "model", "storageUri")
	_ = unstructured.SetNestedSlice(isvc.Object, []any{map[string]any{"name": "kserve-container",
		"args": []any{"--storage_uri=s3://key:" + marker + "@b", "--api_key=" + marker},
		"env":  []any{map[string]any{"name": "HOPSWORKS_API_KEY", "value": marker}}}}, "spec", "predictor", "containers")
	ann := isvc.GetAnnotations()
	ann["kapp.k14s.io/original"] = `{"spec":{"env":"` + marker + `"}}`
	ann["kubectl.kubernetes.io/last-applied-configuration"] = marker
	ann["meta.helm.sh/release-values"] = marker
	ann["serving.hops.works/artifact-path"] = "hopsfs://user:" + marker + "@namenode/Models/fraud"
	isvc.SetAnnotations(ann)
	conds, _, _ := unstructured.NestedSlice(isvc.Object, "status", "conditions")
	conds[0].(map[string]any)["message"] = "pulling s3://k:" + marker + "@bucket"
	_ = unstructured.SetNestedSlice(isvc.Object, conds, "status", "conditions")

	p := &snap.Pods[0]
	c := &p.Spec.Containers[0]
	c.Args = []string{"--model-uri", "https://alice:" + marker + "@hopsworks/model", "--token=" + marker}
	c.Command = []string{"sh", "-c", "export PASSWORD=" + marker + " && serve"}
	c.Env = []corev1.EnvVar{{Name: "SECRET", Value: marker}}
	c.ReadinessProbe.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "Authorization", Value: "Bearer " + marker}}
	p.Spec.InitContainers[0].Args = []string{"s3://AKIAABCDEFGHIJKLMNOP:" + marker + "@bucket/model.zip", "/mnt/models"}
	p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Env: []corev1.EnvVar{{Name: "TOKEN", Value: marker}}}}}
	p.Annotations = map[string]string{"vault.hashicorp.com/agent-inject-secret": marker}
	p.Status.ContainerStatuses[0].LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Message: "cannot log in with " + marker}

	dsnap := fixtures.DefaultRunning("demo", "legacy").Snapshot(now)
	tmpl := &dsnap.Deployment.Spec.Template.Spec.Containers[0]
	tmpl.Env = []corev1.EnvVar{{Name: "DB_PASSWORD", Value: marker}}
	tmpl.Args = []string{"--password", "x", "--db=postgres://u:" + marker + "@db/x"}
	snap.Deployment = dsnap.Deployment

	snap.Events = append(snap.Events, snap.Events...)
	if len(snap.Events) == 0 {
		snap.Events = append(snap.Events, dsnap.Events...)
	}
	snap.Events = append(snap.Events, corev1.Event{Message: "login failed: password=" + marker, Type: "Warning", Reason: "Failed"})

	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap)}
	b.AddLog(bundle.LogKey(p.Name, "kserve-container", false), []string{
		"connecting with token=" + marker, "Authorization: Bearer " + marker, `{"password": "` + marker + `"}`,
		"AWS key AKIAABCDEFGHIJKLMNOP used", "fetch https://u:" + marker + "@host/x"})
	b.SetHistory([]string{"2026-11-25T10:00:00Z w1 predictor kserve-container secret=" + marker,
		"2026-11-25T10:00:01Z w1 predictor kserve-container Authorization: Basic " + marker})
	files := writeAndUntar(t, b)
	for name, data := range files {
		if strings.Contains(data, marker) || strings.Contains(data, "AKIAABCDEFGHIJKLMNOP") {
			for _, l := range strings.Split(data, "\n") {
				if strings.Contains(l, marker) || strings.Contains(l, "AKIAABCDEFGHIJKLMNOP") {
					t.Errorf("%s leaks: %s", name, strings.TrimSpace(l))
				}
			}
		}
	}
	// What explains the deployment stays.
	for _, keep := range []string{"serving.hops.works/artifact-path", "HOPSWORKS_API_KEY", "--model-uri", "connecting with token="} {
		if !strings.Contains(files["bundle.json"]+files["logs/"+bundle.LogKey(p.Name, "kserve-container", false)], keep) {
			t.Errorf("%q was removed too", keep)
		}
	}
}

// A failing deployment's report quotes the failing container's last lines: they are the
// scrubbed ones, so report.json holds no secret either.
func TestReportQuotesScrubbedLines(t *testing.T) {
	snap := fixtures.Catalog("demo")["predictorcrash"].Snapshot(now)
	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap)}
	d := b.Report().Diagnosis
	if d == nil || d.Logs == nil {
		t.Fatal("the scenario's diagnosis quotes no log")
	}
	b.AddLog(bundle.LogKey(d.Logs.Pod, d.Logs.Container, d.Logs.Previous), []string{
		"connecting to db with password=" + marker, "Authorization: Bearer " + marker,
		"Traceback (most recent call last):", "ValueError: bad token=" + marker})
	if err := b.SetReport(); err != nil {
		t.Fatal(err)
	}
	files := writeAndUntar(t, b)
	if !strings.Contains(files["report.json"], "connecting to db with password=") {
		t.Fatalf("the report does not quote the lines:\n%s", files["report.json"])
	}
	for name, data := range files {
		if strings.Contains(data, marker) {
			t.Errorf("%s leaks the secret", name)
		}
	}
}

// Secrets shaped by their keys and flags, and by shapes the first rounds missed, in a failing
// deployment's objects, events, quoted lines and logs: no byte of any reaches the tar.
func TestSecretsByKeyFlagAndShape(t *testing.T) {
	snap := fixtures.Catalog("demo")["predictorcrash"].Snapshot(now)
	_ = unstructured.SetNestedMap(snap.ISVC.Object, map[string]any{"key": "localMinIO", "parameters": map[string]any{
		"secret_access_key": marker, "access_key_id": "AKID" + marker, "region": "eu-north-1"}}, "spec", "predictor", "model", "storage")
	p := &snap.Pods[0]
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "models", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{
		Driver: "blob.csi.azure.com", VolumeAttributes: map[string]string{"storageAccountKey": marker, "containerName": "models"}}}})
	c := &p.Spec.Containers[0]
	c.Args = []string{"--api-key", marker, "--model_name", "fraud", "-password", marker, "--hf-token=hf_" + marker + "abcdefghij"}
	c.Env = []corev1.EnvVar{{Name: "HF_TOKEN", Value: "hf_" + marker + "abcdefghij"}, {Name: "STORAGE_URI", Value: "s3://k:" + marker + "@b/m"}}
	ann := snap.ISVC.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann["kubectl.kubernetes.io/last-applied-configuration"] = `{"env":[{"name":"PW","value":"` + marker + `"}]}`
	ann["serving.kserve.io/storage-uri"] = "https://u:pa/ss@" + marker + "@host/m"
	snap.ISVC.SetAnnotations(ann)
	snap.Events = append(snap.Events, corev1.Event{Type: "Warning", Reason: "Failed", Message: "GET https://acct.blob.core.windows.net/m?sv=2020-08-04&sig=" + marker + "&se=2026 failed; " +
		"https://b.s3.amazonaws.com/m?X-Amz-Credential=AKID%2F" + marker + "&X-Amz-Signature=" + marker + " 403"})
	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap)}
	d := b.Report().Diagnosis
	if d == nil || d.Logs == nil {
		t.Fatal("the scenario's diagnosis quotes no log")
	}
	quoted := []string{
		"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + marker + "==;EndpointSuffix=core.windows.net",
		"token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ" + marker + ".c2lnbmF0dXJl",
		"-----BEGIN RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA" + marker, marker + "+/abc==", "-----END RSA PRIVATE KEY-----",
		"fetch https://user:pa/ss@" + marker + "@host/model.pkl", "login with hf_" + marker + "abcdefghij",
		"Traceback (most recent call last):", "ValueError: bad model",
	}
	b.AddLog(bundle.LogKey(d.Logs.Pod, d.Logs.Container, d.Logs.Previous), quoted)
	b.SetHistory(quoted)
	if err := b.SetReport(); err != nil {
		t.Fatal(err)
	}
	files := writeAndUntar(t, b)
	for name, data := range files {
		for _, l := range strings.Split(data, "\n") {
			if strings.Contains(l, marker) {
				t.Errorf("%s leaks: %s", name, strings.TrimSpace(l))
			}
		}
	}
	// What explains the deployment stays: the flags' names, the other arguments, the region.
	for _, keep := range []string{`"--api-key"`, `"fraud"`, `"eu-north-1"`, `"containerName": "models"`, "ValueError: bad model", "AccountName=acct"} {
		if !strings.Contains(files["bundle.json"]+files["report.json"], keep) {
			t.Errorf("%q was removed too", keep)
		}
	}
}

// The scrubber, line by line.
func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"s3://KEY:SECRET@bucket/x":                  "s3://REDACTED@bucket/x",
		"Authorization: Bearer abc.def":             "Authorization: REDACTED",
		"curl -H 'authorization: token abc'":        "curl -H 'authorization: REDACTED'",
		"use bearer eyJhbGciOi.x.y now":             "use bearer REDACTED now",
		"password=hunter2&user=a":                   "password=REDACTED&user=a",
		`{"api_key": "k1", "name": "n"}`:            `{"api_key": "REDACTED", "name": "n"}`,
		"AWS_SECRET_ACCESS_KEY=abc/def":             "AWS_SECRET_ACCESS_KEY=REDACTED",
		"key AKIAABCDEFGHIJKLMNOP":                  "key REDACTED",
		"INFO:root:Model loaded in 4.2s":            "INFO:root:Model loaded in 4.2s",
		"GET /v1/models/fraud:predict HTTP/1.1 200": "GET /v1/models/fraud:predict HTTP/1.1 200",
	} {
		if got := bundle.Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}

// tarGz builds a tar.gz of the given entries, in order.
func tarGz(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		size := int64(len(e.data))
		if e.zeros > 0 {
			size = e.zeros
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o600, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if e.zeros > 0 {
			if _, err := io.CopyN(tw, zeroReader{}, e.zeros); err != nil {
				t.Fatal(err)
			}
		} else if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	_ = tw.Close()
	_ = gz.Close()
	return buf.Bytes()
}

type tarEntry struct {
	name  string
	data  []byte
	zeros int64
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A bundle from someone else cannot make the reader hold what it likes, nor smuggle names
// that are not Kubernetes names.
func TestReadRefusesHostileBundles(t *testing.T) {
	good := `{"version":1,"namespace":"demo","name":"fraud","pods":[],"events":[]}`
	tests := []struct {
		name    string
		bundle  []byte
		wantErr string
	}{
		{"a gzip bomb in an unknown entry", tarGz(t, tarEntry{name: "bundle.json", data: []byte(good)}, tarEntry{name: "padding", zeros: 200 << 20}), "expands to more than 128 MiB"},
		{"a huge bundle.json", tarGz(t, tarEntry{name: "bundle.json", zeros: 40 << 20}), "bundle.json in the bundle is larger than 32 MiB"},
		{"too many entries", func() []byte {
			var es []tarEntry
			for i := range MaxBundleEntriesForTest + 1 {
				es = append(es, tarEntry{name: fmt.Sprintf("x%d", i), data: []byte("x")})
			}
			return tarGz(t, es...)
		}(), "more than 5000 entries"},
		{"a pod name with an escape sequence", tarGz(t, tarEntry{name: "bundle.json", data: []byte(`{"version":1,"namespace":"demo","name":"fraud","pods":[{"metadata":{"name":"p\u001b]52;c;eA==\u0007"}}],"events":[]}`)}), "pod name"},
		{"a namespace that is no name", tarGz(t, tarEntry{name: "bundle.json", data: []byte(`{"version":1,"namespace":"$(id)","name":"fraud","pods":[],"events":[]}`)}), "namespace"},
		{"a log outside logs/<pod>/<container>.log", tarGz(t, tarEntry{name: "bundle.json", data: []byte(good)}, tarEntry{name: "logs/Bad Pod/c\x1b.log", data: []byte("x")}), "is not logs/<pod>/<container>.log"},
		{"not a bundle", []byte("hello"), "not a support bundle"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := bundle.Read(bytes.NewReader(tc.bundle))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
	// Unknown entries of a fine size are skipped.
	if _, err := bundle.Read(bytes.NewReader(tarGz(t, tarEntry{name: "bundle.json", data: []byte(good)}, tarEntry{name: "extra/notes.txt", data: []byte("hi")}))); err != nil {
		t.Errorf("an unknown entry: %v", err)
	}
}

const MaxBundleEntriesForTest = bundle.MaxBundleEntries

// A bundle is untrusted input: reading never crashes, and what is read has valid names.
func FuzzRead(f *testing.F) {
	snap := fixtures.Running("demo", "fraud").Snapshot(now)
	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap), Logs: map[string][]string{"p/c.log": {"a"}}}
	var buf bytes.Buffer
	_ = bundle.Write(&buf, b)
	f.Add(buf.Bytes())
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = bundle.Read(bytes.NewReader(data))
	})
}

// A secret of any shape the scrubber knows, planted among random text (a log line, a JSON
// document, several lines), never survives Scrub or ScrubLines.
func FuzzScrub(f *testing.F) {
	f.Add("INFO:root:connecting", "done", uint8(0))
	f.Add(`{"model": "fraud", "x":`, `}`, uint8(3))
	f.Add("line one\nline two", "\tthree", uint8(7))
	f.Add("", "", uint8(9))
	shapes := []string{"password=%s", "Authorization: Bearer %s", "token: %s", `"api_key": "%s"`, "https://u:%s@h/x",
		"s3://k:a/b@%s@bucket/m", "AccountKey=%s;", "?sv=1&sig=%s&se=2", "X-Amz-Signature=%s", "hf_%sabcdefghijklmnop",
		"eyJhbGciOiJIUzI1NiJ9.eyJ%s.c2ln", "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----", "--secret=%s"}
	const secret = "Q7vZ0" + marker
	f.Fuzz(func(t *testing.T, before, after string, kind uint8) {
		if strings.Contains(before+after, secret[:6]) {
			t.Skip()
		}
		text := before + " " + fmt.Sprintf(shapes[int(kind)%len(shapes)], secret) + " " + after
		if out := bundle.Scrub(text); strings.Contains(out, secret) {
			t.Fatalf("Scrub left the secret in %q", out)
		}
		if out := strings.Join(bundle.ScrubLines(strings.Split(text, "\n")), "\n"); strings.Contains(out, secret) {
			t.Fatalf("ScrubLines left the secret in %q", out)
		}
	})
}

// bigObjects are a deployment's objects with n pods and n warning events, one per pod.
func bigObjects(n int) bundle.Objects {
	o := bundle.Objects{Version: 1, Namespace: "demo", Name: "fraud", Taken: now}
	for i := range n {
		pod := fmt.Sprintf("fraud-predictor-%d", i)
		o.Pods = append(o.Pods, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: pod, Namespace: "demo",
			Labels: map[string]string{"serving.hops.works/name": "fraud", "component": "predictor"}}})
		o.Events = append(o.Events, corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("e%d", i), Namespace: "demo"}, Type: "Warning",
			Reason: "BackOff", InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: pod}, Message: "x", Count: 1})
	}
	return o
}

// A bundle past the caps on pods or events is refused with a clear error, before anything is
// derived from it.
func TestReadRefusesTooManyPodsOrEvents(t *testing.T) {
	// Compact JSON, as a hand-made bundle may be: under the 32 MiB cap on bundle.json.
	objs, err := json.Marshal(bigObjects(bundle.MaxBundlePods + 1))
	if err != nil {
		t.Fatal(err)
	}
	data := tarGz(t, tarEntry{name: "bundle.json", data: objs})
	if _, err := bundle.Read(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "more than the 50000 and 100000 a deployment's bundle may") {
		t.Errorf("a bundle of %d pods: %v", bundle.MaxBundlePods+1, err)
	}
}

// Reading a bundle of 40,000 pods and 40,000 events and deriving its report: linear in both
// (the rules look events up by pod through an index; it was 25 s when each pod scanned them).
func BenchmarkReportOfABigBundle(b *testing.B) {
	var buf bytes.Buffer
	if err := bundle.Write(&buf, &bundle.Bundle{Objects: bigObjects(40000)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		bb, err := bundle.Read(bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		if r := bb.Report(); len(r.Components) == 0 {
			b.Fatal("no report")
		}
	}
}

// The nodes read for an unschedulable pod go into the bundle (their shape only), so that the
// bundle's diagnosis says node by node what the live one said.
func TestNodesRoundTrip(t *testing.T) {
	snap := fixtures.Catalog("demo")["taintunschedulable"].Snapshot(now)
	snap.Nodes.Items[0].Status.Images = []corev1.ContainerImage{{Names: []string{"a/big/image"}}}
	snap.Nodes.Items[0].Annotations = map[string]string{"kept": "no"}
	b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap)}
	read := roundTrip(t, b)
	live := diagnose.Build(snap)
	live.Diagnosis = diagnose.Diagnose(snap, live)
	if got := read.Report().Diagnosis; strings.Join(got.Evidence, "\n") != strings.Join(live.Diagnosis.Evidence, "\n") || !strings.Contains(strings.Join(got.Evidence, "\n"), "node inference-1: taint") {
		t.Errorf("evidence from the bundle:\n%s\nlive:\n%s", strings.Join(got.Evidence, "\n"), strings.Join(live.Diagnosis.Evidence, "\n"))
	}
	if n := read.Objects.Nodes.Items[0]; len(n.Status.Images) != 0 || n.Annotations != nil {
		t.Errorf("a node's images or annotations went into the bundle: %+v", n)
	}
}

// roundTrip writes a bundle as the command does and reads it back.
func roundTrip(t *testing.T, b *bundle.Bundle) *bundle.Bundle {
	t.Helper()
	var buf bytes.Buffer
	if err := bundle.Write(&buf, b); err != nil {
		t.Fatal(err)
	}
	read, err := bundle.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return read
}

// Knative's revisions go into the bundle, their condition messages scrubbed (Knative quotes a
// failed container's termination message there), so that the bundle's diagnosis says what
// the live one said; a bundle with more revisions than the gatherer keeps is refused.
func TestRevisionsRoundTrip(t *testing.T) {
	snap := fixtures.Catalog("demo")["revisiondeadline"].Snapshot(now)
	snap.Revisions[0].Conditions[1].Message = "Container failed with: token=hunter2hunter2"
	read := roundTrip(t, &bundle.Bundle{Objects: bundle.FromSnapshot(snap)})
	got := read.Report().Diagnosis
	if !strings.Contains(got.Cause, "Knative gave up on the predictor's revision stuck-predictor-00001") {
		t.Errorf("the bundle's cause: %s", got.Cause)
	}
	if ev := strings.Join(got.Evidence, "\n"); strings.Contains(ev, "hunter2") || !strings.Contains(ev, "ContainerHealthy=Unknown (Deploying): Container failed with:") {
		t.Errorf("the bundle's evidence:\n%s", ev)
	}
	if snap.Revisions[0].Conditions[1].Message != "Container failed with: token=hunter2hunter2" {
		t.Error("FromSnapshot changed the live snapshot")
	}
	many := bundle.FromSnapshot(snap)
	for len(many.Revisions) <= state.MaxRevisions {
		many.Revisions = append(many.Revisions, many.Revisions[0])
	}
	objs, err := json.Marshal(many)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Read(bytes.NewReader(tarGz(t, tarEntry{name: "bundle.json", data: objs}))); err == nil || !strings.Contains(err.Error(), "Knative revisions, more than") {
		t.Errorf("a bundle of %d revisions: %v", len(many.Revisions), err)
	}
}
