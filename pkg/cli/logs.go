package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/logs"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/printers"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// LogsOptions are the options of `logs`: the flags as given, then the engine's configuration
// worked out once by Complete.
type LogsOptions struct {
	*Globals
	Component      string
	Containers     []string
	Pod            string
	Tail           int64
	Follow         bool
	Since          time.Duration
	SinceTime      string
	Timestamps     bool
	Previous       bool
	LimitBytes     int64
	Prefix         bool
	Output         string
	Raw            bool
	MaxLogRequests int
	Source         string
	LastWords      bool
	Until          string
	Grep           string
	FromBundle     string

	flags  *pflag.FlagSet
	config inspect.LogsConfig
}

func newLogsCommand(g *Globals) *cobra.Command {
	o := &LogsOptions{Globals: g}
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Print or follow the logs of every pod of a deployment's component, by container",
		Long: `Print the logs of every pod of a component (predictor or transformer) of a Hopsworks
deployment, for one or more containers: kserve-container (the default), storage-initializer,
queue-proxy, agent, inference-logger, or all. With -f, follow them: new pods and restarted
containers are picked up, dropped streams resume without a lost or doubled line, and a line on
stderr says when a container dies.

Without -f and without --since, each container shows its last 10 lines, as Hopsworks does.`,
		Example: `  kubectl hopsdeploy logs fraud
  kubectl hopsdeploy logs fraud -c transformer -f
  kubectl hopsdeploy logs fraud -c all --container all --since 15m --timestamps
  kubectl hopsdeploy logs fraud --container storage-initializer --previous
  kubectl hopsdeploy logs fraud -f -o json | jq -r .message`,
		Args:              maxArgs(1),
		ValidArgsFunction: completeDeployments(g),
		RunE:              run(o),
	}
	f := cmd.Flags()
	f.StringVarP(&o.Component, "component", "c", "predictor", "component: predictor, transformer or all")
	f.StringArrayVar(&o.Containers, "container", nil, "container to read (repeatable): kserve-container (default), storage-initializer, queue-proxy, agent, inference-logger... or all")
	f.StringVar(&o.Pod, "pod", "", "only this pod (instance) of the component")
	f.Int64Var(&o.Tail, "tail", 0, "lines of recent log per container; -1 for all (default 10, or all with --since/--since-time)")
	f.BoolVarP(&o.Follow, "follow", "f", false, "follow the logs, picking up new pods and restarted containers")
	f.DurationVar(&o.Since, "since", 0, "only lines newer than this duration, e.g. 10m or 2h")
	f.StringVar(&o.SinceTime, "since-time", "", "only lines after this time (RFC3339, e.g. 2026-11-25T10:00:00Z)")
	f.BoolVar(&o.Timestamps, "timestamps", false, "print each line's timestamp")
	f.BoolVarP(&o.Previous, "previous", "p", false, "read the previous instance of each container (after a restart)")
	f.Int64Var(&o.LimitBytes, "limit-bytes", 0, "at most this many bytes of log per container")
	f.BoolVar(&o.Prefix, "prefix", false, "prefix lines with pod and container (default: on when more than one stream)")
	f.StringVarP(&o.Output, "output", "o", "", "output: raw (messages only) or json (one object per line)")
	f.BoolVar(&o.Raw, "raw", false, "print log lines as they are, control sequences included, even on a terminal")
	f.IntVar(&o.MaxLogRequests, "max-log-requests", 50, "most streams at once; more wait for a free slot (with -f, more is an error: followed streams never end)")
	f.BoolVar(&o.LastWords, "last-words", false, "for every container that ended abnormally (in the --since window), its exit reason and final lines: from its previous instance, or from OpenSearch once the pod is gone")
	f.StringVar(&o.Source, "source", "auto", "where logs come from: auto (live while pods cover the window, else OpenSearch history), live or history")
	f.StringVar(&o.Until, "until", "", "history: only lines before this time (RFC3339) or this long ago (e.g. 1h)")
	f.StringVar(&o.Grep, "grep", "", "only lines that match these words (an OpenSearch match query on history; a case-insensitive substring on live lines)")
	f.StringVar(&o.FromBundle, "from-bundle", "", "read a support bundle's container logs (their last lines, no timestamps) instead of the cluster")
	addHistoryFlags(f)
	_ = cmd.RegisterFlagCompletionFunc("source", cobra.FixedCompletions([]string{"auto", "live", "history"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("component", cobra.FixedCompletions([]string{"predictor", "transformer", "all"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("container", cobra.FixedCompletions([]string{"kserve-container", "storage-initializer", "queue-proxy", "agent", "inference-logger", "all"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"raw", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete reads NAME and the flags, and works out the engine's configuration once: the
// default of --tail (10, or all with --since/--since-time), the times, the prefix.
func (o *LogsOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 0 && o.FromBundle == "" {
		return usageErr("logs needs a deployment NAME: kubectl hopsdeploy logs NAME (list them with kubectl hopsdeploy list)")
	}
	o.flags = cmd.Flags()
	name := ""
	if len(args) > 0 {
		name = args[0]
	}
	c := inspect.LogsConfig{Deployment: name, Component: o.Component, Containers: o.Containers, Pod: o.Pod,
		Tail: o.Tail, Since: o.Since, Timestamps: o.Timestamps, Previous: o.Previous, Follow: o.Follow,
		LimitBytes: o.LimitBytes, Grep: o.Grep, Source: inspect.LogSource(o.Source), LastWords: o.LastWords,
		Format: o.Output, MaxRequests: o.MaxLogRequests, Out: o.Streams.Out, ErrOut: o.Streams.ErrOut}
	if !o.flags.Changed("tail") {
		c.Tail = 10
		if o.Since > 0 || o.SinceTime != "" {
			c.Tail = -1
		}
	}
	if o.SinceTime != "" {
		t, err := time.Parse(time.RFC3339, o.SinceTime)
		if err != nil {
			return usageErr("invalid --since-time %q: use RFC3339, e.g. 2026-11-25T10:00:00Z", o.SinceTime)
		}
		c.SinceTime = t
	}
	if o.Until != "" {
		t, err := parseTimeOrAgo(o.Until)
		if err != nil {
			return usageErr("invalid --until %q: use RFC3339 (2026-11-25T10:00:00Z) or a duration ago (1h)", o.Until)
		}
		c.Until = t
	}
	if o.flags.Changed("prefix") {
		c.Prefix = &o.Prefix
	}
	c.Color, _ = term.UseColor(o.Color, o.Streams.Out)
	c.Sanitize = !o.Raw && term.IsTerminal(o.Streams.Out)
	o.config = c
	return nil
}

// Validate checks the flags on their own, before any API call.
func (o *LogsOptions) Validate() error {
	c := &o.config
	if o.FromBundle == "" || c.Deployment != "" {
		if err := o.validateDeployment(c.Deployment); err != nil {
			return err
		}
	}
	if o.FromBundle != "" {
		for flag, set := range map[string]bool{"--follow": c.Follow, "--since": c.Since > 0, "--since-time": !c.SinceTime.IsZero(), "--until": !c.Until.IsZero(),
			"--timestamps": c.Timestamps, "--source": o.flags.Changed("source")} {
			if set {
				return usageErr("%s does not go with --from-bundle: a bundle holds each container instance's last lines, without their times, and no history", flag)
			}
		}
	}
	switch c.Component {
	case "predictor", "transformer", "all":
	default:
		return usageErr("invalid --component %q: use predictor, transformer or all", c.Component)
	}
	if o.flags.Changed("tail") && o.Tail < -1 {
		return usageErr("invalid --tail %d: give a number of lines, 0 or more, or -1 for all", o.Tail)
	}
	if c.Since < 0 {
		return usageErr("invalid --since %s: it must be positive, e.g. 10m", c.Since)
	}
	if c.Since > 0 && !c.SinceTime.IsZero() {
		return usageErr("--since and --since-time both set where to start: give one of them")
	}
	if c.LimitBytes < 0 {
		return usageErr("invalid --limit-bytes %d: it must be positive", c.LimitBytes)
	}
	if c.MaxRequests < 1 {
		return usageErr("invalid --max-log-requests %d: it must be at least 1", c.MaxRequests)
	}
	switch c.Format {
	case "", "raw", "json":
	default:
		return usageErr("invalid -o %q: use raw or json", c.Format)
	}
	if c.Previous && c.Follow {
		return usageErr("--previous and --follow do not go together: a previous instance has ended")
	}
	switch c.Source {
	case inspect.SourceAuto, inspect.SourceLive, inspect.SourceHistory:
	default:
		return usageErr("invalid --source %q: use auto, live or history", c.Source)
	}
	if !c.Until.IsZero() {
		if c.Source == inspect.SourceLive {
			return usageErr("--until reads history: it does not go with --source live")
		}
		if c.Follow {
			return usageErr("--until and --follow do not go together: following has no end")
		}
	}
	if c.LastWords && (c.Follow || c.Previous) {
		return usageErr("--last-words reads instances that ended: it does not go with --follow or --previous")
	}
	if c.Source == inspect.SourceHistory && c.Previous {
		return usageErr("--previous reads a live container: it does not go with --source history")
	}
	return nil
}

func parseTimeOrAgo(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("invalid time %q", s)
	}
	return time.Now().Add(-d), nil
}

// Run builds the clients and the OpenSearch settings, gathers the deployment and hands it to
// the log engine.
func (o *LogsOptions) Run(ctx context.Context) error {
	if o.FromBundle != "" {
		return o.runFromBundle(ctx)
	}
	var gc logsGC
	gc.gathering()
	settings, err := o.openSearchSettings(o.flags)
	if err != nil {
		return err
	}
	// The streams go over the connection of the deployment's lists (HTTP/2), each with a
	// bounded receive window: one round trip each, and memory that does not grow with a fast
	// server (cluster.LogStreamWindow).
	c, ns, err := o.clientsAndNamespace(ctx, &settings, cluster.LogStreamWindow)
	if err != nil {
		return err
	}
	c.SkipForbidden = true // logs needs only the pods
	c.FromCache = true     // and no consistent read of them
	h := o.historyOf(ctx, c, ns, settings)
	if o.config.Source == inspect.SourceHistory {
		h.prepare(ctx)
	}
	early := o.prefetch(ctx, c, ns)
	defer early.close()
	var snap *state.Snapshot
	if o.config.Source == inspect.SourceLive {
		snap, err = c.Gather(ctx, ns, o.config.Deployment)
	} else {
		// A stopped deployment left nothing in the cluster: its logs are in history.
		snap, _, err = inspect.GatherOrGone(ctx, inspect.Sources{Cluster: c, History: h.Open}, ns, o.config.Deployment)
	}
	if err != nil {
		return err
	}
	gc.streaming()
	cfg := o.config
	cfg.Namespace = ns
	src := inspect.LogSources{Kube: c.Kube, Bulk: c.BulkLogs, History: h.Open, HistoryIndex: h.Index, HistoryHint: historyHint()}
	if !cfg.LastWords {
		early.wire(&src)
		return inspect.Logs(ctx, src, snap, cfg)
	}
	return lastWords(ctx, src, snap, cfg)
}

// earlyStreams are the streams a logs run asks for while it reads the deployment: the ones
// the same command read last time, remembered in kubectl's cache directory (--cache-dir).
type earlyStreams struct {
	cache    logs.StreamCache
	key      string
	loaded   []logs.Target
	prefetch *logs.Prefetch
}

// prefetch starts asking for the streams this command read last time; a zero earlyStreams
// when it reads no live log first (--source history, --last-words) or no cache directory is
// set.
func (o *LogsOptions) prefetch(ctx context.Context, c *cluster.Clients, ns string) *earlyStreams {
	cfg := o.config
	dir := ""
	if o.ConfigFlags.CacheDir != nil && *o.ConfigFlags.CacheDir != "" {
		dir = filepath.Join(*o.ConfigFlags.CacheDir, "hopsdeploy", "streams")
	}
	if dir == "" || cfg.Source == inspect.SourceHistory || cfg.LastWords {
		return &earlyStreams{}
	}
	e := &earlyStreams{cache: logs.StreamCache{Dir: dir},
		key: logs.StreamCacheKey(c.Host, ns, cfg.Deployment, cfg.Component, cfg.Pod, strings.Join(cfg.Containers, ","))}
	e.loaded = e.cache.Load(e.key, ns)
	if len(e.loaded) > 0 {
		settings := logs.StreamSettings{Options: cfg.PodLogOptions(), Follow: cfg.Follow, Stamps: cfg.Timestamps || cfg.Format == "json"}
		e.prefetch = logs.StartPrefetch(ctx, logs.KubeStreams(c.Kube), c.BulkLogs, e.loaded, settings, cfg.MaxRequests)
	}
	return e
}

// wire makes the run read through the prefetched streams, and remember what it reads.
func (e *earlyStreams) wire(src *inspect.LogSources) {
	if e.key == "" {
		return
	}
	if e.prefetch != nil {
		src.Open = e.prefetch.Opener()
	}
	src.Reading = func(targets []logs.Target) {
		if e.prefetch != nil {
			e.prefetch.Keep(targets)
		}
		// A cache that cannot be written costs the next run a round trip, nothing more.
		_ = e.cache.Store(e.key, targets, e.loaded)
	}
}

// close closes the prefetched streams that the run did not read.
func (e *earlyStreams) close() {
	if e.prefetch != nil {
		e.prefetch.Close()
	}
}

// streamsMemoryLimit is the logs command's soft memory limit (logsGC).
const streamsMemoryLimit = 48 << 20

// logsGC sets the garbage collector for reading log streams, unless GOMEMLIMIT or GOGC say
// otherwise: a soft memory limit, under which the GC works harder before the heap grows and
// never fails an allocation, and a smaller GC target, since reading logs makes short-lived
// garbage only. Reading many streams at once then stays under kubectl's footprint at little
// cost in CPU (docs/benchmarks.md). It is the logs command's alone: with a larger live heap
// the same limit makes the GC run without end (list -A took four times the CPU under it).
type logsGC struct{ off bool }

// gathering turns the collector off, under the streams' memory limit, while the command
// starts and reads the deployment: the few MiB of garbage that makes is not worth a
// collection in the way of the first line (docs/benchmarks.md, "The first line and the
// garbage collector"). The limit bounds the heap all the same.
func (g *logsGC) gathering() {
	if os.Getenv("GOMEMLIMIT") == "" && os.Getenv("GOGC") == "" {
		debug.SetMemoryLimit(streamsMemoryLimit)
		debug.SetGCPercent(-1)
		g.off = true
	}
}

// streaming sets the collector for the streams. After gathering, the first collection runs
// beside the log requests, while their answers are a round trip away: lowering the target
// at once would start it in the requests' way, each allocation paying for some of its work.
func (g *logsGC) streaming() {
	if g.off {
		go func() {
			runtime.GC()
			debug.SetGCPercent(50)
		}()
		return
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(streamsMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

// runFromBundle reads a bundle's container logs through the log engine, as live.
func (o *LogsOptions) runFromBundle(ctx context.Context) error {
	b, err := o.openBundle(o.FromBundle, o.config.Deployment)
	if err != nil {
		return err
	}
	o.bundleNotice(b)
	cfg := o.config
	cfg.Namespace, cfg.Deployment, cfg.Source = b.Objects.Namespace, b.Objects.Name, inspect.SourceLive
	src := inspect.LogSources{Open: b.Source().OpenLog}
	snap := b.Objects.Snapshot()
	if !cfg.LastWords {
		return inspect.Logs(ctx, src, snap, cfg)
	}
	return lastWords(ctx, src, snap, cfg)
}

// lastWords prints, for --last-words, every container instance that died and its final lines.
func lastWords(ctx context.Context, src inspect.LogSources, snap *state.Snapshot, cfg inspect.LogsConfig) error {
	deaths, err := inspect.LastWords(ctx, src, snap, cfg)
	if err != nil || len(deaths) == 0 {
		return err
	}
	if cfg.Format == "json" {
		return printers.LastWordsJSON(cfg.Out, deaths)
	}
	return printers.LastWords(cfg.Out, deaths, cfg.Sanitize)
}
