package inspect

import "fmt"

// UsageError is a request that cannot be served as asked: an invalid flag or argument, or one
// the cluster shows wrong (an unknown container or pod). The user's to fix, told apart from
// runtime failures for the exit code; the commands raise it too.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(format string, a ...any) error { return &UsageError{Msg: fmt.Sprintf(format, a...)} }

// ReportedError is a failure already printed on the error stream, in its place among the
// other lines (history failed, live logs went on): the caller only gives its exit code.
type ReportedError struct{ Err error }

func (e *ReportedError) Error() string { return e.Err.Error() }
func (e *ReportedError) Unwrap() error { return e.Err }

// PartialError is a read where some streams failed (each said so in its place) and the
// others were printed: not a success, for scripts.
type PartialError struct{ Failed int64 }

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d stream(s) could not be read (see above); the others were printed", e.Failed)
}
