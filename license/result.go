package license

import "github.com/isvkit/koogallery/internal/callback"

// ResultError is an error that answers KooGallery with a chosen result code
// and message. Return one (or wrap one: the handler looks through the chain
// with errors.As) from a Provider method; any other error answers 000005.
// Message is shown to KooGallery, so keep internal detail out of it.
type ResultError struct {
	// Code is the six-digit resultCode.
	Code string
	// Message is the resultMsg, at most 255 bytes (longer is truncated).
	// Empty selects a generic message for the code.
	Message string
}

// NewResultError returns a ResultError for code, such as one of the business
// codes 000100–000107 or 000900–000903 (see package saas for their names). A
// code that is not six digits, or is 000000, answers 000005.
func NewResultError(code, message string) *ResultError {
	return &ResultError{Code: code, Message: message}
}

func (e *ResultError) Error() string { return "license: result " + e.Code + ": " + e.Message }

// Is reports whether target is a *ResultError with the same Code, so that
// errors.Is(err, ErrLicenseNotFound) holds for any 000003 answer.
func (e *ResultError) Is(target error) bool {
	t, ok := target.(*ResultError)
	return ok && t.Code == e.Code
}

// Result returns the resultCode and resultMsg the error answers with. The
// handlers of every package in this module recognise it.
func (e *ResultError) Result() (code, message string) { return e.Code, e.Message }

// Errors a Provider returns for the general result codes.
var (
	// ErrInvalidParameter answers 000002: a request field is unacceptable.
	ErrInvalidParameter = &ResultError{Code: callback.CodeInvalid, Message: "invalid parameter"}
	// ErrLicenseNotFound answers 000003: the licence code does not exist.
	// (ReleaseLicenseCode should succeed for a missing code instead.)
	ErrLicenseNotFound = &ResultError{Code: callback.CodeNotFound, Message: "license code not found"}
)
