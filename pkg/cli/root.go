// Package cli holds the thin cobra commands. Each has an Options struct with Complete,
// Validate and Run, as kubectl's own commands do; the work is done by the cluster, state,
// diagnose, logs and printers packages.
package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version"
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/klog/v2"
	"sigs.k8s.io/yaml"

	// Cloud auth providers (OIDC, exec...) for kubeconfigs that use them.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

// Globals are the flags every command shares.
type Globals struct {
	ConfigFlags *genericclioptions.ConfigFlags
	Streams     genericiooptions.IOStreams
	Project     string
	Color       string
}

// Clients builds the API clients from the kubectl flags.
func (g *Globals) Clients() (*cluster.Clients, error) {
	cfg, err := g.ConfigFlags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("no usable kubeconfig: %w (set --kubeconfig or KUBECONFIG)", err)
	}
	cfg.WarningHandler = nil
	// client-go's default of 5 requests/s (burst 10) would take a minute to open 300 log
	// streams; 50/s with a burst of 100 opens them in seconds and stays gentle on the server.
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	return cluster.NewClients(cfg)
}

// Namespace is the namespace to work in: --project's, else -n's, else the context's.
func (g *Globals) Namespace(ctx context.Context, c *cluster.Clients) (string, error) {
	if g.Project != "" {
		if g.ConfigFlags.Namespace != nil && *g.ConfigFlags.Namespace != "" {
			return "", usageErr("--project and -n/--namespace both name a namespace: give one of them")
		}
		return c.ProjectNamespace(ctx, g.Project)
	}
	ns, _, err := g.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("no usable kubeconfig: %w (set --kubeconfig or KUBECONFIG)", err)
	}
	return ns, nil
}

// Style returns the human output style for the command's output stream.
func (g *Globals) Style() (*printers.Style, error) {
	on, err := term.UseColor(g.Color, g.Streams.Out)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return printers.NewStyle(on), nil
}

// NewRootCommand builds `kubectl hopsdeploy` and its subcommands.
func NewRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	g := &Globals{ConfigFlags: genericclioptions.NewConfigFlags(true), Streams: streams}
	root := &cobra.Command{
		Use:   "hopsdeploy",
		Short: "Troubleshoot Hopsworks model deployments from kubectl",
		Long: `hopsdeploy shows the state of Hopsworks model deployments (KServe InferenceServices, or
the DEFAULT tool's Deployments) as Hopsworks derives it, what Hopsworks hides (every pod and
container, the events, the root cause and the next step), and their logs.`,
		Example: `  # The state of a deployment, its pods, events and a diagnosis
  kubectl hopsdeploy status fraud -n my-project

  # Every deployment of a Hopsworks project
  kubectl hopsdeploy list --project my_project

  # Follow the transformer's logs, every pod, every container
  kubectl hopsdeploy logs fraud -c transformer --container all -f`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl-") {
		root.Annotations = map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl hopsdeploy"}
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	g.ConfigFlags.AddFlags(root.PersistentFlags())
	// -v as kubectl has it: client-go's request logging (klog), for debugging.
	klogFlags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(klogFlags)
	root.PersistentFlags().AddGoFlag(klogFlags.Lookup("v"))
	root.PersistentFlags().StringVar(&g.Project, "project", "", "Hopsworks project: use its namespace (labelled hopsworks.ai/project, or the name made DNS-safe)")
	root.PersistentFlags().StringVar(&g.Color, "color", "auto", "colour output: auto (on a terminal, unless NO_COLOR is set), always or never")
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return completeNamespaces(cmd.Context(), g)
	})
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)

	root.AddCommand(newVersionCommand(g), newStatusCommand(g), newListCommand(g), newLogsCommand(g), newWhyCommand(g), newTimelineCommand(g), newBundleCommand(g))
	return root
}

func newVersionCommand(g *Globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version, commit and build date",
		Example: "  kubectl hopsdeploy version\n  kubectl hopsdeploy version -o json",
		Args:    maxArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := version.Get()
			switch output {
			case "":
				fmt.Fprintf(g.Streams.Out, "hopsdeploy %s (commit %s, built %s, %s, %s)\n", v.Version, v.Commit, v.BuildDate, v.GoVersion, v.Platform)
			case "json":
				b, _ := json.MarshalIndent(v, "", "    ")
				fmt.Fprintln(g.Streams.Out, string(b))
			case "yaml":
				b, _ := yaml.Marshal(v)
				fmt.Fprint(g.Streams.Out, string(b))
			default:
				return usageErr("invalid -o %q: use json or yaml", output)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: json or yaml")
	return cmd
}

// Execute runs the root command and returns the process exit code.
func Execute(root *cobra.Command, errOut interface{ Write([]byte) (int, error) }) int {
	return Report(root.Execute(), errOut)
}
