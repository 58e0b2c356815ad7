package printers

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/printers"
)

// PrintMachine prints u with cli-runtime's printer p for -o format, made safe, since every
// string in it may come from the cluster, a log or a bundle:
//   - json: every control, C1, format (bidi) and separator character is a \u escape: the
//     same JSON value, with nothing a terminal acts on;
//   - yaml: every string sanitised (term.Sanitize), as go-yaml refuses DEL and C1 controls:
//     valid YAML always, the escapes visible;
//   - other formats (jsonpath, templates, name) print strings as they are: on a terminal
//     (terminal true), line by line through term.Sanitize; piped, the bytes are kept, as
//     kubectl keeps them.
func PrintMachine(w io.Writer, p printers.ResourcePrinter, u *unstructured.Unstructured, format string, terminal bool) error {
	yaml := format == "yaml"
	if yaml {
		u = &unstructured.Unstructured{Object: term.Sanitized(u.Object)} // a copy: u stays as it is
	}
	var buf bytes.Buffer
	if err := p.PrintObj(u, &buf); err != nil {
		return err
	}
	out := buf.Bytes()
	switch {
	case format == "json":
		out = EscapeJSON(out)
	case !yaml && terminal:
		out = sanitizeLines(out)
	}
	_, err := w.Write(out)
	return err
}

// EscapeJSON rewrites JSON text so that every character a terminal may act on (C0 and C1
// controls, DEL, Unicode format and separator characters) is a \u escape; outside strings
// such characters do not occur in valid JSON, so the value is unchanged.
func EscapeJSON(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == '\n' || r == '\t' || r == '\r':
			out.WriteByte(byte(r)) // JSON's own whitespace: never raw inside a string
		case r == utf8.RuneError && size == 1:
			out.WriteString(`\ufffd`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r):
			fmt.Fprintf(&out, `\u%04x`, r)
		default:
			out.Write(b[i : i+size])
		}
		i += size
	}
	return out.Bytes()
}

// sanitizeLines applies term.Sanitize to each line, keeping the line breaks.
func sanitizeLines(b []byte) []byte {
	lines := strings.SplitAfter(string(b), "\n")
	var out strings.Builder
	for _, l := range lines {
		body, nl := strings.CutSuffix(l, "\n")
		out.WriteString(term.Sanitize(body))
		if nl {
			out.WriteByte('\n')
		}
	}
	return []byte(out.String())
}
