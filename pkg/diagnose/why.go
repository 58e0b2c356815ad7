package diagnose

import (
	"fmt"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	corev1 "k8s.io/api/core/v1"
)

// Why is what `why` shows: the start sequence of the pod that got least far, the step that
// fails, the evidence from every source and the next step.
type Why struct {
	Name        string         `json:"name"`
	Namespace   string         `json:"namespace"`
	Status      string         `json:"status"`
	Condition   any            `json:"condition"`
	Pod         string         `json:"pod,omitempty"`
	Steps       []Step         `json:"steps"`
	FailingStep string         `json:"failing_step,omitempty"`
	Diagnosis   *Diagnosis     `json:"diagnosis"`
	Conditions  []string       `json:"conditions"`
	Containers  []string       `json:"containers"`
	Events      []EventSummary `json:"events"`
	LogSource   string         `json:"log_source,omitempty"`
	Traceback   []string       `json:"traceback,omitempty"`
	// LastWords are, for a deployment that left nothing in the cluster, each component's last
	// lines in history before it went quiet.
	LastWords []ComponentWords `json:"last_words,omitempty"`
	// StatusSource and StatusNote say, for such a deployment, where its status comes from
	// (as Report's).
	StatusSource string `json:"status_source,omitempty"`
	StatusNote   string `json:"status_note,omitempty"`
	// ColdStart is the anatomy of the newest pods' starts: how long each step took.
	ColdStart []ColdStart `json:"cold_start,omitempty"`
	report    *Report
}

// coldStartPods is how many pods' starts why shows, newest first.
const coldStartPods = 3

// ComponentWords are a component's last lines in history, with its last exception.
type ComponentWords struct {
	Component string    `json:"component"`
	At        time.Time `json:"last_at"`
	Lines     []string  `json:"lines"`
	Exception string    `json:"exception,omitempty"`
	Traceback []string  `json:"traceback,omitempty"`
}

// AddLastWords adds a component's last lines from history (oldest first, the last at at).
func (w *Why) AddLastWords(component string, at time.Time, lines []string) {
	if len(lines) == 0 {
		return
	}
	cw := ComponentWords{Component: component, At: at, Lines: lines, Exception: lastException(lines), Traceback: Traceback(lines)}
	w.LastWords = append(w.LastWords, cw)
	w.Diagnosis.Cause = "Stopped: nothing of it is in the cluster (Hopsworks deletes a stopped deployment's objects); its last words are in OpenSearch."
	if cw.Exception != "" {
		w.Diagnosis.Evidence = append(w.Diagnosis.Evidence, fmt.Sprintf("the %s's last exception before it went quiet: %s", component, cw.Exception))
	}
}

// Explain builds the why report of a snapshot, without log lines: the caller reads the lines
// that Diagnosis.Logs names (or history when the pods are gone) and hands them to AttachLogs.
func Explain(s *state.Snapshot) *Why {
	r := Build(s)
	d := Diagnose(s, r)
	pod, steps := Steps(s)
	w := &Why{Name: s.Name, Namespace: s.Namespace, Status: r.Status, Condition: r.Condition, Pod: pod, Steps: steps, Diagnosis: d, Events: r.Events, report: r,
		ColdStart: ColdStarts(s, coldStartPods)}
	for _, st := range steps {
		if st.State == StepFailed || st.State == StepInProgress {
			w.FailingStep = st.Name
			break
		}
	}
	in := state.FromCluster(s)
	for i := range in.Pods {
		p := &in.Pods[i]
		if pod != "" && p.Name != pod {
			continue
		}
		for _, cd := range p.Status.Conditions {
			if cd.Status != corev1.ConditionTrue {
				w.Conditions = append(w.Conditions, fmt.Sprintf("pod %s %s=%s %s %s", p.Name, cd.Type, cd.Status, cd.Reason, cd.Message))
			}
		}
	}
	// The report already describes every pod's containers.
	for _, ct := range r.Components {
		for _, pi := range ct.Pods {
			if pod != "" && pi.Name != pod {
				continue
			}
			for _, ci := range pi.Containers {
				w.Containers = append(w.Containers, containerLine(ci))
			}
		}
	}
	if r.InferenceService != nil {
		for _, cd := range r.InferenceService.Conditions {
			if cd.Status != "True" {
				w.Conditions = append(w.Conditions, fmt.Sprintf("InferenceService %s=%s %s %s", cd.Type, cd.Status, cd.Reason, cd.Message))
			}
		}
	}
	return w
}

// PodsGone tells whether no pod is left to read logs from (history is the only source).
func (w *Why) PodsGone() bool {
	for _, c := range w.report.Components {
		if len(c.Pods) > 0 {
			return false
		}
	}
	return true
}

// AttachLogs puts the failing container's last lines (or, with no failing container named,
// the predictor's last lines from history) into the evidence, with their source.
func (w *Why) AttachLogs(lines []string, source string) {
	if w.Diagnosis.Logs == nil {
		if len(lines) == 0 {
			return
		}
		w.Diagnosis.Logs = &LogExcerpt{Container: state.ContainerMain}
	}
	w.Diagnosis.AttachLogs(lines)
	w.LogSource = source
	w.Traceback = Traceback(w.Diagnosis.Logs.Lines)
}

func containerLine(c ContainerInfo) string {
	s := fmt.Sprintf("%s: %s", c.Name, c.State)
	if c.Reason != "" {
		s += " " + c.Reason
	}
	if c.Restarts > 0 {
		s += fmt.Sprintf(", %d restarts", c.Restarts)
	}
	if l := c.Last; l != nil {
		s += fmt.Sprintf(", last %s exit %d", l.Reason, l.ExitCode)
	}
	return s
}

// WhyNoPods says why no pod of a deployment runs, from its derived state.
func WhyNoPods(r *Report) string {
	switch state.Status(r.Status) {
	case state.Idle:
		return "the deployment is Idle, scaled to zero (no pod runs until a request arrives); its past logs are in OpenSearch"
	case state.Stopped, state.Stopping:
		return fmt.Sprintf("the deployment is %s; its past logs are in OpenSearch", r.Status)
	}
	return fmt.Sprintf("no pod of it exists yet (status %s: %s)", r.Status, r.Condition.Reason)
}
