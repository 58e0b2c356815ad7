// Package bundle writes and reads support bundles: a tar.gz holding a deployment's objects
// (secrets never read; what may hold one redacted or scrubbed, see redact and Scrub), its
// events, the current and previous logs of every container, the history window around the
// last failure, and the diagnosis, so that `status --from-bundle` shows offline what the live
// command showed.
package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Redacted replaces every environment value and configuration that may hold a secret.
const Redacted = "REDACTED"

// Objects is bundle.json: the snapshot the report is derived from.
type Objects struct {
	Version    int                        `json:"version"`
	Namespace  string                     `json:"namespace"`
	Name       string                     `json:"name"`
	Taken      time.Time                  `json:"taken"`
	ISVC       *unstructured.Unstructured `json:"inferenceService,omitempty"`
	Deployment *appsv1.Deployment         `json:"deployment,omitempty"`
	// ComponentDeployments are KServe's Standard-mode Deployments, redacted as any object.
	ComponentDeployments []appsv1.Deployment `json:"componentDeployments,omitempty"`
	Pods                 []corev1.Pod        `json:"pods"`
	Events               []corev1.Event      `json:"events"`
	// Revisions are Knative's revisions as the gatherer read them, their condition messages
	// scrubbed (Knative quotes a failed container's termination message there).
	Revisions []state.Revision `json:"revisions,omitempty"`
	// Nodes are what the gatherer read of the nodes for an unschedulable pod (names,
	// labels, taints, resources: nothing else of them), so that the bundle's diagnosis says
	// node by node what the live one said.
	Nodes *state.Nodes `json:"nodes,omitempty"`
}

// maxNodes bounds the nodes a bundle may hold (the gatherer reads at most 500).
const maxNodes = 500

// nodeShape is what a bundle keeps of a node: what says whether a pod fits it.
func nodeShape(n corev1.Node) corev1.Node {
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels},
		Spec:   corev1.NodeSpec{Taints: n.Spec.Taints, Unschedulable: n.Spec.Unschedulable},
		Status: corev1.NodeStatus{Allocatable: n.Status.Allocatable, Capacity: n.Status.Capacity}}
}

// Bundle is what a support bundle holds. Lines are scrubbed as they are collected (AddLog,
// SetHistory), once, before anything is built from them: the report that quotes a failing
// container's last lines, and the files, see only scrubbed lines.
type Bundle struct {
	Objects Objects
	// Logs maps "<pod>/<container>.log" and "<pod>/<container>.previous.log" to lines.
	Logs map[string][]string
	// History is the OpenSearch window around the last failure, if it could be read.
	History []string
	// ReportJSON is the live command's report (status -o json), for comparison.
	ReportJSON json.RawMessage
	// ReportHTML is the page a browser opens: the status and diagnosis, the timeline chart,
	// the events and the logs (printers.ReportHTML). Written, never read back.
	ReportHTML []byte
}

// AddLog keeps a container instance's lines (key: LogKey), scrubbed of credentials.
func (b *Bundle) AddLog(key string, lines []string) {
	if b.Logs == nil {
		b.Logs = map[string][]string{}
	}
	b.Logs[key] = ScrubLines(lines)
}

// SetHistory keeps the history window's lines, scrubbed of credentials.
func (b *Bundle) SetHistory(lines []string) { b.History = ScrubLines(lines) }

// FromSnapshot takes a snapshot's objects, redacted (see redact).
func FromSnapshot(s *state.Snapshot) Objects {
	o := Objects{Version: 1, Namespace: s.Namespace, Name: s.Name, Taken: s.Now, Events: []corev1.Event{}}
	if s.ISVC != nil {
		u := s.ISVC.DeepCopy()
		redact(u.Object)
		o.ISVC = u
	}
	if s.Deployment != nil {
		d := &appsv1.Deployment{}
		if redactTyped(s.Deployment, d) == nil {
			o.Deployment = d
		}
	}
	for i := range s.ComponentDeployments {
		d := appsv1.Deployment{}
		if redactTyped(&s.ComponentDeployments[i], &d) == nil {
			o.ComponentDeployments = append(o.ComponentDeployments, d)
		}
	}
	for i := range s.Pods {
		p := corev1.Pod{}
		if redactTyped(&s.Pods[i], &p) == nil {
			o.Pods = append(o.Pods, p)
		}
	}
	for i := range s.Events {
		e := corev1.Event{}
		if redactTyped(&s.Events[i], &e) == nil {
			o.Events = append(o.Events, e)
		}
	}
	for _, r := range s.Revisions {
		r.Conditions = append([]state.ISVCCondition(nil), r.Conditions...)
		for i := range r.Conditions {
			r.Conditions[i].Message = Scrub(r.Conditions[i].Message)
		}
		o.Revisions = append(o.Revisions, r)
	}
	if s.Nodes != nil {
		o.Nodes = &state.Nodes{Requested: s.Nodes.Requested, Note: s.Nodes.Note}
		for _, n := range s.Nodes.Items {
			o.Nodes.Items = append(o.Nodes.Items, nodeShape(n))
		}
	}
	return o
}

// Snapshot turns the bundle's objects back into a snapshot.
func (o Objects) Snapshot() *state.Snapshot {
	return &state.Snapshot{Namespace: o.Namespace, Name: o.Name, ISVC: o.ISVC, Deployment: o.Deployment, ComponentDeployments: o.ComponentDeployments,
		Pods: o.Pods, Events: o.Events, Revisions: o.Revisions, Now: o.Taken, Nodes: o.Nodes}
}

// redactTyped redacts a typed object through its unstructured form, so that one walker
// covers every kind.
func redactTyped(in runtime.Object, out any) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(in.DeepCopyObject())
	if err != nil {
		return err
	}
	redact(m)
	return runtime.DefaultUnstructuredConverter.FromUnstructured(m, out)
}

// redact removes from an object everything that may hold a secret: environment values (of
// containers, init and ephemeral containers, in pods and pod templates alike), probe and
// lifecycle HTTP header values, termination messages, the values of annotations that are not
// known to explain a deployment, managed fields; and it scrubs every other string (URIs with
// userinfo in storageUri, credentials in args and command, messages).
func redact(v any) {
	switch t := v.(type) {
	case map[string]any:
		delete(t, "managedFields")
		for k, val := range t {
			switch k {
			case "env", "httpHeaders":
				if list, ok := val.([]any); ok {
					for _, e := range list {
						if m, ok := e.(map[string]any); ok {
							if _, has := m["value"]; has {
								m["value"] = Redacted
							}
						}
					}
				}
			case "annotations":
				if m, ok := val.(map[string]any); ok {
					for ak, av := range m {
						if s, ok := av.(string); ok && keptAnnotation(ak) {
							m[ak] = Scrub(s)
						} else {
							m[ak] = Redacted
						}
					}
				}
			case "terminated":
				if m, ok := val.(map[string]any); ok {
					if msg, _ := m["message"].(string); msg != "" {
						m["message"] = Redacted
					}
				}
				redact(val)
			default:
				switch s, ok := val.(string); {
				case ok && SecretKey(k):
					t[k] = Redacted // storage parameters, CSI volume attributes...: by their key
				case ok:
					t[k] = Scrub(s)
				default:
					redact(val)
				}
			}
		}
	case []any:
		for i, e := range t {
			if s, ok := e.(string); ok {
				t[i] = Scrub(s)
				// "--api-key", "VALUE": a flag naming a secret redacts the argument after it.
				if SecretFlag(s) && i+1 < len(t) {
					if _, next := t[i+1].(string); next {
						t[i+1] = Redacted
					}
				}
			} else {
				redact(e)
			}
		}
	}
}

// Write writes the bundle as a tar.gz.
func Write(w io.Writer, b *Bundle) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	put := func(name string, data []byte) error {
		// 0600 as the bundle itself: extracted in a shared folder, its files stay the user's.
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: b.Objects.Taken}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	objs, err := json.MarshalIndent(b.Objects, "", "  ")
	if err != nil {
		return err
	}
	readme := fmt.Sprintf("Support bundle of Hopsworks deployment %s in namespace %s, taken %s by kubectl hopsdeploy.\n"+
		"bundle.json: the InferenceService or Deployment, pods and events (environment and header values, termination messages and\n"+
		"annotations outside an allowlist redacted, credentials scrubbed from every other text; secrets are never read).\n"+
		"logs/: the last lines of every container, current and previous instance (the inference logger's payloads only if asked),\n"+
		"scrubbed of credentials. history.log: OpenSearch around the last failure, scrubbed likewise.\n"+
		"report.json: the live status. report.html: all of it as one page, for a browser (no network needed).\n"+
		"Read it offline: kubectl hopsdeploy status (or why, timeline, logs) --from-bundle FILE\n",
		b.Objects.Name, b.Objects.Namespace, b.Objects.Taken.UTC().Format(time.RFC3339))
	files := map[string][]byte{"README.txt": []byte(readme), "bundle.json": objs, "report.json": b.ReportJSON}
	if len(b.History) > 0 {
		files["history.log"] = []byte(strings.Join(b.History, "\n") + "\n")
	}
	if len(b.ReportHTML) > 0 {
		files["report.html"] = b.ReportHTML
	}
	for k, lines := range b.Logs {
		files["logs/"+k] = []byte(strings.Join(lines, "\n") + "\n")
	}
	var names []string
	for k := range files {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, n := range names {
		if files[n] == nil {
			continue
		}
		if err := put(n, files[n]); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// Limits on what reading a bundle may cost: a bundle is made by someone else, and a small
// gzip can expand to gigabytes.
const (
	MaxBundleBytes   = 128 << 20 // all entries, decompressed
	MaxObjectsBytes  = 32 << 20  // bundle.json
	MaxBundleEntries = 5000
	// MaxBundlePods and MaxBundleEvents bound what the report is derived from: more than a
	// deployment has, far less than what 32 MiB of compact JSON could hold.
	MaxBundlePods   = 50000
	MaxBundleEvents = 100000
)

// Read reads a bundle written by Write, from someone else: the decompressed size and the
// number of entries are capped, unknown entries are skipped without being held, and every
// name in it must be a Kubernetes name.
func Read(r io.Reader) (*Bundle, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a support bundle (tar.gz): %w", err)
	}
	limited := &capReader{r: gz, left: MaxBundleBytes}
	tr := tar.NewReader(limited)
	b := &Bundle{Logs: map[string][]string{}}
	seen := false
	for entries := 0; ; entries++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the bundle: %w", err)
		}
		if entries >= MaxBundleEntries {
			return nil, fmt.Errorf("the bundle has more than %d entries: not one that kubectl hopsdeploy wrote", MaxBundleEntries)
		}
		name := path.Clean(h.Name)
		known := name == "bundle.json" || name == "report.json" || name == "history.log" || strings.HasPrefix(name, "logs/")
		if !known || h.Typeflag != tar.TypeReg {
			continue // skipped: tar.Reader discards it without holding it
		}
		max := int64(MaxBundleBytes)
		if name == "bundle.json" {
			max = MaxObjectsBytes
		}
		data, err := io.ReadAll(io.LimitReader(tr, max+1))
		if err != nil {
			return nil, fmt.Errorf("read the bundle: %w", err)
		}
		if int64(len(data)) > max {
			return nil, fmt.Errorf("%s in the bundle is larger than %d MiB: not one that kubectl hopsdeploy wrote", name, max>>20)
		}
		switch {
		case name == "bundle.json":
			if err := json.Unmarshal(data, &b.Objects); err != nil {
				return nil, fmt.Errorf("bundle.json: %w", err)
			}
			if len(b.Objects.Pods) > MaxBundlePods || len(b.Objects.Events) > MaxBundleEvents {
				return nil, fmt.Errorf("bundle.json holds %d pods and %d events, more than the %d and %d a deployment's bundle may: not one that kubectl hopsdeploy wrote", len(b.Objects.Pods), len(b.Objects.Events), MaxBundlePods, MaxBundleEvents)
			}
			seen = true
		case name == "report.json":
			b.ReportJSON = data
		case name == "history.log":
			b.History = splitLines(data)
		default:
			key := strings.TrimPrefix(name, "logs/")
			if err := validLogKey(key); err != nil {
				return nil, err
			}
			b.Logs[key] = splitLines(data)
		}
	}
	if !seen {
		return nil, fmt.Errorf("not a support bundle: it has no bundle.json")
	}
	if err := b.Objects.validate(); err != nil {
		return nil, err
	}
	return b, nil
}

// capReader fails once more than left bytes were read.
type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("the bundle expands to more than %d MiB: not one that kubectl hopsdeploy wrote", MaxBundleBytes>>20)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// validate checks that the names in a bundle are Kubernetes names, as the live objects'
// are: nothing else may reach a terminal or a suggested command from a bundle.
func (o Objects) validate() error {
	bad := func(what, v string, errs []string) error {
		return fmt.Errorf("the bundle's %s %q is not a Kubernetes name (%s): not one that kubectl hopsdeploy wrote", what, v, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return bad("namespace", o.Namespace, errs)
	}
	if errs := validation.IsValidLabelValue(o.Name); len(errs) > 0 || o.Name == "" {
		return bad("deployment name", o.Name, errs)
	}
	for _, p := range o.Pods {
		if errs := validation.IsDNS1123Subdomain(p.Name); len(errs) > 0 {
			return bad("pod name", p.Name, errs)
		}
		for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
			if errs := validation.IsDNS1123Label(c.Name); len(errs) > 0 {
				return bad("container name", c.Name, errs)
			}
		}
	}
	if o.ISVC != nil {
		if errs := validation.IsDNS1123Label(o.ISVC.GetName()); len(errs) > 0 {
			return bad("InferenceService name", o.ISVC.GetName(), errs)
		}
	}
	if len(o.Revisions) > state.MaxRevisions {
		return fmt.Errorf("the bundle holds %d Knative revisions, more than the %d kubectl hopsdeploy writes", len(o.Revisions), state.MaxRevisions)
	}
	if o.Nodes != nil && (len(o.Nodes.Items) > maxNodes || len(o.Nodes.Requested) > maxNodes) {
		return fmt.Errorf("the bundle holds %d nodes, more than the %d kubectl hopsdeploy writes", len(o.Nodes.Items), maxNodes)
	}
	return nil
}

// validLogKey checks logs/<pod>/<container>.log or .previous.log.
func validLogKey(key string) error {
	pod, file, ok := strings.Cut(key, "/")
	container := strings.TrimSuffix(strings.TrimSuffix(file, ".log"), ".previous")
	if !ok || !strings.HasSuffix(file, ".log") || len(validation.IsDNS1123Subdomain(pod)) > 0 || len(validation.IsDNS1123Label(container)) > 0 {
		return fmt.Errorf("the bundle's log %q is not logs/<pod>/<container>.log: not one that kubectl hopsdeploy wrote", key)
	}
	return nil
}

func splitLines(b []byte) []string {
	s := strings.TrimRight(string(bytes.TrimRight(b, "\n")), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// LogKey is where a container instance's log lives in a bundle.
func LogKey(pod, container string, previous bool) string {
	if previous {
		return pod + "/" + container + ".previous.log"
	}
	return pod + "/" + container + ".log"
}

// Report derives the status and diagnosis from a bundle as status does live: the same
// warning events, and the quoted log lines from the bundle's logs.
func (b *Bundle) Report() *diagnose.Report {
	snap := b.Objects.Snapshot()
	var warnings []corev1.Event
	for _, e := range snap.Events {
		if e.Type == corev1.EventTypeWarning {
			warnings = append(warnings, e)
		}
	}
	snap.Events = warnings
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	if l := r.Diagnosis.Logs; l != nil {
		lines := b.Logs[LogKey(l.Pod, l.Container, l.Previous)]
		if len(lines) > 10 {
			lines = lines[len(lines)-10:]
		}
		r.Diagnosis.AttachLogs(lines)
	}
	return r
}

// SetReport stores the bundle's report (status -o json) in it.
func (b *Bundle) SetReport() error {
	raw, err := json.MarshalIndent(b.Report(), "", "    ")
	b.ReportJSON = raw
	return err
}
