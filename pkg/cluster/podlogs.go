package cluster

import (
	"context"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// LogOpener opens the log stream of one pod's container: the seam between what reads logs
// and the API server (kubectl's ConsumeRequestFn and stern's ConsumeRequest play the same
// part), so that tests can feed, cut and count streams without a cluster.
type LogOpener func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error)

// KubeLogs opens streams through the API server's pods/log.
func KubeLogs(kube kubernetes.Interface) LogOpener {
	return func(ctx context.Context, namespace, pod string, opts *corev1.PodLogOptions) (io.ReadCloser, error) {
		return kube.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
	}
}

// TailLimitBytes bounds what TailLines reads.
const TailLimitBytes = 64 * 1024

// TailLines reads the last n lines of one container instance (at most 64 KiB of them), each
// with its timestamp in front when stamped: the one tail of a log that status, why, timeline,
// bundle and --last-words quote. The limit is asked of the kubelet and held here too: a
// kubelet or proxy that sends more is cut off there, not read whole.
func TailLines(ctx context.Context, open LogOpener, ns, pod, container string, previous bool, n int64, stamped bool) ([]string, error) {
	limit := int64(TailLimitBytes)
	rc, err := open(ctx, ns, pod, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &n, LimitBytes: &limit, Timestamps: stamped})
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	if err != nil {
		return nil, err
	}
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil, nil
	}
	return strings.Split(s, "\n"), nil
}
