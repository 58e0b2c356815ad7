// Package term decides whether output is a terminal that gets colour, and neutralises the
// control sequences that untrusted text (log lines, event messages) may carry.
package term

import (
	"fmt"
	"io"
	"os"
	"strings"
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

// Sanitize makes untrusted text safe to print on a terminal: ESC and the other C0 and C1
// control characters (but tab) become visible \xNN escapes, so that a log line cannot move
// the cursor, retitle the window or hide text. Invalid UTF-8 passes through unchanged.
func Sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f || c == 0xc2 {
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
			b.WriteByte(s[i])
		case (r < 0x20 && r != '\t') || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
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
