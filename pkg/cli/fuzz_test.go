package cli

import (
	"testing"
	"time"
)

// --until takes an RFC3339 time or a duration ago: anything else is an error, never a crash.
func FuzzParseTimeOrAgo(f *testing.F) {
	f.Add("2026-11-25T10:00:00Z")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseTimeOrAgo(s)
		if err == nil && got.IsZero() {
			t.Fatalf("%q parsed to the zero time", s)
		}
		if err == nil && got.After(time.Now().Add(24*365*time.Hour*100)) {
			t.Logf("%q is far in the future: %v", s, got)
		}
	})
}

// The config file is user input: it parses or fails with an error, never a crash, and never
// holds a password.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("opensearch:\n  url: https://os:9200\n  user: alice\ncontexts:\n  prod:\n    opensearch: {url: https://prod}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseConfig(b, "fuzz.yaml")
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
