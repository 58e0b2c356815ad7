package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/spf13/cobra"
)

// ReportOptions are the options of `report`.
type ReportOptions struct {
	*Globals
	Name            string
	File            string
	Force           bool
	IncludePayloads bool
	FromBundle      string
}

func newReportCommand(g *Globals) *cobra.Command {
	o := &ReportOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "report NAME",
		Short: "Write one HTML page of a deployment: status, diagnosis, timeline chart, events and logs with a search box",
		Long: `Write the page a support bundle holds as report.html, without the bundle: one
self-contained file (no network, no external script, style or font) that any browser opens.
Everything read from the cluster is escaped, and the page runs no script but its own.`,
		Example: "  kubectl hopsdeploy report fraud -n my-project -f fraud.html\n" +
			"  kubectl hopsdeploy report --from-bundle fraud.tar.gz -f fraud.html",
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE:              run(o),
	}
	cmd.Flags().StringVarP(&o.File, "file", "f", "", "where to write the page (default NAME-<time>.html); it must not exist")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace the file if it exists")
	cmd.Flags().BoolVar(&o.IncludePayloads, "include-payloads", false, "include the inference-logger container's logs, which hold request and response payloads (user data)")
	cmd.Flags().StringVar(&o.FromBundle, "from-bundle", "", "make the page of a support bundle instead of the cluster")
	return cmd
}

// Complete reads NAME (optional with --from-bundle) and names the file.
func (o *ReportOptions) Complete(_ *cobra.Command, args []string) error {
	if len(args) == 0 && o.FromBundle == "" {
		return usageErr("report needs a deployment NAME: kubectl hopsdeploy report NAME (or --from-bundle FILE)")
	}
	if len(args) > 0 {
		o.Name = args[0]
	}
	if o.File == "" {
		name := o.Name
		if name == "" {
			name = "report"
		}
		o.File = fmt.Sprintf("%s-%s.html", name, time.Now().UTC().Format("20060102T150405Z"))
	}
	return nil
}

// Validate checks NAME and that the file can be created.
func (o *ReportOptions) Validate() error {
	if o.FromBundle == "" || o.Name != "" {
		if err := o.validateDeployment(o.Name); err != nil {
			return err
		}
	}
	if o.FromBundle != "" && o.IncludePayloads {
		return usageErr("--include-payloads reads the cluster: a bundle holds the payloads only if it was made with them")
	}
	if _, err := os.Lstat(o.File); err == nil && !o.Force {
		return usageErr("%s exists: choose another -f, or replace it with --force", o.File)
	}
	return nil
}

// Run collects what a bundle holds (or reads a bundle) and writes its page.
func (o *ReportOptions) Run(ctx context.Context) error {
	var b *bundle.Bundle
	var err error
	if o.FromBundle != "" {
		b, err = o.openBundle(o.FromBundle, o.Name)
	} else {
		var src inspect.Sources
		var ns string
		if src, ns, err = o.inspectSources(ctx); err == nil {
			b, err = inspect.Bundle(ctx, src, ns, o.Name, o.IncludePayloads)
		}
	}
	if err != nil {
		return err
	}
	page, err := reportPage(b)
	if err != nil {
		return err
	}
	if err := writePrivate(o.File, o.Force, func(w io.Writer) error { _, err := io.Copy(w, bytes.NewReader(page)); return err }); err != nil {
		return err
	}
	fmt.Fprintf(o.Streams.Out, "wrote %s: open it in a browser\n", o.File)
	return nil
}
