package kit

import (
	"github.com/isvkit/koogallery"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// ResultError is an error that answers KooGallery with a chosen result code
// and message (see koogallery.ResultError): return one, or wrap one, from a
// Provider method; any other error answers 000005.
type ResultError = koogallery.ResultError

// NewResultError returns a ResultError for code. A code that is not six
// digits, or is 000000, answers 000005.
func NewResultError(code, message string) *ResultError {
	return koogallery.NewResultError(code, message)
}

// ErrInvalidParameter answers 000002: a request field is unacceptable.
var ErrInvalidParameter = &ResultError{Code: engine.CodeInvalid, Message: "invalid parameter"}
