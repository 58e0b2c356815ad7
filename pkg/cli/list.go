package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
)

// ListOptions are the options of `list`.
type ListOptions struct {
	*Globals
	Output        *OutputFlags
	AllNamespaces bool
	Selector      string
	Statuses      []string
}

func newListCommand(g *Globals) *cobra.Command {
	o := &ListOptions{Globals: g, Output: newOutputFlags()}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List Hopsworks deployments with their status, instances, mode and model",
		Example: `  kubectl hopsdeploy list -n my-project
  kubectl hopsdeploy list -A --status Failed,Starting
  kubectl hopsdeploy list --project my_project -o wide
  kubectl hopsdeploy list -A -o json`,
		Args: maxArgs(0),
		RunE: run(o),
	}
	o.Output.AddFlags(cmd, "output format: wide, or one of "+strings.Join(o.Output.AllowedFormats(), ", "))
	cmd.Flags().BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list deployments of every namespace")
	cmd.Flags().StringVarP(&o.Selector, "selector", "l", "", "label selector, e.g. serving.hops.works/model-name=fraud")
	cmd.Flags().StringSliceVar(&o.Statuses, "status", nil, "only deployments with these statuses (comma-separated: "+statusNames()+")")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(strings.Split(statusNames(), ", "), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func statusNames() string {
	var s []string
	for _, st := range state.AllStatuses {
		s = append(s, string(st))
	}
	return strings.Join(s, ", ")
}

// Complete puts the --status values in Hopsworks' spelling (any case is accepted).
func (o *ListOptions) Complete(*cobra.Command, []string) error {
	for i, s := range o.Statuses {
		for _, st := range state.AllStatuses {
			if strings.EqualFold(s, string(st)) {
				o.Statuses[i] = string(st)
			}
		}
	}
	return nil
}

// Validate checks the flags.
func (o *ListOptions) Validate() error {
	if err := o.validate(); err != nil {
		return err
	}
	for _, s := range o.Statuses {
		if !slices.Contains(state.AllStatuses, state.Status(s)) {
			return usageErr("invalid --status %q: use %s", s, statusNames())
		}
	}
	if _, err := labels.Parse(o.Selector); err != nil {
		return usageErr("invalid -l %q: %v", o.Selector, err)
	}
	if err := o.Output.Validate("wide"); err != nil {
		return err
	}
	if o.AllNamespaces && o.Project != "" {
		return usageErr("--project and -A both choose namespaces: give one of them")
	}
	return nil
}

// Run lists the deployments.
func (o *ListOptions) Run(ctx context.Context) error {
	style := o.Style()
	c, err := o.Clients()
	if err != nil {
		return err
	}
	// History adds a namespace's stopped deployments (one namespace, no label selector:
	// history has no labels).
	withHistory := !o.AllNamespaces && o.Selector == "" && (len(o.Statuses) == 0 || slices.Contains(o.Statuses, string(state.Stopped)))
	var settings *history.Settings
	if withHistory {
		s, err := o.openSearchSettings(nil)
		if err != nil {
			return err
		}
		settings = &s
	}
	ns := ""
	if !o.AllNamespaces {
		if ns, err = o.Namespace(ctx, c, settings); err != nil {
			return err
		}
	}
	// Each deployment's row is made as its namespace is read: its pods are let go then.
	rows := []printers.ListRow{}
	known := map[string]bool{}
	if err := c.EachSnapshot(ctx, ns, o.Selector, func(s *state.Snapshot) error {
		r := diagnose.Build(s)
		known[r.Name] = true
		if len(o.Statuses) == 0 || slices.Contains(o.Statuses, r.Status) {
			rows = append(rows, printers.RowOf(s, r))
		}
		return nil
	}); err != nil {
		return err
	}
	// Stopped deployments left nothing in the cluster: history lists them.
	if withHistory {
		h := o.historyOf(ctx, c, ns, *settings)
		seen, err := inspect.Stopped(ctx, inspect.Sources{History: h.Open, HistoryIndex: h.Index, Hopsworks: h.Serving}, ns, known)
		if err != nil {
			fmt.Fprintf(o.Streams.ErrOut, "warning: stopped deployments not listed: %s\n", term.Sanitize(term.OneLine(err)))
		}
		for _, h := range seen {
			rows = append(rows, printers.HistoryRow(ns, h.Name, h.LastSeen))
		}
	}
	switch f := o.Output.Format; f {
	case "", "wide":
		return printers.List(o.Streams.Out, rows, o.AllNamespaces, f == "wide", style)
	default:
		u, err := printers.ToObject(map[string]any{"items": rows}, printers.KindList)
		if err != nil {
			return err
		}
		p, err := o.Output.ToPrinter()
		if err != nil {
			return usageErr("%v", err)
		}
		return printers.PrintMachine(o.Streams.Out, p, u, o.Output.FormatName(), term.IsTerminal(o.Streams.Out))
	}
}
