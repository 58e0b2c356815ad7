package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/spf13/cobra"
)

// BundleOptions are the options of `bundle`.
type BundleOptions struct {
	*Globals
	Name            string
	File            string
	Force           bool
	IncludePayloads bool
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
	cmd.Flags().StringVarP(&o.File, "file", "f", "", "where to write the bundle (default NAME-<time>.tar.gz); it must not exist")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace the file if it exists")
	cmd.Flags().BoolVar(&o.IncludePayloads, "include-payloads", false, "include the inference-logger container's logs, which hold request and response payloads (user data)")
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

// Validate checks NAME and that the file can be created.
func (o *BundleOptions) Validate() error {
	if err := o.validateDeployment(o.Name); err != nil {
		return err
	}
	if _, err := os.Lstat(o.File); err == nil && !o.Force {
		return usageErr("%s exists: choose another -f, or replace it with --force", o.File)
	}
	return nil
}

// Run collects the bundle and writes it.
func (o *BundleOptions) Run(ctx context.Context) error {
	src, ns, err := o.inspectSources(ctx)
	if err != nil {
		return err
	}
	b, err := inspect.Bundle(ctx, src, ns, o.Name, o.IncludePayloads)
	if err != nil {
		return err
	}
	if err := writeBundle(o.File, o.Force, b); err != nil {
		return err
	}
	fmt.Fprintf(o.Streams.Out, "wrote %s: %d pods, %d events, %d container logs, %d history lines; read it with: kubectl hopsdeploy status --from-bundle %s\n",
		o.File, len(b.Objects.Pods), len(b.Objects.Events), len(b.Logs), len(b.History), o.File)
	return nil
}

// writeBundle writes a bundle readable by its owner only (0600). Without force it creates the
// file exclusively (O_EXCL: never an existing file, never through a symlink); with force it
// writes a new file beside it and renames it over the old one (a symlink there is replaced,
// not followed).
func writeBundle(path string, force bool, b *bundle.Bundle) error {
	var f *os.File
	var err error
	if force {
		f, err = os.CreateTemp(filepath.Dir(path), ".hopsdeploy-bundle-*")
	} else {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if errors.Is(err, fs.ErrExist) {
		return usageErr("%s exists: choose another -f, or replace it with --force", path)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := bundle.Write(f, b); err != nil {
		f.Close()
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if force {
		if err := os.Rename(f.Name(), path); err != nil {
			os.Remove(f.Name())
			return fmt.Errorf("replace %s: %w", path, err)
		}
	}
	return nil
}
