package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/inspect"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/cobra"
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
	ExitHistoryRefused     = 6 // 401: the credentials are wrong
	ExitHistoryTLS         = 7 // certificate not trusted, or not TLS
	ExitHistoryNoIndex     = 8 // no index matches the pattern
	ExitHistoryForbidden   = 9 // 403: the credentials do not reach the index (another project's)
	// Hopsworks as the credential source, told apart likewise.
	ExitHopsworksKey         = 10 // 401: the API key is wrong, expired or revoked
	ExitHopsworksScope       = 11 // 403: the key lacks a scope the call needs
	ExitHopsworksProject     = 12 // 404: no such project
	ExitHopsworksUnreachable = 13 // unreachable, untrusted certificate, or an error answer
	ExitHopsworksNotMember   = 14 // 403: the key's user is not a member of the project
	// logs: some streams could not be read; the others were printed.
	ExitPartial = 15
	// status --until ready: the diagnosis says it will not become ready without a change.
	ExitWontBeReady = 16
	// Interrupted by Ctrl-C or SIGTERM, after flushing what was read (128 + SIGINT).
	ExitInterrupted = 130
)

// ExitError carries an exit code with an error.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// usageErr is an invalid flag or argument: the one usage-error type, inspect's, whether the
// flags alone show it or the cluster does (an unknown container).
func usageErr(format string, a ...any) error {
	return &inspect.UsageError{Msg: fmt.Sprintf(format, a...)}
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

// Code is the exit code of an error: the one place where errors become exit codes.
func Code(err error) int {
	var ee *ExitError
	var ue *inspect.UsageError
	var pe *inspect.PartialError
	var he *history.Error
	var hw *hopsworks.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &pe):
		return ExitPartial
	case errors.As(err, &he):
		switch he.Kind {
		case history.Refused:
			return ExitHistoryRefused
		case history.TLSFailure:
			return ExitHistoryTLS
		case history.NoIndex:
			return ExitHistoryNoIndex
		case history.Forbidden:
			return ExitHistoryForbidden
		}
		return ExitHistoryUnreachable
	case errors.As(err, &hw):
		switch hw.Kind {
		case hopsworks.BadKey:
			return ExitHopsworksKey
		case hopsworks.MissingScope:
			return ExitHopsworksScope
		case hopsworks.UnknownProject:
			return ExitHopsworksProject
		case hopsworks.NotMember:
			return ExitHopsworksNotMember
		}
		return ExitHopsworksUnreachable
	}
	return ExitRuntime
}

// Report prints err on one line (unless it was printed already) and returns its exit code.
func Report(err error, errOut io.Writer) int {
	var reported *inspect.ReportedError
	if err != nil && !errors.As(err, &reported) {
		fmt.Fprintf(errOut, "error: %s\n", term.Sanitize(term.OneLine(err)))
	}
	return Code(err)
}
