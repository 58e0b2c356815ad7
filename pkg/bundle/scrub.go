package bundle

import (
	"regexp"
	"strings"
)

// The scrubber removes credentials from free text (log lines, history lines, messages,
// arguments, URIs): what a bundle must not carry even where the plugin cannot know the field.
var scrubbers = []struct {
	re   *regexp.Regexp
	repl string
}{
	// URI userinfo: s3://KEY:SECRET@bucket, https://user:pass@host.
	{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@'"]+@`), "${1}" + Redacted + "@"},
	// Authorization headers, whatever their scheme.
	{regexp.MustCompile(`(?i)(authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|apikey|digest)\s+)?[^\s"',;]+`), "${1}" + Redacted},
	{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}" + Redacted},
	// key=value and "key": "value" where the key names a secret.
	{regexp.MustCompile(`(?i)((?:[a-z0-9_\-]*(?:token|password|passwd|pwd|secret|api[_\-]?key|access[_\-]?key|private[_\-]?key|credentials?))["']?\s*[=:]\s*["']?)[^\s"'&,;}]+`), "${1}" + Redacted},
	// AWS access key IDs, and the 40-character secrets that follow an aws key name.
	{regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b`), Redacted},
}

// Scrub returns s with the credentials it recognises replaced by REDACTED.
func Scrub(s string) string {
	if s == "" {
		return s
	}
	for _, sc := range scrubbers {
		s = sc.re.ReplaceAllString(s, sc.repl)
	}
	return s
}

// ScrubLines scrubs every line.
func ScrubLines(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = Scrub(l)
	}
	return out
}

// keptAnnotations are the annotations a bundle keeps (values scrubbed): what explains a
// deployment. Every other annotation's value is redacted, since tools copy whole specs into
// annotations (kubectl's last-applied-configuration, kapp's original, Helm's...).
var keptAnnotations = []string{
	"serving.hops.works/", "serving.kserve.io/", "autoscaling.knative.dev/", "serving.knative.dev/",
	"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/restartedAt", "prometheus.io/",
}

func keptAnnotation(key string) bool {
	for _, k := range keptAnnotations {
		if key == k || strings.HasSuffix(k, "/") && strings.HasPrefix(key, k) {
			return true
		}
	}
	return false
}
