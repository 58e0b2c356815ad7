package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes that scripts can rely on (documented in the README).
const (
	ExitOK      = 0
	ExitRuntime = 1 // a runtime error: not found, forbidden, unreachable...
	ExitUsage   = 2 // invalid flags or arguments
	ExitTimeout = 3 // status --until: the timeout passed first
	ExitFailed  = 4 // status --until ready: the deployment failed instead
	// ExitHistory is a failure of OpenSearch (unreachable, refused, no index) while live logs,
	// if any, were printed.
	ExitHistory = 5
)

// ExitError carries an exit code with an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageErr is an invalid flag or argument.
func usageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// Report prints err on one line and returns the exit code for it.
func Report(err error, errOut io.Writer) int {
	if err == nil {
		return ExitOK
	}
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "\n", " ")
	fmt.Fprintf(errOut, "error: %s\n", msg)
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitRuntime
}
