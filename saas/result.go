package saas

import (
	"github.com/isvkit/koogallery"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// ResultError is an error that answers KooGallery with a chosen result code
// and message, sent as resultCode and resultMsg (see koogallery.ResultError):
// return one, or wrap one, from a Provider method; any other error answers
// 000005.
type ResultError = koogallery.ResultError

// NewResultError returns a ResultError for one of the documented business
// codes (CodeNoResource … CodeLicenseFingerprintRequired) or any other
// six-digit code. A code that is not six digits, or is 000000, answers 000005.
func NewResultError(code, message string) *ResultError {
	return koogallery.NewResultError(code, message)
}

// Errors a Provider returns for the general result codes.
var (
	// ErrInvalidParameter answers 000002: a request field is unacceptable.
	ErrInvalidParameter = &ResultError{Code: engine.CodeInvalid, Message: "invalid parameter"}
	// ErrInstanceNotFound answers 000003: the instance does not exist.
	// (ReleaseInstance should succeed for a missing instance instead.)
	ErrInstanceNotFound = &ResultError{Code: engine.CodeNotFound, Message: "instance not found"}
	// ErrProcessing answers 000004: the request is being processed. From
	// NewInstance, answer Pending instead: 000004 there needs an instance ID,
	// so the handler answers 000005 for ErrProcessing.
	ErrProcessing = &ResultError{Code: engine.CodeProcessing, Message: "request is being processed"}
)

// Business result codes of 《SaaS类商品接入指南 V2.0》›「调用结果码说明」, for
// NewResultError.
const (
	CodeNoResource                  = "000100" // no instance resource available
	CodeMobileConflict              = "000101" // mobile number missing or already used
	CodeEmailConflict               = "000102" // e-mail missing or already used
	CodeAlreadyPurchased            = "000103" // the product cannot be bought twice
	CodeProductError                = "000104" // the product's internal service failed
	CodeBenefitSubscribed           = "000105" // the account already subscribed to the benefit
	CodeSoldOut                     = "000106" // product resources sold out
	CodeEmailDomainExists           = "000107" // the SaaS e-mail domain already exists
	CodeLicenseQuotaExhausted       = "000900" // license application: quota exhausted
	CodeLicenseOutsideOrderValidity = "000901" // license application: outside the order's validity
	CodeLicenseExpiryRequired       = "000902" // license application: a period license needs an expiry
	CodeLicenseFingerprintRequired  = "000903" // license application: device fingerprint required
)
