package koogallery

// ResultError is an error a production-interface handler (packages saas,
// license, order) answers KooGallery with: a chosen six-digit result code
// and message. Return one, or wrap one (the handlers look through the chain
// with errors.As), from a provider method; any other error answers 000005
// with a generic message. Message is shown to KooGallery, so keep internal
// detail out of it. Each package re-exports this type as its own
// ResultError, with sentinels for the codes of its family.
type ResultError struct {
	// Code is the six-digit resultCode, e.g. "000003" or a business code
	// such as saas.CodeSoldOut.
	Code string
	// Message is the resultMsg, at most 255 bytes (longer is truncated).
	// Empty selects a generic message for the code.
	Message string
}

// NewResultError returns a ResultError for code. A code that is not six
// digits, or is 000000, answers 000005.
func NewResultError(code, message string) *ResultError {
	return &ResultError{Code: code, Message: message}
}

// Error reports the result code and message.
func (e *ResultError) Error() string { return "koogallery: result " + e.Code + ": " + e.Message }

// Is reports whether target is a *ResultError with the same Code, so that
// errors.Is(err, saas.ErrInstanceNotFound) holds for any 000003 answer.
func (e *ResultError) Is(target error) bool {
	t, ok := target.(*ResultError)
	return ok && t.Code == e.Code
}

// Result returns the resultCode and resultMsg the error answers with; the
// handlers of every package in this module recognise it.
func (e *ResultError) Result() (code, message string) { return e.Code, e.Message }
