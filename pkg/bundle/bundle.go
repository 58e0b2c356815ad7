// Package bundle writes and reads support bundles: a tar.gz holding a deployment's objects
// (secrets never read; environment values and last-applied configurations redacted), its
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
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
	Pods       []corev1.Pod               `json:"pods"`
	Events     []corev1.Event             `json:"events"`
}

// Bundle is what a support bundle holds.
type Bundle struct {
	Objects Objects
	// Logs maps "<pod>/<container>.log" and "<pod>/<container>.previous.log" to lines.
	Logs map[string][]string
	// History is the OpenSearch window around the last failure, if it could be read.
	History []string
	// ReportJSON is the live command's report (status -o json), for comparison.
	ReportJSON json.RawMessage
}

// FromSnapshot takes a snapshot's objects, redacted.
func FromSnapshot(s *state.Snapshot) Objects {
	o := Objects{Version: 1, Namespace: s.Namespace, Name: s.Name, Taken: s.Now, Events: s.Events}
	if s.ISVC != nil {
		u := s.ISVC.DeepCopy()
		redactUnstructured(u.Object)
		u.SetManagedFields(nil)
		o.ISVC = u
	}
	if s.Deployment != nil {
		d := s.Deployment.DeepCopy()
		d.ManagedFields = nil
		redactMeta(d.Annotations)
		redactPodSpec(&d.Spec.Template.Spec)
		o.Deployment = d
	}
	for _, p := range s.Pods {
		p := *p.DeepCopy()
		p.ManagedFields = nil
		redactMeta(p.Annotations)
		redactPodSpec(&p.Spec)
		o.Pods = append(o.Pods, p)
	}
	if o.Events == nil {
		o.Events = []corev1.Event{}
	}
	return o
}

// Snapshot turns the bundle's objects back into a snapshot.
func (o Objects) Snapshot() *state.Snapshot {
	return &state.Snapshot{Namespace: o.Namespace, Name: o.Name, ISVC: o.ISVC, Deployment: o.Deployment, Pods: o.Pods, Events: o.Events, Now: o.Taken}
}

func redactMeta(a map[string]string) {
	if _, ok := a["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		a["kubectl.kubernetes.io/last-applied-configuration"] = Redacted
	}
}

func redactPodSpec(s *corev1.PodSpec) {
	for _, cs := range [][]corev1.Container{s.InitContainers, s.Containers} {
		for i := range cs {
			for j := range cs[i].Env {
				if cs[i].Env[j].Value != "" {
					cs[i].Env[j].Value = Redacted
				}
			}
		}
	}
}

// redactUnstructured redacts env values and last-applied configurations anywhere in an object.
func redactUnstructured(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			switch {
			case k == "kubectl.kubernetes.io/last-applied-configuration":
				t[k] = Redacted
			case k == "env":
				if list, ok := val.([]any); ok {
					for _, e := range list {
						if m, ok := e.(map[string]any); ok {
							if _, has := m["value"]; has {
								m["value"] = Redacted
							}
						}
					}
				}
			default:
				redactUnstructured(val)
			}
		}
	case []any:
		for _, e := range t {
			redactUnstructured(e)
		}
	}
}

// Write writes the bundle as a tar.gz.
func Write(w io.Writer, b *Bundle) error {
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: b.Objects.Taken}); err != nil {
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
		"bundle.json: the InferenceService or Deployment, pods and events (environment values redacted; secrets are never read).\n"+
		"logs/: the last lines of every container, current and previous instance. history.log: OpenSearch around the last failure.\n"+
		"report.json: the live status. Read it offline: kubectl hopsdeploy status --from-bundle FILE\n",
		b.Objects.Name, b.Objects.Namespace, b.Objects.Taken.UTC().Format(time.RFC3339))
	files := map[string][]byte{"README.txt": []byte(readme), "bundle.json": objs, "report.json": b.ReportJSON}
	if len(b.History) > 0 {
		files["history.log"] = []byte(strings.Join(b.History, "\n") + "\n")
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

// Read reads a bundle written by Write.
func Read(r io.Reader) (*Bundle, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a support bundle (tar.gz): %w", err)
	}
	tr := tar.NewReader(gz)
	b := &Bundle{Logs: map[string][]string{}}
	seen := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the bundle: %w", err)
		}
		data, err := io.ReadAll(io.LimitReader(tr, 256<<20))
		if err != nil {
			return nil, err
		}
		name := path.Clean(h.Name)
		switch {
		case name == "bundle.json":
			if err := json.Unmarshal(data, &b.Objects); err != nil {
				return nil, fmt.Errorf("bundle.json: %w", err)
			}
			seen = true
		case name == "report.json":
			b.ReportJSON = data
		case name == "history.log":
			b.History = splitLines(data)
		case strings.HasPrefix(name, "logs/"):
			b.Logs[strings.TrimPrefix(name, "logs/")] = splitLines(data)
		}
	}
	if !seen {
		return nil, fmt.Errorf("not a support bundle: it has no bundle.json")
	}
	return b, nil
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
