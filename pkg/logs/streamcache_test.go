package logs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStreamCacheRemembers(t *testing.T) {
	c := StreamCache{Dir: filepath.Join(t.TempDir(), "streams")}
	key := StreamCacheKey("https://api:6443", "ns", "fraud", "predictor", "", "")
	if got := c.Load(key, "ns"); got != nil {
		t.Fatalf("empty cache: %v", got)
	}
	want := prefetchTargets("fraud-predictor-1", "fraud-predictor-2")
	if err := c.Store(key, want, nil); err != nil {
		t.Fatal(err)
	}
	got := c.Load(key, "ns")
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("loaded %v, want %v", got, want)
	}
	fi, err := os.Stat(c.path(key))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file: %v, mode %v, want 0600", err, fi.Mode())
	}
	if other := StreamCacheKey("https://api:6443", "ns", "fraud", "transformer", "", ""); other == key || c.Load(other, "ns") != nil {
		t.Errorf("another selection shares the file")
	}
	// The same streams again, in another order: the file is left as it is.
	marker := []byte("[ {\"pod\": \"fraud-predictor-2\", \"container\": \"kserve-container\"},\n  {\"pod\": \"fraud-predictor-1\", \"container\": \"kserve-container\"} ]\n")
	if err := os.WriteFile(c.path(key), marker, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(key, []Target{want[1], want[0]}, got); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(c.path(key)); string(b) != string(marker) {
		t.Errorf("storing what was loaded wrote the file again: %s", b)
	}
	// Other streams: written.
	if err := c.Store(key, want[:1], got); err != nil || len(c.Load(key, "ns")) != 1 {
		t.Errorf("other streams not stored: %v, %v", err, c.Load(key, "ns"))
	}
}

func TestStreamCacheRefusesWhatNoPodIsNamed(t *testing.T) {
	c := StreamCache{Dir: t.TempDir()}
	key := StreamCacheKey("x")
	for name, body := range map[string]string{
		"not JSON":         "{",
		"a path":           `[{"pod":"../etc","container":"c"}]`,
		"control sequence": `[{"pod":"a\u001b[2J","container":"c"}]`,
		"bad container":    `[{"pod":"a","container":"C/1"}]`,
		"too many":         "[" + strings.Repeat(`{"pod":"a","container":"c"},`, streamCacheMaxStreams) + `{"pod":"a","container":"c"}]`,
		"too big":          `[{"pod":"a","container":"c"}]` + strings.Repeat(" ", streamCacheMaxBytes),
	} {
		if err := os.WriteFile(c.path(key), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := c.Load(key, "ns"); got != nil {
			t.Errorf("%s: loaded %v", name, got)
		}
	}
	if err := os.WriteFile(c.path(key), []byte(`[{"pod":"a","container":"c"}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := c.Load(key, "ns"); len(got) != 1 {
		t.Errorf("a good file: %v", got)
	}
	if got := (StreamCache{}).Load(key, "ns"); got != nil || (StreamCache{}).Store(key, got, nil) != nil {
		t.Errorf("no directory remembers nothing")
	}
}
