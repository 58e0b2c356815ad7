package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/spf13/cobra"
)

// BundleOptions are the options of `bundle`.
type BundleOptions struct {
	*Globals
	Name string
	File string
}

func newBundleCommand(g *Globals) *cobra.Command {
	o := &BundleOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "bundle NAME",
		Short: "Write a support bundle (tar.gz): objects, events, logs, history and the diagnosis",
		Long: `Write a tar.gz support bundle of a deployment: its InferenceService or Deployment, pods and
events (environment values and last-applied configurations redacted; secrets are never read),
the last lines of every container's current and previous instance, the OpenSearch history
around the last failure (when OpenSearch is configured), and the status with its diagnosis.
Read it anywhere, without the cluster: kubectl hopsdeploy status --from-bundle FILE.`,
		Example:           "  kubectl hopsdeploy bundle fraud -n my-project -f fraud.tar.gz\n  kubectl hopsdeploy status --from-bundle fraud.tar.gz",
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE:              run(o),
	}
	cmd.Flags().StringVarP(&o.File, "file", "f", "", "where to write the bundle (default NAME-<time>.tar.gz)")
	return cmd
}

// Complete reads NAME and names the file.
func (o *BundleOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageErr("bundle needs a deployment NAME: kubectl hopsdeploy bundle NAME")
	}
	o.Name = args[0]
	if o.File == "" {
		o.File = fmt.Sprintf("%s-%s.tar.gz", o.Name, time.Now().UTC().Format("20060102T150405Z"))
	}
	return nil
}

// Validate checks the global flags.
func (o *BundleOptions) Validate() error { return o.validateDeployment(o.Name) }

// Run collects the bundle and writes it.
func (o *BundleOptions) Run(ctx context.Context) error {
	src, ns, err := o.inspectSources(ctx)
	if err != nil {
		return err
	}
	b, err := inspect.Bundle(ctx, src, ns, o.Name)
	if err != nil {
		return err
	}
	f, err := os.Create(o.File)
	if err != nil {
		return fmt.Errorf("create %s: %w", o.File, err)
	}
	if err := bundle.Write(f, b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", o.File, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(o.Streams.Out, "wrote %s: %d pods, %d events, %d container logs, %d history lines; read it with: kubectl hopsdeploy status --from-bundle %s\n",
		o.File, len(b.Objects.Pods), len(b.Objects.Events), len(b.Logs), len(b.History), o.File)
	return nil
}
