package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/bundle"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/state"
	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
)

const bundleLogLines = 200

func newBundleCommand(g *Globals) *cobra.Command {
	var file string
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("bundle needs a deployment NAME: kubectl hopsdeploy bundle NAME")
			}
			ctx := cmd.Context()
			c, ns, snap, err := g.gatherAllEvents(ctx, args[0])
			if err != nil {
				return err
			}
			b := &bundle.Bundle{Objects: bundle.FromSnapshot(snap), Logs: map[string][]string{}}
			for _, p := range snap.Pods {
				for _, cs := range state.ContainerStatuses(&p) {
					if lines, err := c.TailLog(ctx, ns, p.Name, cs.Name, false, bundleLogLines); err == nil {
						b.Logs[bundle.LogKey(p.Name, cs.Name, false)] = lines
					}
					if cs.LastTerminationState.Terminated != nil {
						if lines, err := c.TailLog(ctx, ns, p.Name, cs.Name, true, bundleLogLines); err == nil {
							b.Logs[bundle.LogKey(p.Name, cs.Name, true)] = lines
						}
					}
				}
			}
			b.History = bundleHistory(ctx, snap)
			r := reportFromBundle(b)
			b.Report, _ = json.MarshalIndent(r, "", "    ")
			if file == "" {
				file = fmt.Sprintf("%s-%s.tar.gz", args[0], time.Now().UTC().Format("20060102T150405Z"))
			}
			f, err := os.Create(file)
			if err != nil {
				return fmt.Errorf("create %s: %w", file, err)
			}
			if err := bundle.Write(f, b); err != nil {
				f.Close()
				return fmt.Errorf("write %s: %w", file, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(g.Streams.Out, "wrote %s: %d pods, %d events, %d container logs, %d history lines; read it with: kubectl hopsdeploy status --from-bundle %s\n",
				file, len(b.Objects.Pods), len(b.Objects.Events), len(b.Logs), len(b.History), file)
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "where to write the bundle (default NAME-<time>.tar.gz)")
	return cmd
}

// bundleHistory reads the OpenSearch window around the last failure (10 minutes before it,
// one after), or the last lines when nothing failed; nothing when OpenSearch is not set up.
func bundleHistory(ctx context.Context, s *state.Snapshot) []string {
	r := envHistoryReader()
	if r == nil {
		return nil
	}
	var last time.Time
	for _, p := range s.Pods {
		for _, cs := range state.ContainerStatuses(&p) {
			for _, t := range []*corev1.ContainerStateTerminated{cs.State.Terminated, cs.LastTerminationState.Terminated} {
				if t != nil && t.ExitCode != 0 && t.FinishedAt.After(last) {
					last = t.FinishedAt.Time
				}
			}
		}
	}
	q := history.Query{Index: history.IndexPattern(s.Namespace), Deployment: s.Name}
	if !last.IsZero() {
		q.Since, q.Until = last.Add(-10*time.Minute), last.Add(time.Minute)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	lines, err := r.Tail(ctx, q, 2000)
	if err != nil {
		return []string{"(history not read: " + oneLine(err) + ")"}
	}
	var out []string
	for _, l := range lines {
		out = append(out, fmt.Sprintf("%s %s %s %s %s", l.RawTS, l.Host, l.Component, l.Container, l.Message))
	}
	return out
}

// reportFromBundle derives the status and diagnosis from a bundle as status does live: the
// same warning events, and the quoted log lines from the bundle's logs.
func reportFromBundle(b *bundle.Bundle) *diagnose.Report {
	snap := b.Objects.Snapshot()
	var warnings []corev1.Event
	for _, e := range snap.Events {
		if e.Type == corev1.EventTypeWarning {
			warnings = append(warnings, e)
		}
	}
	snap.Events = warnings
	r := diagnose.Build(snap)
	r.Diagnosis = diagnose.Diagnose(snap, r)
	if l := r.Diagnosis.Logs; l != nil {
		lines := b.Logs[bundle.LogKey(l.Pod, l.Container, l.Previous)]
		if len(lines) > 10 {
			lines = lines[len(lines)-10:]
		}
		r.Diagnosis.AttachLogs(lines)
	}
	return r
}
