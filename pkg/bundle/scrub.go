package bundle

import (
	"regexp"
	"strings"
	"sync"
)

// The scrubber removes credentials from free text (log lines, history lines, messages,
// arguments, URIs): what a bundle must not carry even where the plugin cannot know the field.
// Its expressions are compiled on the first use, not at every start of the binary.
var scrubbers = sync.OnceValue(func() []scrubber {
	return []scrubber{
		// URI userinfo: s3://KEY:SECRET@bucket, https://user:pass@host, a password holding "/"
		// or "@" (up to the last "@" of the URI).
		{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@'"]*:[^\s'"]*@`), "${1}" + Redacted + "@"},
		{regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/\s@'"]+@`), "${1}" + Redacted + "@"},
		// Authorization headers, whatever their scheme.
		{regexp.MustCompile(`(?i)(authorization["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|apikey|digest)\s+)?[^\s"',;]+`), "${1}" + Redacted},
		{regexp.MustCompile(`(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*`), "${1}" + Redacted},
		// key=value and "key": "value" where the key names a secret (Azure's AccountKey and
		// SharedAccessSignature, signed URLs' sig and X-Amz-Signature among them).
		{regexp.MustCompile(`(?i)((?:[a-z0-9_\-]*(?:token|password|passwd|pwd|secret|api[_\-]?key|access[_\-]?key|account[_\-]?key|private[_\-]?key|credentials?|signature|sharedaccesssignature)|\bsig|x-amz-credential)["']?\s*[=:]\s*["']?)[^\s"'&,;}]+`), "${1}" + Redacted},
		// AWS access key IDs.
		{regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b`), Redacted},
		// Hugging Face, GitHub and Slack tokens, by their prefixes.
		{regexp.MustCompile(`\b(?:hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9\-]{10,})`), Redacted},
		// A bare JWT: header.payload.signature, the first two base64url JSON.
		{regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{4,}\.eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*`), Redacted},
		// A PEM private key within one text (a value with its newlines).
		{regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`), Redacted},
	}
})

// scrubber replaces what re matches with repl.
type scrubber struct {
	re   *regexp.Regexp
	repl string
}

// secretKeys are words that make a field's or a flag's name a secret's.
var secretKeys = lazyRegexp(`(?i)(password|passwd|secret|token|api[_\-]?key|access[_\-]?key|account[_\-]?key|private[_\-]?key|credential|signature|sas[_\-]?token|connection[_\-]?string)`)

// notSecretKeys end a name that only points at a secret (secretName, tokenPath, a
// passwordFile's path, a secretKeyRef's object).
var notSecretKeys = lazyRegexp(`(?i)(name|ref|path|file|mountpath|seconds|audience|keyref)$`)

// SecretKey tells whether a field named k holds a secret by its name (a storage parameter
// secret_access_key, a CSI volume's storageAccountKey), whatever its value looks like.
func SecretKey(k string) bool {
	return secretKeys().MatchString(k) && !notSecretKeys().MatchString(k)
}

// SecretFlag tells whether an argument is a flag naming a secret whose value is the next
// argument ("--api-key", "-password"); "--token=x" carries its value and is scrubbed as is.
func SecretFlag(arg string) bool {
	name, ok := strings.CutPrefix(arg, "-")
	if !ok || strings.ContainsAny(name, "= \t") {
		return false
	}
	return SecretKey(strings.TrimLeft(name, "-"))
}

// Scrub returns s with the credentials it recognises replaced by REDACTED.
func Scrub(s string) string {
	if s == "" {
		return s
	}
	for _, sc := range scrubbers() {
		s = sc.re.ReplaceAllString(s, sc.repl)
	}
	return s
}

// pemBegin and pemEnd bound a private key's lines in a log.
var (
	pemBegin = lazyRegexp(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----`)
	pemEnd   = lazyRegexp(`-----END [A-Z0-9 ]*PRIVATE KEY-----`)
)

// ScrubLines scrubs every line, and every line of a PEM private key from its BEGIN line to
// its END line (a key printed over several lines: each body line alone looks like base64).
func ScrubLines(lines []string) []string {
	out := make([]string, len(lines))
	inKey := false
	for i, l := range lines {
		switch {
		case inKey:
			out[i] = Redacted
			inKey = !pemEnd().MatchString(l)
		case pemBegin().MatchString(l) && !pemEnd().MatchString(l):
			out[i] = Scrub(l)
			inKey = true
		default:
			out[i] = Scrub(l)
		}
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

// lazyRegexp compiles expr on its first use: a command that writes no bundle does not pay
// for these expressions at every start (docs/benchmarks.md, "Start-up").
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
