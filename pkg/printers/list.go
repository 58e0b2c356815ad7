package printers

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// KindList is the kind of `list -o json|yaml`.
const KindList = "DeploymentList"

// ListRow is one deployment in `list`.
type ListRow struct {
	Name                string          `json:"name"`
	Namespace           string          `json:"namespace"`
	Status              string          `json:"status"`
	Condition           state.Condition `json:"condition"`
	PredictorReady      int             `json:"predictor_ready"`
	PredictorTotal      int             `json:"predictor_instances"`
	TransformerReady    int             `json:"transformer_ready"`
	TransformerTotal    int             `json:"transformer_instances"`
	HasTransformer      bool            `json:"has_transformer"`
	Mode                string          `json:"mode"`
	ModelName           string          `json:"model_name"`
	ModelVersion        string          `json:"model_version"`
	Created             time.Time       `json:"created"`
	AvailableInstances  int             `json:"available_instances"`
	TransformerInstance *int            `json:"available_transformer_instances,omitempty"`
	// Source is "history" for a deployment seen only in OpenSearch (stopped), else empty.
	Source   string     `json:"source,omitempty"`
	LastSeen *time.Time `json:"last_seen,omitempty"`
}

// List prints the table of deployments; wide adds the condition type and model columns.
func List(w io.Writer, rows []ListRow, allNamespaces, wide bool, s *Style) error {
	rows = term.Sanitized(rows) // a copy: the caller's rows stay as they are
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	if allNamespaces {
		fmt.Fprint(tw, "NAMESPACE\t")
	}
	fmt.Fprint(tw, "NAME\tSTATUS\tINSTANCES\tMODE\tMODEL\tAGE\tCONDITION")
	if wide {
		fmt.Fprint(tw, "\tTYPE\tREADY")
	}
	fmt.Fprintln(tw)
	for _, r := range rows {
		if allNamespaces {
			fmt.Fprintf(tw, "%s\t", r.Namespace)
		}
		inst := fmt.Sprintf("%d/%d", r.PredictorReady, r.PredictorTotal)
		if r.HasTransformer {
			inst += fmt.Sprintf(" +t %d/%d", r.TransformerReady, r.TransformerTotal)
		}
		model := r.ModelName
		if r.ModelVersion != "" {
			model += " v" + r.ModelVersion
		}
		age := s.Age(r.Created)
		if r.Source == "history" {
			inst, model, age = "-", "(history: last seen "+age+" ago)", "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s", r.Name, s.StatusWord(r.Status), inst, r.Mode, model, age, term.Sanitize(r.Condition.Reason))
		if wide {
			st := "unknown"
			if r.Condition.Status != nil {
				st = fmt.Sprint(*r.Condition.Status)
			}
			fmt.Fprintf(tw, "\t%s\t%s", r.Condition.Type, st)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// RowOf is the list row of a deployment: its report, and its age from the object.
func RowOf(s *state.Snapshot, r *diagnose.Report) ListRow {
	out := ListRow{Name: r.Name, Namespace: r.Namespace, Status: r.Status, Condition: r.Condition, Mode: r.Mode,
		ModelName: r.ModelName, ModelVersion: r.ModelVersion, AvailableInstances: r.AvailableInstances, TransformerInstance: r.AvailableTransformerInstances}
	switch {
	case s.ISVC != nil:
		out.Created = s.ISVC.GetCreationTimestamp().Time
	case s.Deployment != nil:
		out.Created = s.Deployment.CreationTimestamp.Time
	case len(s.Pods) > 0:
		out.Created = s.Pods[0].CreationTimestamp.Time
	}
	for _, c := range r.Components {
		switch c.Name {
		case state.ComponentPredictor:
			out.PredictorReady, out.PredictorTotal = c.Ready, c.Instances
		case state.ComponentTransform:
			out.HasTransformer = true
			out.TransformerReady, out.TransformerTotal = c.Ready, c.Instances
		}
	}
	return out
}

// HistoryRow is the list row of a deployment that only history knows: Stopped, as Hopsworks
// says of a deployment whose objects it deleted, with when it last wrote.
func HistoryRow(ns, name string, lastSeen time.Time) ListRow {
	yes := true
	return ListRow{Name: name, Namespace: ns, Status: string(state.Stopped),
		Condition: state.Condition{Type: state.TypeStopped, Status: &yes, Reason: "Deployment is not running"},
		Mode:      "-", Created: lastSeen, Source: "history", LastSeen: &lastSeen}
}
