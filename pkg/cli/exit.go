package cli

import (
	"errors"

	"fmt"
	"github.com/spf13/cobra"
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
	// OpenSearch failures, told apart; live logs, if any, were printed all the same.
	ExitHistoryUnreachable = 5 // unreachable, timed out, or an error answer
	ExitHistoryRefused     = 6 // 401 or 403
	ExitHistoryTLS         = 7 // certificate not trusted, or not TLS
	ExitHistoryNoIndex     = 8 // no index matches the pattern
)

// ExitError carries an exit code with an error.
type ExitError struct {
	Code int
	Err  error
	// Reported says the message was already printed; only the code remains to give.
	Reported bool
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageErr is an invalid flag or argument.
func usageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// maxArgs is cobra.MaximumNArgs with the error as a usage error.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MaximumNArgs(n)(cmd, args); err != nil {
			return usageErr("%v: see %s --help", err, cmd.CommandPath())
		}
		return nil
	}
}

// Report prints err on one line and returns the exit code for it.
func Report(err error, errOut io.Writer) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) && ee.Reported {
		return ee.Code
	}
	msg := strings.TrimSpace(err.Error())
	msg = strings.ReplaceAll(msg, "\n", " ")
	fmt.Fprintf(errOut, "error: %s\n", msg)
	if ee != nil {
		return ee.Code
	}
	if strings.HasPrefix(msg, "unknown command") {
		return ExitUsage
	}
	return ExitRuntime
}
