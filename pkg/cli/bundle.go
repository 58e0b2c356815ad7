package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version"
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
	if b.ReportHTML, err = reportPage(b); err != nil {
		return err
	}
	if err := writeBundle(o.File, o.Force, b); err != nil {
		return err
	}
	fmt.Fprintf(o.Streams.Out, "wrote %s: %d pods, %d events, %d container logs, %d history lines; read it with: kubectl hopsdeploy status (or why, timeline, logs) --from-bundle %s\n",
		o.File, len(b.Objects.Pods), len(b.Objects.Events), len(b.Logs), len(b.History), o.File)
	return nil
}

// writeBundle writes a bundle readable by its owner only (0600). Without force it creates the
// file exclusively (O_EXCL: never an existing file, never through a symlink); with force it
// writes a new file beside it and renames it over the old one (a symlink there is replaced,
// not followed).
func writeBundle(path string, force bool, b *bundle.Bundle) error {
	return writePrivate(path, force, func(w io.Writer) error { return bundle.Write(w, b) })
}

// writePrivate writes a file readable by its owner only (0600), as writeBundle says.
func writePrivate(path string, force bool, write func(io.Writer) error) error {
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
	if err := write(f); err != nil {
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

// openBundle reads a support bundle for a command that reads it instead of the cluster. A
// NAME, -n or --project given with it must be the bundle's.
func (g *Globals) openBundle(path, name string) (*bundle.Bundle, error) {
	// A bundle is read whole (its objects up to the caps of bundle.Read), with Go's GC
	// defaults: the logs command's tuning for streams (logsGC) would have the GC
	// run without end on a large one (4 s instead of under 1 for 40,000 pods and events), so
	// logs --from-bundle never sets it.
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open the bundle: %w", err)
	}
	defer f.Close()
	b, err := bundle.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if name != "" && name != b.Objects.Name {
		return nil, usageErr("%s holds deployment %s, not %s: drop NAME, or open the bundle of %s", path, b.Objects.Name, name, name)
	}
	if ns := *g.ConfigFlags.Namespace; ns != "" && ns != b.Objects.Namespace {
		return nil, usageErr("%s holds namespace %s, not %s: drop -n, or open the bundle of %s", path, b.Objects.Namespace, ns, ns)
	}
	if g.Project != "" && cluster.ProjectToNamespace(g.Project) != b.Objects.Namespace {
		return nil, usageErr("%s holds namespace %s, not project %s's namespace %s: drop --project, or open that project's bundle", path, b.Objects.Namespace, g.Project, cluster.ProjectToNamespace(g.Project))
	}
	return b, nil
}

// bundleNotice says once, on stderr, what reading a bundle leaves out.
func (g *Globals) bundleNotice(b *bundle.Bundle) {
	fmt.Fprintf(g.Streams.ErrOut, "note: %s as the bundle holds it, taken %s: no history, no follow, no log timestamps, no request payloads (each container instance's last %d lines)\n",
		b.Objects.Name, b.Objects.Taken.UTC().Format(time.RFC3339), inspect.BundleLogLines)
}

// reportPage is a bundle's report.html: the page a browser opens, from the bundle's own
// (redacted, scrubbed) content.
func reportPage(b *bundle.Bundle) ([]byte, error) {
	var page bytes.Buffer
	err := printers.ReportHTML(&page, printers.Page{Report: b.Report(), Chart: diagnose.BuildChart(b.Objects.Snapshot()),
		Logs: b.Logs, History: b.History, Taken: b.Objects.Taken, Version: version.Version})
	return page.Bytes(), err
}
