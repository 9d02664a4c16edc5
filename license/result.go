package license

import (
	"github.com/isvkit/koogallery"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// ResultError is an error that answers KooGallery with a chosen result code
// and message (see koogallery.ResultError): return one, or wrap one, from a
// Provider method; any other error answers 000005.
type ResultError = koogallery.ResultError

// NewResultError returns a ResultError for code, such as one of the business
// codes 000100–000107 or 000900–000903 (see package saas for their names). A
// code that is not six digits, or is 000000, answers 000005.
func NewResultError(code, message string) *ResultError {
	return koogallery.NewResultError(code, message)
}

// Errors a Provider returns for the general result codes.
var (
	// ErrInvalidParameter answers 000002: a request field is unacceptable.
	ErrInvalidParameter = &ResultError{Code: engine.CodeInvalid, Message: "invalid parameter"}
	// ErrLicenseNotFound answers 000003: the licence code does not exist.
	// (ReleaseLicenseCode should succeed for a missing code instead.)
	ErrLicenseNotFound = &ResultError{Code: engine.CodeNotFound, Message: "license code not found"}
)
