package diagnose

import "testing"

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"fraud":                  "fraud",
		"my-project":             "my-project",
		"deployment/x-predictor": "deployment/x-predictor",
		"":                       "''",
		"a b":                    "'a b'",
		"$(rm -rf ~)":            "'$(rm -rf ~)'",
		"it's":                   `'it'\''s'`,
		"x;y":                    "'x;y'",
	} {
		if got := q(in); got != want {
			t.Errorf("q(%q) = %s, want %s", in, got, want)
		}
	}
}
