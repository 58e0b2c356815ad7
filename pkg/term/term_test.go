package term

import "testing"

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain line":            "plain line",
		"tab\tkept":             "tab\tkept",
		"\x1b[31mred\x1b[0m":    `\x1b[31mred\x1b[0m`,
		"title\x1b]0;pwned\x07": `title\x1b]0;pwned\x07`,
		"cr\rover":              `cr\x0dover`,
		"c1 \u009b2J":           `c1 \u009b2J`,
		"bad utf8 \xff\xfe ok":  "bad utf8 \xff\xfe ok",
		"unicode é ✓":           "unicode é ✓",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}
