package inspect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/cluster"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/diagnose"
)

// Watch re-reads a deployment whenever its InferenceService, Deployment or pods change (and
// every resync period) and calls onChange with each report whose status, condition or
// instances differ from the last one seen (nil with gone=true once nothing is left in the
// cluster); onChange returns true to stop. A failed read goes to onError and is retried on
// the next change. Watch returns ctx's error when ctx ends, or onChange's error.
func Watch(ctx context.Context, src Sources, ns, name string, last *diagnose.Report, resync time.Duration,
	onChange func(r *diagnose.Report, gone bool) (bool, error), onError func(error)) error {
	w, ok := src.Cluster.(interface {
		WatchChanges(ctx context.Context, ns, name string) <-chan struct{}
	})
	if !ok {
		return errors.New("only a cluster can be watched")
	}
	changes := w.WatchChanges(ctx, ns, name)
	tick := time.NewTicker(resync)
	defer tick.Stop()
	prev := changeKey(last)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changes:
		case <-tick.C:
		}
		r, err := Status(ctx, src, ns, name, 0)
		var nf *cluster.NotFoundError
		gone := errors.As(err, &nf) && !nf.NamespaceGone
		if err != nil && !gone {
			if ctx.Err() == nil {
				onError(err)
			}
			continue
		}
		if k := changeKey(r); k != prev {
			prev = k
			if stop, err := onChange(r, gone); stop || err != nil {
				return err
			}
		}
	}
}

func changeKey(r *diagnose.Report) string {
	if r == nil {
		return "gone"
	}
	return fmt.Sprintf("%s|%s|%v|%s|%d", r.Status, r.Condition.Type, r.Condition.Status, r.Condition.Reason, r.AvailableInstances)
}
