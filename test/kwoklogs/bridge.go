// Package kwoklogs lets KWOK's kubelet serve the sandbox's container logs. The sandbox's log
// contract stays what it is (<root>/<namespace>/<pod>/<container>.log and
// <container>.previous.log, lines "<RFC3339Nano> <message>", appended lines stream to
// followers), and other tools keep writing it. KWOK reads CRI log files and learns which
// file is whose from a Logs object per pod. The Bridge does both halves:
//
//   - it mirrors every contract file into a CRI file under <root>/.cri/ (the same path),
//     each line "<RFC3339Nano> stdout F <message>", appending as the contract file grows
//     (at once for Writer's lines, within Every for other writers'); a contract file that
//     is replaced or goes away (a restart) gets a new twin, renamed over the old one, as a
//     runtime starts a new log file;
//   - it creates, for every pod that appears, a kwok.x-k8s.io/v1alpha1 Logs object that
//     names those CRI files for each of its containers.
//
// It is a format adapter at the boundary, not a kubelet: KWOK serves pods/log, tail, since,
// timestamps, previous, limit-bytes and follow. One way KWOK's kubelet differs from a real
// one: its followed stream does not end when the container stops (it has no runtime to ask),
// it goes on with the new log file.
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
	// Every is how often files are looked at (default 50 ms): the added delay of a line that
	// a writer other than Writer appends.
	Every time.Duration

	mu     sync.Mutex // one mirror at a time: the poll and Writer's synchronous ones
	mirror map[string]mirrored
}

// mirrored is how far a contract file has been mirrored, and which file it was: a contract
// file replaced by another (a restart moves the current log to the previous one) is
// mirrored again from its start.
type mirrored struct {
	file os.FileInfo
	off  int64
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
		b.MirrorFile(path)
		return nil
	})
	// A contract file that went away (its instance's log moved to .previous.log) leaves an
	// empty twin, as a restarted container's new log starts empty.
	b.mu.Lock()
	var gone []string
	for src := range b.mirror {
		if _, err := os.Stat(src); os.IsNotExist(err) {
			gone = append(gone, src)
		}
	}
	b.mu.Unlock()
	for _, src := range gone {
		b.MirrorFile(src)
	}
}

// MirrorFile brings the CRI twin of one contract file up to it now.
func (b *Bridge) MirrorFile(src string) {
	rel, err := filepath.Rel(b.Root, src)
	if err != nil || strings.HasPrefix(rel, "..") || strings.Count(rel, string(filepath.Separator)) != 2 || !strings.HasSuffix(rel, ".log") {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mirror == nil {
		b.mirror = map[string]mirrored{}
	}
	b.mirrorLocked(src, filepath.Join(b.Root, ".cri", rel))
}

// mirrorLocked appends the complete lines written since the last look. A contract file that
// is new, replaced or shorter is mirrored whole into a new twin that is renamed over the
// old one: KWOK's follower then reopens it, as the kubelet's does when a log file is
// recreated.
func (b *Bridge) mirrorLocked(src, dst string) {
	last, seen := b.mirror[src]
	f, err := os.Open(src)
	if err != nil {
		if os.IsNotExist(err) && seen {
			delete(b.mirror, src)
			if out, err := createTwin(dst); err == nil {
				_ = out.Close()
				_ = os.Rename(out.Name(), dst)
			}
		}
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	fresh := !seen || !os.SameFile(last.file, fi) || fi.Size() < last.off
	if !fresh && fi.Size() == last.off {
		return
	}
	off := last.off
	var out *os.File
	if fresh {
		off = 0
		out, err = createTwin(dst)
	} else {
		out, err = os.OpenFile(dst, os.O_WRONLY|os.O_APPEND, 0o644)
	}
	if err != nil {
		return
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		out.Close()
		return
	}
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
	err = w.Flush()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && fresh {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		if fresh {
			os.Remove(out.Name())
		}
		return
	}
	b.mirror[src] = mirrored{file: fi, off: off}
}

// createTwin creates a new, empty twin beside dst, to be renamed over it.
func createTwin(dst string) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*")
	if err == nil {
		err = f.Chmod(0o644) // as the twins the bridge creates otherwise
	}
	return f, err
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
