package koogallery

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxErrorBody bounds APIError.Body.
const MaxErrorBody = 64 << 10

// Sentinel errors for classifying failures with errors.Is. An *APIError
// matches the one its code (or, for unknown codes, its HTTP status) maps to.
var (
	// ErrAuthentication: the signature or credentials were refused, e.g.
	// APIGW.0301 (wrong AK/SK, clock skew beyond 15 minutes, AK locked after
	// five failures), MKT.0154, MKT.0102, 92020001. Never retried.
	ErrAuthentication = errors.New("koogallery: authentication failed")
	// ErrPermission: authenticated but not allowed, e.g. MKT.0150 (the order
	// belongs to another seller), MKT.0151, APIGW.0302, 91380150.
	ErrPermission = errors.New("koogallery: permission denied")
	// ErrInvalidRequest: the request itself is wrong, e.g. MKT.0100,
	// MKT.0101, MKT.9004, 92020002, or a local validation failure.
	ErrInvalidRequest = errors.New("koogallery: invalid request")
	// ErrNotFound: the thing asked for does not exist, e.g. MKT.9001,
	// 92020005, APIGW.0101.
	ErrNotFound = errors.New("koogallery: not found")
	// ErrThrottled: too many requests, e.g. MKT.0250 (HTTP 406), APIG.0308
	// (HTTP 429). Retried with backoff before it is returned.
	ErrThrottled = errors.New("koogallery: throttled")
	// ErrServer: KooGallery or the gateway failed, e.g. MKT.0999, HTTP 5xx,
	// or a response that is not the documented JSON.
	ErrServer = errors.New("koogallery: server error")
)

// APIError is a failure reported by KooGallery or its API gateway: a
// gateway error (error_code, error_msg, request_id), a marketplace result
// code (resultCode MKT.*/CBC.*, error_code 9202xxxx, ...), also when it came
// with HTTP 200, or a response that could not be understood.
type APIError struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is the result code, e.g. "APIGW.0301", "MKT.0250", "92020005".
	// It is empty when the body carried none (e.g. an HTML error page).
	Code string
	// Message is the accompanying message, or a description of what was
	// wrong with the response.
	Message string
	// RequestID is the gateway's request ID, from the body or X-Request-Id.
	RequestID string
	// ExtraInfo is the raw extra_info member some failures carry.
	ExtraInfo []byte
	// Body is the JSON failure body as received (at most MaxErrorBody
	// bytes), for members this SDK does not model, such as per-record
	// failures. It is nil for bodies that are not JSON.
	Body []byte
	// RetryAfter is the wait the server asked for, when it said.
	RetryAfter time.Duration
	// Method and Path identify the call; the query is never kept.
	Method, Path string
}

// Error describes the failure. It never contains query values or secrets.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("koogallery: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString("HTTP ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(')')
	}
	if isSignatureFailure(e.Code) {
		b.WriteString("; check the AK/SK pair and the host clock: five failures in a row lock the AK for five minutes")
	}
	return b.String()
}

// Is reports whether target is the sentinel this error is classified as.
func (e *APIError) Is(target error) bool {
	c := e.class()
	return c != nil && c == target
}

// class returns the sentinel for the code, falling back to the status.
func (e *APIError) class() error {
	if isSuccess(e.Code) {
		return ErrServer // a success code whose payload could not be used
	}
	if c := classifyCode(e.Code, e.StatusCode); c != nil {
		return c
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return ErrAuthentication
	case e.StatusCode == http.StatusForbidden:
		return ErrPermission
	case e.StatusCode == http.StatusNotFound:
		return ErrNotFound
	case e.StatusCode == http.StatusTooManyRequests:
		return ErrThrottled
	case e.StatusCode >= 500:
		return ErrServer
	case e.StatusCode >= 400:
		return ErrInvalidRequest
	case e.Code == "" && e.StatusCode < 300:
		return ErrServer // a 2xx the client could not understand
	}
	return nil
}

// isSuccess reports whether a result code means success.
func isSuccess(code string) bool {
	switch code {
	case "MKT.0000", "CBC.0000", "92020000":
		return true
	}
	return false
}

// isSignatureFailure reports the gateway's AK/SK failure, which must never be
// retried: five in a row lock the AK for five minutes.
func isSignatureFailure(code string) bool {
	return code == "APIGW.0301" || code == "APIG.0301"
}

// classifyCode maps the documented code tables (APIGW/APIG, MKT/CBC,
// 9202xxxx, 9138xxxx, 9406xxxx) to sentinels. Unknown codes give nil.
func classifyCode(code string, status int) error {
	if rest, ok := strings.CutPrefix(code, "APIGW."); ok {
		return classifyGateway(rest, status)
	}
	if rest, ok := strings.CutPrefix(code, "APIG."); ok {
		return classifyGateway(rest, status)
	}
	if rest, ok := strings.CutPrefix(code, "MKT."); ok {
		return classifyMarket(rest)
	}
	if rest, ok := strings.CutPrefix(code, "CBC."); ok {
		return classifyMarket(rest)
	}
	switch code {
	case "92020001": // "Unauthorized" (403), and with HTTP 500 "internal error" (sic)
		if status >= 500 {
			return ErrServer
		}
		return ErrAuthentication
	case "92020002", "92020004", // invalid param; cannot activate before the buyer received the code
		"91381033", "91381034", "91381035", "91381037", // license resource invalid, apply invalid, no quota left, bad format
		"94060004":
		return ErrInvalidRequest
	case "92020005":
		return ErrNotFound
	case "91381036", "94060001":
		return ErrServer
	case "91381038", "91380150":
		return ErrPermission
	case "94060002":
		return ErrAuthentication
	}
	return nil
}

func classifyMarket(n string) error {
	switch n {
	case "0999":
		return ErrServer
	case "0100", "0101", "0199", "9002", "9003", "9004", "9005":
		return ErrInvalidRequest
	case "0102", "0154":
		return ErrAuthentication
	case "0150", "0151":
		return ErrPermission
	case "0250":
		return ErrThrottled
	case "9001":
		return ErrNotFound
	}
	return nil
}

func classifyGateway(n string, status int) error {
	switch n {
	case "0301", "0303", "0305", "0307", "0311", "0312", "0313", "1001", "1002", "1003", "1004":
		return ErrAuthentication
	case "0302", "0304", "0306", "0310", "0314", "0401", "0402", "0404", "0405", "0501", "0502", "0802":
		return ErrPermission
	case "0308":
		return ErrThrottled
	case "0101", "0108":
		return ErrNotFound
	case "0201": // one code for 400/413/414/494 and 500/502/504
		if status >= 500 {
			return ErrServer
		}
		return ErrInvalidRequest
	case "0103", "0104", "0105", "0107", "0202", "0203", "0601", "0605", "0606", "0608", "0609", "0610",
		"0611", "0612", "0613", "0615", "0616", "0617", "0705":
		return ErrServer
	case "0106", "0204", "0205", "0602", "0607", "1009", "2102", "2201", "2202", "2203", "2204", "2205", "2206",
		"2208", "2209", "2210", "2211", "2212", "2213":
		return ErrInvalidRequest
	}
	return nil
}

// RequestError is a failure to get any response: a connection, TLS,
// signing or credentials error, a plain-http URL off loopback, or the
// context ending. It names the call by method and path, never by URL, so
// that no query value reaches it.
type RequestError struct {
	Method, Path string
	Err          error
}

// Error names the operation and the cause, never the query string.
func (e *RequestError) Error() string {
	return "koogallery: " + e.Method + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause (for errors.Is with context.DeadlineExceeded,
// auth.ErrSign, auth.ErrCredentials, *net.OpError, ...).
func (e *RequestError) Unwrap() error { return e.Err }

// requestError makes the *RequestError for a failed call: the *url.Error
// wrappers net/http adds (and with them the URL and its query) stripped,
// and the context's cause when the context ended.
func requestError(ctx context.Context, method, path string, err error) *RequestError {
	if re, ok := err.(*RequestError); ok {
		return re
	}
	var ue *url.Error
	for errors.As(err, &ue) {
		err = ue.Err
	}
	if cause := contextCause(ctx); cause != nil && !errors.Is(err, cause) {
		// What the transport saw after the context ended (a closed
		// connection or pipe) is only the consequence.
		err = cause
	}
	return &RequestError{Method: method, Path: path, Err: err}
}

// contextCause returns why ctx ended (its cause, so that a deadline reads
// as context.DeadlineExceeded however it was reached), or nil.
func contextCause(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}
