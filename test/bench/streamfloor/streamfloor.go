// Package streamfloor is what the live-logs floors share, in the bench process and as a
// process of their own (logsfloor), so that both read a stream as the other does.
package streamfloor

import (
	"bytes"
	"io"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Clientset is a client of the kubeconfig's API server that reads each stream over a
// connection of its own (HTTP/1.1): no stream shares a connection or a flow-control window
// with another. Over HTTP/2 the same floor came no sooner to its first line: its streams,
// started together, each dialed a connection of their own all the same.
func Clientset(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 500, 1000
	cfg.TLSClientConfig.NextProtos = []string{"http/1.1"}
	return kubernetes.NewForConfig(cfg)
}

// CountLines counts the newlines of a stream read to its end, as a sink that reads
// everything; first, when set, is called when the first bytes come.
func CountLines(r io.Reader, first func()) (int, error) {
	buf := make([]byte, 256<<10)
	n, started := 0, false
	for {
		k, err := r.Read(buf)
		if k > 0 && !started {
			started = true
			if first != nil {
				first()
			}
		}
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
