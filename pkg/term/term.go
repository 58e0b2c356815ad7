// Package term decides whether output is a terminal that gets colour, and neutralises the
// control sequences that untrusted text (log lines, event messages) may carry.
package term

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-isatty"
)

// IsTerminal tells whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// UseColor applies --color auto|always|never: auto means a terminal and no NO_COLOR.
func UseColor(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "", "auto":
		_, noColor := os.LookupEnv("NO_COLOR")
		return !noColor && os.Getenv("TERM") != "dumb" && IsTerminal(w), nil
	}
	return false, fmt.Errorf("invalid --color %q: use auto, always or never", mode)
}

// Sanitize makes untrusted text safe to print on a terminal: ESC and the other C0 controls
// (but tab), DEL, C1 controls whether well encoded or raw 8-bit bytes (a lone 0x9b is CSI to
// some terminals), every other invalid UTF-8 byte, and Unicode format characters (the bidi
// overrides and isolates U+202A-202E and U+2066-2069, zero-width characters, the BOM) and line
// or paragraph separators become visible escapes, so that no cluster, log, OpenSearch or
// bundle text can move the cursor, write the clipboard, retitle the window, reorder or hide
// what is shown. Printable text, tabs and other scripts pass unchanged.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (r < 0x20 && r != '\t') || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, unicode.Is(unicode.Cf, r), unicode.Is(unicode.Zl, r), unicode.Is(unicode.Zp, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// OneLine is an error's text on one line, for messages that must stay one line.
func OneLine(err error) string {
	return strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
}

// Clip is text quoted from a server in a one-line message: whitespace runs made one space,
// cut to at most n bytes (at a character's start) with "..." after.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// RedactURL is a URL without its user:password, for messages.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<invalid URL>"
	}
	u.User = nil
	return u.String()
}

// OpenToOthers warns when a file that holds a secret can be read or written by others.
func OpenToOthers(path string) string {
	if path == "" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %s is open to other users (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
}
