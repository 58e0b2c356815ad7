package inspect

import (
	"io"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/logs"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// LogSource is where a logs run reads from.
type LogSource string

const (
	SourceAuto    LogSource = "auto"    // live while pods exist and cover the window, else history
	SourceLive    LogSource = "live"    // the API server only
	SourceHistory LogSource = "history" // OpenSearch only (and live too with Follow)
)

// LogsConfig is one `logs` run, free of cobra: the command fills it once, with effective
// values, the way stern's command builds a stern.Config and kubectl's ToLogOptions a LogOptions.
type LogsConfig struct {
	Namespace  string
	Deployment string
	Component  string   // predictor, transformer or all
	Containers []string // as given, comma lists allowed; empty: kserve-container (KServe) or the only one (DEFAULT)
	Pod        string   // only this instance

	Tail       int64         // lines per container; -1 for all (the command works out the default once)
	Since      time.Duration // --since, relative to now
	SinceTime  time.Time     // --since-time
	Until      time.Time     // history: lines before this time
	Timestamps bool
	Previous   bool
	Follow     bool
	LimitBytes int64
	Grep       string

	Source    LogSource
	LastWords bool

	Format      string // "", raw or json
	Prefix      *bool  // nil: on when more than one stream
	Color       bool
	Sanitize    bool // neutralise control sequences (on a terminal, unless --raw)
	MaxRequests int

	Out, ErrOut io.Writer
	// Now is the clock for the window's start; nil means time.Now.
	Now func() time.Time
}

// LogSources are what a logs run reads from.
type LogSources struct {
	Kube kubernetes.Interface
	// Open opens a live stream; nil means the API server's pods/log through Kube.
	Open logs.StreamOpener
	// Bulk opens the rest of a long read to the end over a connection of its own; nil reads
	// all of it over Open.
	Bulk logs.StreamOpener
	// History opens the OpenSearch reader; nil when none is configured. Opening is deferred
	// because most runs never read history.
	History func() (history.Source, error)
	// HistoryIndex is the index pattern to read (the project's serving indices by default).
	HistoryIndex string
	// HistoryHint says how to configure OpenSearch, for messages when it is not.
	HistoryHint string
	// Reading, when set, is told the live streams the run reads at its start (none when
	// it reads no live log first), before any is read: what a Prefetch keeps and a
	// StreamCache remembers.
	Reading func(targets []logs.Target)
}

// opener is Open, or the API server's pods/log through Kube when none is given.
func (s LogSources) opener() logs.StreamOpener {
	if s.Open != nil {
		return s.Open
	}
	return logs.KubeStreams(s.Kube)
}

func (c *LogsConfig) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// windowStart is where --since or --since-time starts the window; zero when neither is set.
func (c *LogsConfig) windowStart() time.Time {
	switch {
	case c.Since > 0:
		return c.now().Add(-c.Since)
	case !c.SinceTime.IsZero():
		return c.SinceTime
	}
	return time.Time{}
}

// PodLogOptions are the kubelet's options for the user's window.
func (c *LogsConfig) PodLogOptions() corev1.PodLogOptions {
	opts := corev1.PodLogOptions{Previous: c.Previous}
	if c.Tail >= 0 {
		tail := c.Tail
		opts.TailLines = &tail
	}
	if c.Since > 0 {
		s := int64((c.Since + time.Second - 1) / time.Second)
		opts.SinceSeconds = &s
	}
	if !c.SinceTime.IsZero() {
		t := metav1.NewTime(c.SinceTime)
		opts.SinceTime = &t
	}
	if c.LimitBytes > 0 {
		lb := c.LimitBytes
		opts.LimitBytes = &lb
	}
	return opts
}
