package diagnose

import (
	"regexp"
	"sync"
)

// lazyRegexp compiles expr on its first use: a command that diagnoses nothing (version,
// logs) does not pay for this package's expressions at every start (docs/benchmarks.md,
// "Start-up").
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
