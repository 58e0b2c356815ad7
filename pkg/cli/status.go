package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// StatusOptions are the options of `status`.
type StatusOptions struct {
	*Globals
	PrintFlags *genericclioptions.PrintFlags
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
	o := &StatusOptions{Globals: g, PrintFlags: genericclioptions.NewPrintFlags(""), LogLines: 10}
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
	o.PrintFlags.AddFlags(cmd)
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
	if err := o.validate(); err != nil {
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
	if f := formatName(*o.PrintFlags.OutputFormat); f != "" && !slices.Contains(o.PrintFlags.AllowedFormats(), f) {
		return usageErr("invalid -o %q: use one of %s", f, strings.Join(o.PrintFlags.AllowedFormats(), ", "))
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
	c, ns, err := o.clientsAndNamespace(ctx)
	if err != nil {
		return err
	}
	o.src, o.ns = inspect.Sources{Cluster: c}, ns
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
	if done, code := o.reached(r, err); done {
		return codeErr(code, r)
	}
	return o.watch(ctx, r)
}

// runFromBundle shows a bundle's status offline, derived as the live command derives it.
func (o *StatusOptions) runFromBundle() error {
	f, err := os.Open(o.FromBundle)
	if err != nil {
		return fmt.Errorf("open the bundle: %w", err)
	}
	defer f.Close()
	b, err := bundle.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", o.FromBundle, err)
	}
	o.style.Now = b.Objects.Taken
	return o.print(b.Report())
}

func isNotFound(err error) bool {
	var nf *cluster.NotFoundError
	return errors.As(err, &nf) && !nf.NamespaceGone
}

func (o *StatusOptions) print(r *diagnose.Report) error {
	if *o.PrintFlags.OutputFormat == "" {
		return printers.Status(o.Streams.Out, r, o.style)
	}
	u, err := printers.ToObject(r, printers.KindStatus)
	if err != nil {
		return err
	}
	u.SetName(r.Name)
	u.SetNamespace(r.Namespace)
	p, err := o.PrintFlags.ToPrinter()
	if err != nil {
		return usageErr("%v", err)
	}
	return p.PrintObj(u, o.Streams.Out)
}

// reached tells whether --until is satisfied, and with which exit code.
func (o *StatusOptions) reached(r *diagnose.Report, err error) (bool, int) {
	status := ""
	if r != nil {
		status = r.Status
	}
	if isNotFound(err) {
		status = string(state.Stopped) // nothing is left in the cluster
	}
	switch o.Until {
	case "ready":
		if status == string(state.Running) || status == string(state.Idle) {
			return true, ExitOK
		}
		if status == string(state.Failed) {
			return true, ExitFailed
		}
	case "stopped":
		return status == string(state.Stopped), ExitOK
	case "failed":
		return status == string(state.Failed), ExitOK
	}
	return false, 0
}

func codeErr(code int, r *diagnose.Report) error {
	if code == ExitOK {
		return nil
	}
	msg := "the deployment failed"
	if r != nil {
		msg = fmt.Sprintf("deployment %s is %s: %s", r.Name, r.Status, r.Condition.Reason)
	}
	return &ExitError{Code: code, Err: errors.New(msg)}
}

// watch re-reads the deployment whenever its InferenceService, Deployment or pods change and
// prints each change of status or condition with a timestamp.
func (o *StatusOptions) watch(ctx context.Context, last *diagnose.Report) error {
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	changes := o.src.Cluster.WatchChanges(ctx, o.ns, o.Name)
	resync := time.NewTicker(10 * time.Second)
	defer resync.Stop()
	key := func(r *diagnose.Report) string {
		if r == nil {
			return "gone"
		}
		return fmt.Sprintf("%s|%s|%v|%s|%d", r.Status, r.Condition.Type, r.Condition.Status, r.Condition.Reason, r.AvailableInstances)
	}
	prev := key(last)
	for {
		select {
		case <-ctx.Done():
			if o.Until != "" && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &ExitError{Code: ExitTimeout, Err: fmt.Errorf("timed out after %s waiting for %s to be %s", o.Timeout, o.Name, o.Until)}
			}
			return nil
		case <-changes:
		case <-resync.C:
		}
		r, err := inspect.Status(ctx, o.src, o.ns, o.Name, 0)
		if err != nil && !isNotFound(err) {
			if ctx.Err() != nil {
				continue
			}
			fmt.Fprintf(o.Streams.ErrOut, "%s  warning: %v (retrying)\n", time.Now().UTC().Format(time.RFC3339), err)
			continue
		}
		if k := key(r); k != prev {
			prev = k
			o.printChange(r)
		}
		if done, code := o.reached(r, err); done {
			return codeErr(code, r)
		}
	}
}

func (o *StatusOptions) printChange(r *diagnose.Report) {
	ts := time.Now().UTC().Format(time.RFC3339)
	if *o.PrintFlags.OutputFormat != "" {
		if r != nil {
			_ = o.print(r)
		}
		return
	}
	if r == nil {
		fmt.Fprintf(o.Streams.Out, "%s  %s  nothing left in the cluster\n", ts, o.style.StatusWord(string(state.Stopped)))
		return
	}
	fmt.Fprintf(o.Streams.Out, "%s  %-8s  %s  (instances %d)\n", ts, o.style.StatusWord(r.Status), o.style.Condition(r), r.AvailableInstances)
}

// formatName is the format of an -o value without its argument (jsonpath=... -> jsonpath).
func formatName(o string) string {
	name, _, _ := strings.Cut(o, "=")
	return name
}
