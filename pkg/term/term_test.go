package term

import (
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain line":                      "plain line",
		"tab\tkept":                       "tab\tkept",
		"\x1b[31mred\x1b[0m":              `\x1b[31mred\x1b[0m`,
		"title\x1b]0;pwned\x07":           `title\x1b]0;pwned\x07`,
		"cr\rover":                        `cr\x0dover`,
		"c1 \u009b2J":                     `c1 \u009b2J`,
		"bad utf8 \xff\xfe ok":            `bad utf8 \xff\xfe ok`,
		"raw c1 \x9b2J \x9d52;c;aGk=\x9c": `raw c1 \x9b2J \x9d52;c;aGk=\x9c`,
		"osc52 \x1b]52;c;aGk=\x07":        `osc52 \x1b]52;c;aGk=\x07`,
		"bidi \u202egnp.exe":              `bidi \u202egnp.exe`,
		"isolate \u2066x\u2069":           `isolate \u2066x\u2069`,
		"zero\u200bwidth \ufeffbom":       `zero\u200bwidth \ufeffbom`,
		"line\u2028sep":                   `line\u2028sep`,
		"unicode é ✓ 日本":                  "unicode é ✓ 日本",
	} {
		if got := Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever comes in, what goes out is valid UTF-8 with no control or format character but tab,
// and text that needs no escape is unchanged.
func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "\x9b\x9d", "\u202e", "é\xff", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Sanitize(%q) = %q: not UTF-8", in, out)
		}
		for _, r := range out {
			if (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) {
				t.Fatalf("Sanitize(%q) = %q holds %U", in, out, r)
			}
		}
		if Sanitize(out) != out {
			t.Fatalf("Sanitize is not stable on %q", out)
		}
	})
}

func TestSanitized(t *testing.T) {
	type inner struct {
		Msg   string
		Lines []string
		Any   any
		M     map[string]any
		At    time.Time
	}
	type outer struct {
		Name   string
		In     *inner
		Items  []inner
		Labels map[string]string
		hidden string
	}
	bad := "x\x1b]52;c;aGk=\x07\u202e"
	at := time.Date(2026, 12, 5, 1, 2, 3, 4, time.UTC)
	orig := &outer{Name: bad, In: &inner{Msg: bad, Lines: []string{"ok", bad}, Any: bad, M: map[string]any{"k": bad, bad: 1}, At: at},
		Items: []inner{{Msg: bad}}, Labels: map[string]string{"a": bad}, hidden: bad}
	v := Sanitized(orig)
	want := Sanitize(bad)
	if v.Name != want || v.In.Msg != want || v.In.Lines[1] != want || v.In.Any != want || v.In.M["k"] != want ||
		v.Items[0].Msg != want || v.Labels["a"] != want || v.In.Lines[0] != "ok" || !v.In.At.Equal(at) {
		t.Errorf("not every string sanitised: %+v %+v", v, v.In)
	}
	if _, ok := v.In.M[want]; !ok {
		t.Errorf("a map key was not sanitised: %v", v.In.M)
	}
	if v.hidden != bad {
		t.Error("an unexported field was touched")
	}
	// The caller's value is as it was.
	if orig.Name != bad || orig.In.Msg != bad || orig.In.Lines[1] != bad || orig.Items[0].Msg != bad || orig.Labels["a"] != bad || orig.In.M["k"] != bad {
		t.Errorf("the original was changed: %+v %+v", orig, orig.In)
	}
}

func TestClipAndRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"short":         "short",
		"a\nb  c\td":    "a b c d",
		"0123456789abc": "0123456789...",
		"012345678é":    "012345678...", // é starts at byte 9 and ends past 10
	} {
		if got := Clip(in, 10); got != want {
			t.Errorf("Clip(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RedactURL("https://alice:s3cret@os.example.com:9200/x"); got != "https://os.example.com:9200/x" {
		t.Errorf("RedactURL: %q", got)
	}
	if got := RedactURL("http://[::1"); got != "<invalid URL>" {
		t.Errorf("RedactURL of a broken URL: %q", got)
	}
}
