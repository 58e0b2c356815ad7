package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/cobra"
)

// StatusOptions are the options of `status`.
type StatusOptions struct {
	*Globals
	Output     *OutputFlags
	Name       string
	Watch      bool
	Until      string
	Timeout    time.Duration
	LogLines   int64
	FromBundle string

	src   inspect.Sources
	ns    string
	style *printers.Style
}

func newStatusCommand(g *Globals) *cobra.Command {
	o := &StatusOptions{Globals: g, Output: newOutputFlags(), LogLines: 10}
	cmd := &cobra.Command{
		Use:   "status NAME",
		Short: "Show a deployment's Hopsworks status and condition, its pods, events and a diagnosis",
		Long: `Show a deployment as Hopsworks would (status, condition, instances), derived from the
cluster alone, then what Hopsworks hides: every pod and container state, the InferenceService
conditions, recent warning events, and the most likely root cause with the next command to run.

Exit codes: 0 ok; 1 error (not found, forbidden, unreachable); 2 invalid flags; with --until,
3 when --timeout passes first and 4 when the deployment fails while waiting for ready.`,
		Example: `  kubectl hopsdeploy status fraud -n my-project
  kubectl hopsdeploy status fraud --project my_project -o json
  kubectl hopsdeploy status fraud -o jsonpath='{.status}'
  # Watch the start sequence, and wait until ready (for scripts)
  kubectl hopsdeploy status fraud --watch
  kubectl hopsdeploy status fraud --until ready --timeout 5m`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE:              run(o),
	}
	o.Output.AddFlags(cmd, "output format: one of "+strings.Join(o.Output.AllowedFormats(), ", "))
	cmd.Flags().BoolVarP(&o.Watch, "watch", "w", false, "after the first view, print each change of status or condition, with a timestamp")
	cmd.Flags().StringVar(&o.Until, "until", "", "wait until the deployment is ready (Running or Idle), stopped or failed, then exit (see exit codes)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 0, "with --until: give up after this long (exit code 3); 0 waits forever")
	cmd.Flags().Int64Var(&o.LogLines, "log-lines", 10, "how many log lines the diagnosis quotes")
	cmd.Flags().StringVar(&o.FromBundle, "from-bundle", "", "read a support bundle (kubectl hopsdeploy bundle) instead of the cluster")
	_ = cmd.RegisterFlagCompletionFunc("until", cobra.FixedCompletions([]string{"ready", "stopped", "failed"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete reads NAME.
func (o *StatusOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 0 && o.FromBundle == "" {
		return usageErr("status needs a deployment NAME: kubectl hopsdeploy status NAME (list them with kubectl hopsdeploy list)")
	}
	if len(args) > 0 {
		o.Name = args[0]
	}
	o.style = o.Style()
	return nil
}

// Validate checks the flags.
func (o *StatusOptions) Validate() error {
	if o.FromBundle == "" || o.Name != "" {
		if err := o.validateDeployment(o.Name); err != nil {
			return err
		}
	} else if err := o.validate(); err != nil {
		return err
	}
	switch o.Until {
	case "", "ready", "stopped", "failed":
	default:
		return usageErr("invalid --until %q: use ready, stopped or failed", o.Until)
	}
	if o.Timeout < 0 {
		return usageErr("invalid --timeout %s: it must not be negative", o.Timeout)
	}
	if o.Timeout > 0 && o.Until == "" {
		return usageErr("--timeout goes with --until")
	}
	if o.LogLines < 0 {
		return usageErr("invalid --log-lines %d: it must not be negative", o.LogLines)
	}
	if err := o.Output.Validate(); err != nil {
		return err
	}
	if o.FromBundle != "" && (o.Watch || o.Until != "") {
		return usageErr("--from-bundle reads a snapshot: it does not go with --watch or --until")
	}
	return nil
}

// Run prints the status, and with --watch or --until keeps going.
func (o *StatusOptions) Run(ctx context.Context) error {
	if o.FromBundle != "" {
		return o.runFromBundle()
	}
	src, ns, err := o.inspectSources(ctx)
	if err != nil {
		return err
	}
	o.src, o.ns = src, ns
	r, err := inspect.Status(ctx, o.src, ns, o.Name, o.LogLines)
	if o.Until == "" || !isNotFound(err) {
		if err != nil {
			return err
		}
		if err := o.print(r); err != nil {
			return err
		}
	}
	if o.Until == "" && !o.Watch {
		return nil
	}
	if done, failed := diagnose.Until(o.Until, r, isNotFound(err)); done {
		return untilErr(failed, r)
	}
	return o.watch(ctx, r)
}

// runFromBundle shows a bundle's status offline, derived as the live command derives it.
func (o *StatusOptions) runFromBundle() error {
	b, err := o.openBundle(o.FromBundle, o.Name)
	if err != nil {
		return err
	}
	o.style.Now = b.Objects.Taken
	return o.print(b.Report())
}

func isNotFound(err error) bool {
	var nf *cluster.NotFoundError
	return errors.As(err, &nf) && !nf.NamespaceGone
}

func (o *StatusOptions) print(r *diagnose.Report) error {
	if o.Output.Format == "" {
		return printers.Status(o.Streams.Out, r, o.style)
	}
	u, err := printers.ToObject(r, printers.KindStatus)
	if err != nil {
		return err
	}
	u.SetName(r.Name)
	u.SetNamespace(r.Namespace)
	p, err := o.Output.ToPrinter()
	if err != nil {
		return usageErr("%v", err)
	}
	return printers.PrintMachine(o.Streams.Out, p, u, o.Output.FormatName(), term.IsTerminal(o.Streams.Out))
}

// untilErr is the exit of --until: nil when reached, exit 4 when the deployment failed instead.
func untilErr(failed bool, r *diagnose.Report) error {
	if !failed {
		return nil
	}
	msg := "the deployment failed"
	if r != nil {
		msg = fmt.Sprintf("deployment %s is %s: %s", r.Name, r.Status, r.Condition.Reason)
	}
	if r != nil && r.Status != "Failed" && r.Diagnosis != nil && r.Diagnosis.Terminal {
		// Not Failed in Hopsworks' words (yet), but it will not become ready by itself.
		return &ExitError{Code: ExitWontBeReady, Err: fmt.Errorf("deployment %s will not become ready without a change: %s next: %s", r.Name, r.Diagnosis.Cause, r.Diagnosis.Next)}
	}
	return &ExitError{Code: ExitFailed, Err: errors.New(msg)}
}

// watch prints each change of status or condition, until --until is reached or --timeout passes.
func (o *StatusOptions) watch(ctx context.Context, last *diagnose.Report) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	var untilErrV error
	err := inspect.Watch(ctx, o.src, o.ns, o.Name, last, 10*time.Second,
		func(r *diagnose.Report, gone bool) (bool, error) {
			if err := o.printChange(r); err != nil {
				return true, err
			}
			done, failed := diagnose.Until(o.Until, r, gone)
			if done {
				untilErrV = untilErr(failed, r)
			}
			return done, nil
		},
		func(err error) { watchWarning(o.Streams.ErrOut, time.Now(), err) })
	switch {
	case err == nil:
		return untilErrV
	case o.Until != "" && errors.Is(err, context.DeadlineExceeded):
		return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s waiting for %s to be %s", o.Timeout, o.Name, o.Until)}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return nil
	}
	return err
}

func (o *StatusOptions) printChange(r *diagnose.Report) error {
	if o.Output.Format != "" {
		if r == nil {
			return nil
		}
		return o.print(r)
	}
	return printers.StatusChange(o.Streams.Out, time.Now(), r, o.style)
}

// watchWarning says that a watch's read failed and is retried, on one sanitised line: the
// error may carry the API server's (or a proxy's) words.
func watchWarning(w io.Writer, now time.Time, err error) {
	fmt.Fprintf(w, "%s  warning: %s (retrying)\n", now.UTC().Format(time.RFC3339), term.Sanitize(term.OneLine(err)))
}
