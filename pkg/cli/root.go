// Package cli holds the thin cobra commands. Each has an Options struct with Complete,
// Validate and Run, as kubectl's own commands do; the work is done by the cluster, state,
// diagnose, logs and printers packages.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/version"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	// project is --project as Hopsworks answered for it (Namespace asked), so that reading
	// history does not ask again; zero when it was not asked.
	project hopsworks.Project
}

// Clients builds the API clients from the kubectl flags.
func (g *Globals) Clients() (*cluster.Clients, error) { return g.clients(0) }

// clients is Clients with each HTTP/2 stream's receive window (cluster.NewClients).
func (g *Globals) clients(streamWindow int) (*cluster.Clients, error) {
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
	return cluster.NewClients(cfg, streamWindow)
}

// Namespace is the namespace to work in: --project's, else -n's, else the context's. A
// project's namespace is the one Hopsworks gives it when it has one of its own (Hopsworks 4.1
// and later; asked only when Hopsworks is configured in s), else the namespace labelled for it,
// else Hopsworks' naming rule.
func (g *Globals) Namespace(ctx context.Context, c *cluster.Clients, s *history.Settings) (string, error) {
	if g.Project != "" {
		if own := g.ownNamespace(ctx, s); own != "" {
			return own, nil
		}
		ns, note, err := c.ProjectNamespace(ctx, g.Project)
		if note != "" {
			fmt.Fprintln(g.Streams.ErrOut, term.Sanitize(note))
		}
		return ns, err
	}
	ns, _, err := g.ConfigFlags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("no usable kubeconfig: %w (set --kubeconfig or KUBECONFIG)", err)
	}
	return ns, nil
}

// ownNamespace is --project's own namespace as Hopsworks says it, "" when it has none or
// Hopsworks cannot say (a command that needs Hopsworks meets its error where it calls it).
func (g *Globals) ownNamespace(ctx context.Context, s *history.Settings) string {
	if s == nil || !s.Hopsworks.Configured() {
		return ""
	}
	hw, err := hopsworks.NewClient(s.Hopsworks)
	if err != nil {
		return ""
	}
	p, err := hw.ProjectInfo(ctx, g.Project)
	if err != nil {
		return ""
	}
	g.project = p
	return p.Namespace
}

// validate checks the global flags, before any API call.
func (g *Globals) validate() error {
	if g.Project != "" && g.ConfigFlags.Namespace != nil && *g.ConfigFlags.Namespace != "" {
		return usageErr("--project and -n/--namespace both name a namespace: give one of them")
	}
	if _, err := term.UseColor(g.Color, g.Streams.Out); err != nil {
		return usageErr("%v", err)
	}
	if g.Project != "" {
		if err := cluster.ValidateName("project", g.Project); err != nil {
			return usageErr("%v", err)
		}
	}
	return nil
}

// validateDeployment checks a deployment NAME, and the global flags, before any API call.
func (g *Globals) validateDeployment(name string) error {
	if err := g.validate(); err != nil {
		return err
	}
	if err := cluster.ValidateName("deployment", name); err != nil {
		return usageErr("%v (list the deployments with kubectl hopsdeploy list)", err)
	}
	return nil
}

// clientsAndNamespace builds the clients and resolves the namespace (with the history
// settings s, which say whether Hopsworks can be asked): the start of every Run.
func (g *Globals) clientsAndNamespace(ctx context.Context, s *history.Settings, streamWindow int) (*cluster.Clients, string, error) {
	c, err := g.clients(streamWindow)
	if err != nil {
		return nil, "", err
	}
	ns, err := g.Namespace(ctx, c, s)
	return c, ns, err
}

// Style returns the human output style for the command's output stream.
func (g *Globals) Style() *printers.Style {
	on, _ := term.UseColor(g.Color, g.Streams.Out) // checked by validate
	return printers.NewStyle(on)
}

// kubeContext is the kube context in use: --context, else the kubeconfig's current one.
func (g *Globals) kubeContext() string {
	if g.ConfigFlags.Context != nil && *g.ConfigFlags.Context != "" {
		return *g.ConfigFlags.Context
	}
	raw, _ := g.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	return raw.CurrentContext
}

// requestTimeout is --request-timeout, which bounds OpenSearch calls too.
func (g *Globals) requestTimeout() time.Duration {
	if g.ConfigFlags.Timeout == nil {
		return 0
	}
	d, err := time.ParseDuration(*g.ConfigFlags.Timeout)
	if err != nil {
		if n, err2 := strconv.Atoi(*g.ConfigFlags.Timeout); err2 == nil {
			return time.Duration(n) * time.Second
		}
		return 0
	}
	return d
}

// openSearchSettings resolves the OpenSearch and Hopsworks settings, one way for every
// command that reads history, by the settings table (settings.go): the config file's block
// for the kube context in use over its defaults, the environment over both, the flags (only
// logs has them; nil for none) over all.
func (g *Globals) openSearchSettings(flags *pflag.FlagSet) (history.Settings, error) {
	cfg, err := loadConfig(configPath())
	if err != nil {
		return history.Settings{}, usageErr("%v", err)
	}
	s, err := resolveSettings(cfg, g.kubeContext(), os.Getenv, flags)
	if err != nil {
		return s, usageErr("%v", err)
	}
	s.Timeout = g.requestTimeout()
	s.Hopsworks.Timeout = s.Timeout
	if w := term.OpenToOthers(configPath()); w != "" && s.Configured() {
		s.Warnings = append(s.Warnings, w)
	}
	for _, w := range s.Warnings {
		fmt.Fprintln(g.Streams.ErrOut, term.Sanitize(w))
	}
	return s, nil
}

// historyAccess is how a command reads a namespace's history, and asks Hopsworks about its
// deployments.
type historyAccess struct {
	// Open connects on demand, once; nil when neither OpenSearch nor Hopsworks is configured.
	Open func() (history.Source, error)
	// Index is --index (or its environment and config file); "" for the project's serving
	// indices, which the reader works out once it knows the project.
	Index string
	// Serving asks Hopsworks whether the project has a deployment of that name; nil without
	// Hopsworks.
	Serving func(ctx context.Context, name string) (status string, found bool, err error)
}

// prepare opens history in the background, for a command that will read it whatever it finds
// in the cluster: the project (a namespace read, Hopsworks' token) and the field names are
// then asked while the deployment is read, not after. A failure is the read's, said there.
func (h historyAccess) prepare(ctx context.Context) {
	if h.Open == nil {
		return
	}
	go func() {
		src, err := h.Open()
		if p, ok := src.(interface{ Prepare(context.Context, string) }); err == nil && ok {
			p.Prepare(ctx, h.Index)
		}
	}()
}

// hopsworksProject is the Hopsworks project of the namespace, and Hopsworks when configured.
type hopsworksProject struct {
	name   string
	client *hopsworks.Client       // nil without Hopsworks
	token  *hopsworks.ProjectToken // nil without Hopsworks
}

// historyOf says how a command reads the history of namespace ns. Nothing is called until a
// command reads history: then the project is resolved once (projectOf) and one reader made.
func (g *Globals) historyOf(ctx context.Context, c *cluster.Clients, ns string, s history.Settings) historyAccess {
	if !s.Configured() {
		return historyAccess{}
	}
	project := sync.OnceValues(func() (hopsworksProject, error) { return g.projectOf(ctx, c, ns, s) })
	h := historyAccess{Index: s.Index}
	// One reader for the whole command: one connection pool, one Hopsworks token.
	h.Open = sync.OnceValues(func() (history.Source, error) {
		p, err := project()
		if err != nil {
			return nil, err
		}
		return openHistory(ctx, s, p)
	})
	if s.Hopsworks.Configured() {
		h.Serving = func(ctx context.Context, name string) (string, bool, error) {
			p, err := project()
			if err != nil {
				return "", false, err
			}
			id, err := p.token.ProjectID(ctx)
			if err != nil {
				return "", false, err
			}
			return p.client.Serving(ctx, p.name, id, name)
		}
	}
	return h
}

// projectOf is the Hopsworks project of namespace ns: --project; else, with Hopsworks, the
// project of the key's user that runs in ns (its own namespace, or the one Hopsworks' naming
// rule gives its name: mixed case included); else the namespace's hopsworks.ai/project label;
// else the namespace with "-" turned into "_" (the pipeline's rule for index names).
func (g *Globals) projectOf(ctx context.Context, c *cluster.Clients, ns string, s history.Settings) (hopsworksProject, error) {
	var p hopsworksProject
	if s.Hopsworks.Configured() {
		hw, err := hopsworks.NewClient(s.Hopsworks)
		if err != nil {
			return p, err
		}
		p.client = hw
	}
	p.name = g.Project
	if p.name == "" && p.client != nil {
		ps, err := p.client.Projects(ctx)
		if err != nil {
			return p, err
		}
		p.name = projectInNamespace(ps, ns)
	}
	if p.name == "" {
		p.name = c.ProjectOf(ctx, ns)
	}
	if p.name == "" {
		p.name = history.ProjectOfNamespace(ns)
	}
	if p.client != nil {
		if g.project.Name == p.name && g.project.ID != 0 {
			p.token = hopsworks.NewProjectTokenOf(p.client, g.project) // its id is known: not asked again
		} else {
			p.token = hopsworks.NewProjectToken(p.client, p.name)
		}
	}
	return p, nil
}

// projectInNamespace picks the project that runs in ns: one whose own namespace it is, else
// one whose name Hopsworks' rule turns into it; "" when none does.
func projectInNamespace(ps []hopsworks.Project, ns string) string {
	for _, p := range ps {
		if p.Namespace == ns {
			return p.Name
		}
	}
	for _, p := range ps {
		if p.Namespace == "" && cluster.ProjectToNamespace(p.Name) == ns {
			return p.Name
		}
	}
	return ""
}

// openHistory connects to OpenSearch and reads the project's serving indices by default. With
// Hopsworks as the credential source (and no OpenSearch credentials of the user's own), the
// token is the project's OpenSearch JWT, and without an OpenSearch URL, Hopsworks says where
// OpenSearch is.
func openHistory(ctx context.Context, s history.Settings, p hopsworksProject) (history.Source, error) {
	if p.client != nil && s.User == "" && s.Token == "" {
		if s.URL == "" {
			var err error
			if s.URL, err = p.client.OpenSearchURL(ctx); err != nil {
				return nil, err
			}
		}
		s.Tokens = p.token
	}
	r, err := history.NewReader(s)
	if err != nil {
		return nil, err
	}
	r.DefaultIndex = history.ProjectIndexPattern(p.name)
	return r, nil
}

// historyHint says how to point the plugin at history.
func historyHint() string {
	return "set HOPSWORKS_URL and HOPSWORKS_API_KEY (a Hopsworks API key), or pass --opensearch-url, set HOPSDEPLOY_OPENSEARCH_URL, or add either to " + configPath()
}

// options is the shape of every command, as kubectl's: Complete reads the arguments and which
// flags were set and works out effective values (no API call, no kubeconfig), Validate only
// checks, Run builds the clients and acts.
type options interface {
	Complete(cmd *cobra.Command, args []string) error
	Validate() error
	Run(ctx context.Context) error
}

// run is every command's RunE.
func run(o options) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := o.Complete(cmd, args); err != nil {
			return err
		}
		if err := o.Validate(); err != nil {
			return err
		}
		return o.Run(cmd.Context())
	}
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
		SilenceUsage:               true,
		SilenceErrors:              true,
		Args:                       cobra.ArbitraryArgs,
		SuggestionsMinimumDistance: 2,
		// An unknown subcommand lands here: a usage error with cobra's suggestions.
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			hint := ""
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				hint = ": did you mean " + strings.Join(s, " or ") + "?"
			}
			return usageErr("unknown command %q for %q%s (see %s --help)", args[0], cmd.CommandPath(), hint, cmd.CommandPath())
		},
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
	root.PersistentFlags().StringVar(&g.Project, "project", "", "Hopsworks project: use its namespace (its own, as Hopsworks says; else labelled hopsworks.ai/project; else the name made DNS-safe)")
	root.PersistentFlags().StringVar(&g.Color, "color", "auto", "colour output: auto (on a terminal, unless NO_COLOR is set), always or never")
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return completeNamespaces(cmd.Context(), g)
	})
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)

	root.AddCommand(newVersionCommand(g), newStatusCommand(g), newListCommand(g), newLogsCommand(g), newWhyCommand(g), newTimelineCommand(g), newBundleCommand(g), newReportCommand(g))
	return root
}

// VersionOptions are the options of `version`.
type VersionOptions struct {
	*Globals
	Output string
}

func newVersionCommand(g *Globals) *cobra.Command {
	o := &VersionOptions{Globals: g}
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the plugin's version, commit and build date",
		Example: "  kubectl hopsdeploy version\n  kubectl hopsdeploy version -o json",
		Args:    maxArgs(0),
		RunE:    run(o),
	}
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "output format: json or yaml")
	return cmd
}

// Complete has nothing to work out.
func (o *VersionOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks -o.
func (o *VersionOptions) Validate() error {
	switch o.Output {
	case "", "json", "yaml":
		return nil
	}
	return usageErr("invalid -o %q: use json or yaml", o.Output)
}

// Run prints the version.
func (o *VersionOptions) Run(context.Context) error {
	v := version.Get()
	switch o.Output {
	case "json":
		b, _ := json.MarshalIndent(v, "", "    ")
		fmt.Fprintln(o.Streams.Out, string(b))
	case "yaml":
		b, _ := yaml.Marshal(v)
		fmt.Fprint(o.Streams.Out, string(b))
	default:
		fmt.Fprintf(o.Streams.Out, "hopsdeploy %s (commit %s, built %s, %s, %s)\n", v.Version, v.Commit, v.BuildDate, v.GoVersion, v.Platform)
	}
	return nil
}

// Execute runs the root command and returns the process exit code.
// An interrupted command (ctx cancelled by a signal) exits 130, as a shell reports SIGINT,
// after it flushed what it had read; the interruption itself is no error to report.
func Execute(ctx context.Context, root *cobra.Command, errOut io.Writer) int {
	err := root.ExecuteContext(ctx)
	if ctx.Err() != nil {
		var ee *ExitError
		if err == nil || errors.Is(err, context.Canceled) || !errors.As(err, &ee) {
			return ExitInterrupted
		}
	}
	return Report(err, errOut)
}
