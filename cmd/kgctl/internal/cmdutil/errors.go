// Package cmdutil holds what kgctl's commands share: the Factory with the
// IO streams and the environment, exit-code errors, secret and open-API
// flags, and small output helpers.
package cmdutil

import (
	"errors"
	"fmt"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailed  = 1 // the call, check or verification failed
	ExitUsage   = 2 // bad flags or arguments
	ExitRun     = 3 // could not run: network, file, missing credentials
	ExitLockout = 4 // stopped before an AK lock-out
)

// ExitError carries an exit code with the message to print.
type ExitError struct {
	Code int
	Err  error
}

// Error is the wrapped error's text.
func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *ExitError) Unwrap() error { return e.Err }

// UsageErr is a usage error (exit 2).
func UsageErr(format string, a ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, a...)}
}

// RunErr is an error that kept kgctl from running (exit 3).
func RunErr(err error) error { return &ExitError{Code: ExitRun, Err: err} }

// FailedErr is a failure whose message is err (exit 1).
func FailedErr(err error) error { return &ExitError{Code: ExitFailed, Err: err} }

// ErrFailed reports a failure whose details are already printed.
var ErrFailed = &ExitError{Code: ExitFailed, Err: errors.New("")}

// ExitCodesHelp ends every command's long help.
const ExitCodesHelp = `Exit codes:
  0  success
  1  the call, check or verification failed (the output says which and why)
  2  usage error (bad flags or arguments)
  3  could not run (network, file, missing credentials)
  4  stopped before a call that would lock the AK (see kgctl call --help)`

// ExitCode maps an error returned by a command to the exit code, and says
// whether the usage hint should follow its message.
func ExitCode(err error) (code int, usageHint bool) {
	if err == nil {
		return ExitOK, false
	}
	code = ExitUsage // cobra's own errors: unknown command, bad arguments
	var ee *ExitError
	if errors.As(err, &ee) {
		code = ee.Code
	}
	return code, code == ExitUsage && (ee == nil || ee.Err != nil)
}
