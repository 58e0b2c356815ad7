package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// StreamCache remembers, between runs, which streams a logs command read: a file per
// command (the API server, namespace, deployment and selection), in the kubectl cache
// directory, holding pod and container names only. What it says is a guess to ask early
// (Prefetch), never what is read: a stale or tampered file costs requests, not output.
type StreamCache struct {
	// Dir holds the files; empty remembers nothing.
	Dir string
}

// streamCacheMax bounds a file read back: what it may make us hold and ask for.
const (
	streamCacheMaxBytes   = 64 << 10
	streamCacheMaxStreams = 256
)

// cachedStream is one remembered stream.
type cachedStream struct {
	Pod       string `json:"pod"`
	Container string `json:"container"`
}

// StreamCacheKey names the file of one command: every part that decides what it reads.
func StreamCacheKey(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:16])
}

func (c StreamCache) path(key string) string { return filepath.Join(c.Dir, key+".json") }

// Load returns the streams remembered under key, in namespace; none when there is no file,
// or it is too big, not JSON, or names what no pod or container can be named.
func (c StreamCache) Load(key, namespace string) []Target {
	if c.Dir == "" {
		return nil
	}
	f, err := os.Open(c.path(key))
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, streamCacheMaxBytes+1))
	if err != nil || len(b) > streamCacheMaxBytes {
		return nil
	}
	var streams []cachedStream
	if json.Unmarshal(b, &streams) != nil || len(streams) > streamCacheMaxStreams {
		return nil
	}
	targets := make([]Target, 0, len(streams))
	for _, s := range streams {
		if len(validation.IsDNS1123Subdomain(s.Pod)) > 0 || len(validation.IsDNS1123Label(s.Container)) > 0 {
			return nil
		}
		targets = append(targets, Target{Namespace: namespace, Pod: s.Pod, Container: s.Container})
	}
	return targets
}

// Store remembers targets under key, unless they are what was loaded (was). The file is
// written whole (a new file renamed over the old), readable by its owner only.
func (c StreamCache) Store(key string, targets, was []Target) error {
	if c.Dir == "" || sameStreams(targets, was) {
		return nil
	}
	streams := make([]cachedStream, 0, min(len(targets), streamCacheMaxStreams))
	for _, t := range targets[:min(len(targets), streamCacheMaxStreams)] {
		streams = append(streams, cachedStream{Pod: t.Pod, Container: t.Container})
	}
	b, err := json.Marshal(streams)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.Dir, key+".*.tmp")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), c.path(key))
	}
	if werr != nil {
		return errors.Join(werr, os.Remove(f.Name()))
	}
	return nil
}

// sameStreams tells whether a and b name the same pods and containers, in any order.
func sameStreams(a, b []Target) bool {
	keys := func(ts []Target) []string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = t.Pod + "/" + t.Container
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(keys(a), keys(b))
}
