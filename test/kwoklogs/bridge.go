// Package kwoklogs lets KWOK's kubelet serve the sandbox's container logs. The sandbox's log
// contract stays what it is (<root>/<namespace>/<pod>/<container>.log and
// <container>.previous.log, lines "<RFC3339Nano> <message>", appended lines stream to
// followers), and other tools keep writing it. KWOK reads CRI log files and learns which
// file is whose from a Logs object per pod. The Bridge does both halves:
//
//   - it mirrors every contract file into a CRI file under <root>/.cri/ (the same path),
//     each line "<RFC3339Nano> stdout F <message>", appending as the contract file grows;
//   - it creates, for every pod that appears, a kwok.x-k8s.io/v1alpha1 Logs object that
//     names those CRI files for each of its containers.
//
// It is a format adapter at the boundary, not a kubelet: KWOK serves pods/log, tail, since,
// timestamps, previous, limit-bytes and follow.
package kwoklogs

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// LogsResource is KWOK's per-pod logs configuration.
var LogsResource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// Bridge mirrors the contract files under Root and configures KWOK for every pod.
type Bridge struct {
	Root string
	Kube kubernetes.Interface
	Dyn  dynamic.Interface
	// Every is how often files are looked at (default 50 ms): the added delay of a followed line.
	Every time.Duration

	mu      sync.Mutex
	offsets map[string]int64 // contract file -> bytes mirrored
}

// CRIPath is the CRI twin of a contract file.
func (b *Bridge) CRIPath(ns, pod, file string) string {
	return filepath.Join(b.Root, ".cri", ns, pod, file)
}

// Run mirrors and configures until ctx ends.
func (b *Bridge) Run(ctx context.Context) error {
	if b.Every == 0 {
		b.Every = 50 * time.Millisecond
	}
	b.offsets = map[string]int64{}
	go b.configure(ctx)
	t := time.NewTicker(b.Every)
	defer t.Stop()
	for {
		b.mirrorAll()
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// mirrorAll brings every CRI twin up to its contract file.
func (b *Bridge) mirrorAll() {
	_ = filepath.WalkDir(b.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && d.Name() == ".cri" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".log") {
			return nil
		}
		rel, err := filepath.Rel(b.Root, path)
		if err != nil || strings.Count(rel, string(filepath.Separator)) != 2 {
			return nil
		}
		b.mirror(path, filepath.Join(b.Root, ".cri", rel))
		return nil
	})
}

// mirror appends the complete lines written since the last look; a file that shrank
// (rewritten) is mirrored again from its start.
func (b *Bridge) mirror(src, dst string) {
	b.mu.Lock()
	off := b.offsets[src]
	b.mu.Unlock()
	f, err := os.Open(src)
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == off {
		return
	}
	flag := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if fi.Size() < off {
		off, flag = 0, os.O_CREATE|os.O_WRONLY|os.O_TRUNC
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return
	}
	out, err := os.OpenFile(dst, flag, 0o644)
	if err != nil {
		return
	}
	defer out.Close()
	w := bufio.NewWriter(out)
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil { // an incomplete last line waits for its end
			break
		}
		off += int64(len(line))
		ts, msg, ok := bytes.Cut(bytes.TrimRight(line, "\n"), []byte(" "))
		if !ok {
			ts, msg = []byte(time.Now().UTC().Format(time.RFC3339Nano)), ts
		}
		w.Write(ts)
		w.WriteString(" stdout F ")
		w.Write(msg)
		w.WriteByte('\n')
	}
	if w.Flush() == nil {
		b.mu.Lock()
		b.offsets[src] = off
		b.mu.Unlock()
	}
}

// configure creates a Logs object for every pod, now and as pods come.
func (b *Bridge) configure(ctx context.Context) {
	for ctx.Err() == nil {
		list, err := b.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		for i := range list.Items {
			b.ensure(ctx, &list.Items[i])
		}
		w, err := b.Kube.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
		if err != nil {
			time.Sleep(time.Second) // and list again
			continue
		}
		for ev := range w.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok && ev.Type == watch.Added {
				b.ensure(ctx, p)
			}
		}
		w.Stop()
	}
}

// ensure makes the pod's Logs object and empty CRI files for its containers (KWOK refuses a
// file that does not exist; a container that wrote nothing has an empty log).
func (b *Bridge) ensure(ctx context.Context, p *corev1.Pod) {
	var logs []any
	var names []string
	for _, c := range p.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range p.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range names {
		cur, prev := b.CRIPath(p.Namespace, p.Name, c+".log"), b.CRIPath(p.Namespace, p.Name, c+".previous.log")
		for _, f := range []string{cur, prev} {
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err == nil {
				if fh, err := os.OpenFile(f, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
					fh.Close()
				}
			}
		}
		logs = append(logs, map[string]any{"containers": []any{c}, "logsFile": cur, "previousLogsFile": prev, "follow": true})
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs",
		"metadata": map[string]any{"name": p.Name, "namespace": p.Namespace},
		"spec":     map[string]any{"logs": logs},
	}}
	if _, err := b.Dyn.Resource(LogsResource).Namespace(p.Namespace).Create(ctx, u, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return
	}
}
