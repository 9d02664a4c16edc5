package koogallery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Result is the result envelope of the open APIs, both families:
// resultCode/resultMsg (query order) and error_code/error_msg/request_id
// (usage, license, file upload, gateway errors). Embed it in a response type
// passed to Do and the body is decoded in one pass instead of two.
type Result struct {
	ResultCode string          `json:"resultCode,omitempty"`
	ResultMsg  string          `json:"resultMsg,omitempty"`
	ErrorCode  string          `json:"error_code,omitempty"`
	ErrorMsg   string          `json:"error_msg,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
	ExtraInfo  json.RawMessage `json:"extra_info,omitempty"`
}

// Code returns the result code and message of whichever family is present.
func (r *Result) Code() (code, msg string) {
	if r.ResultCode != "" {
		return r.ResultCode, r.ResultMsg
	}
	return r.ErrorCode, r.ErrorMsg
}

func (r *Result) result() *Result { return r }

// resulter is implemented by types that embed Result.
type resulter interface{ result() *Result }

// decodeResponse maps a complete response to v or an error.
func decodeResponse(resp *http.Response, data []byte, method, path string, v any) error {
	trimmed := bytes.TrimSpace(data)
	fail := func(code, msg string, env *Result) *APIError {
		e := &APIError{StatusCode: resp.StatusCode, Code: code, Message: redactMessage(msg), Method: method, Path: path,
			RequestID: resp.Header.Get("X-Request-Id"), RetryAfter: retryAfter(resp.Header, time.Now())}
		if env != nil {
			if len(trimmed) <= MaxErrorBody {
				e.Body = []byte(redactMessage(string(trimmed)))
			}
			if env.RequestID != "" {
				e.RequestID = env.RequestID
			}
			if len(env.ExtraInfo) > 0 && string(env.ExtraInfo) != "null" {
				e.ExtraInfo = env.ExtraInfo
			}
		}
		return e
	}
	if len(trimmed) == 0 {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return nil
		}
		return fail("", "empty response body", nil)
	}
	if trimmed[0] != '{' {
		return fail("", "response is not the documented JSON: "+excerpt(trimmed), nil)
	}
	// One pass when v carries the envelope itself; else the envelope first.
	var env *Result
	var decodeErr error
	decoded := false
	if r, ok := v.(resulter); ok {
		decodeErr = json.Unmarshal(trimmed, v)
		env, decoded = r.result(), true
		if decodeErr != nil {
			env = new(Result)
			if json.Unmarshal(trimmed, env) != nil {
				return fail("", "response is not the documented JSON: "+excerpt(trimmed), nil)
			}
		}
	} else {
		env = new(Result)
		if json.Unmarshal(trimmed, env) != nil {
			return fail("", "response is not the documented JSON: "+excerpt(trimmed), nil)
		}
	}
	code, msg := env.Code()
	switch {
	case isSuccess(code):
	case code == "" && resp.StatusCode >= 200 && resp.StatusCode < 300:
	default:
		if msg == "" && code == "" {
			msg = "no result code: " + excerpt(trimmed)
		}
		return fail(code, msg, env)
	}
	if v == nil {
		return nil
	}
	if !decoded {
		decodeErr = json.Unmarshal(trimmed, v)
	}
	if decodeErr != nil {
		return fail(code, "decoding the response failed: "+decodeErr.Error(), env)
	}
	return nil
}

// excerpt returns a short, printable prefix of a body for error messages.
func excerpt(b []byte) string {
	const max = 120
	cut := len(b) > max
	if cut {
		b = b[:max]
	}
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return ' '
		}
		return r
	}, string(b))
	if cut {
		s += "…"
	}
	return strings.Join(strings.Fields(s), " ")
}

// redactMessage hides a security token the gateway may echo inside a
// canonical request ("x-security-token:…|"), whatever the case of the name.
func redactMessage(msg string) string {
	const key = "x-security-token:"
	var b strings.Builder
	for {
		i := indexFold(msg, key)
		if i < 0 {
			if b.Len() == 0 {
				return msg
			}
			b.WriteString(msg)
			return b.String()
		}
		b.WriteString(msg[:i+len(key)])
		b.WriteString("<redacted>")
		msg = msg[i+len(key):]
		end := strings.IndexAny(msg, "|\n")
		if end < 0 {
			end = len(msg)
		}
		msg = msg[end:]
	}
}

// indexFold is strings.Index ignoring ASCII case; lower must be lower-case
// ASCII. Byte offsets stay those of s (strings.ToLower may change them).
func indexFold(s, lower string) int {
	for i := 0; i+len(lower) <= len(s); i++ {
		match := true
		for j := 0; j < len(lower); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lower[j] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}

// CheckResponse maps a response to a request sent through
// Client.HTTPClient to what Do would return: nil for success, else an
// *APIError (the same classification with errors.Is, the same redaction;
// Method and Path are those of resp.Request as sent). It reads at most MaxErrorBody bytes and puts them back, so resp.Body can
// still be read from the start; a larger 2xx body counts as success, since
// failure envelopes are small.
func CheckResponse(resp *http.Response) error {
	if resp == nil {
		return errors.New("koogallery: nil response")
	}
	method, path := "", ""
	if resp.Request != nil {
		method = resp.Request.Method
		if method == "" {
			method = http.MethodGet
		}
		if resp.Request.URL != nil {
			path = resp.Request.URL.Path
		}
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	var head []byte
	var err error
	if resp.Body != nil {
		head, err = io.ReadAll(io.LimitReader(resp.Body, MaxErrorBody+1))
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	switch {
	case err != nil:
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path,
			Message: "reading the response failed: " + err.Error(), RequestID: resp.Header.Get("X-Request-Id")}
	case len(head) > MaxErrorBody && resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case len(head) > MaxErrorBody:
		return &APIError{StatusCode: resp.StatusCode, Method: method, Path: path, RequestID: resp.Header.Get("X-Request-Id"),
			Message: "error response of more than " + strconv.Itoa(MaxErrorBody) + " bytes: " + excerpt(head)}
	}
	return decodeResponse(resp, head, method, path, nil)
}

// Response is what the final HTTP response of a call said besides its
// body, for support tickets and diagnostics. CaptureResponse fills one.
type Response struct {
	// StatusCode is the HTTP status of the final attempt (0 when none
	// answered).
	StatusCode int
	// Header is the final response's header.
	Header http.Header
	// RequestID is the gateway's request ID: X-Request-Id, or the body's
	// request_id of a failure. Cite it to KooGallery support.
	RequestID string
	// Attempts is the number of attempts the call made.
	Attempts int
}

type responseKey struct{}

// CaptureResponse returns a context under which the calls made with it
// (Do, every method of the service packages, requests sent through
// HTTPClient) record their final response in dst, on success and on
// failure:
//
//	var resp koogallery.Response
//	o, err := orders.QueryOrder(koogallery.CaptureResponse(ctx, &resp), id)
//	log.Printf("order %s: request %s, HTTP %d", id, resp.RequestID, resp.StatusCode)
//
// Each call overwrites dst; give concurrent calls their own.
func CaptureResponse(ctx context.Context, dst *Response) context.Context {
	return context.WithValue(ctx, responseKey{}, dst)
}

func capturedResponse(ctx context.Context) *Response {
	dst, _ := ctx.Value(responseKey{}).(*Response)
	return dst
}

// retryAfter parses Retry-After (seconds or an HTTP date), saturating at
// the largest time.Duration; a negative, past or unreadable value is 0.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if digits(v) {
		const maxSeconds = int64(1<<63-1) / int64(time.Second)
		var s int64
		for i := 0; i < len(v); i++ {
			if s > maxSeconds/10 {
				return maxDuration
			}
			s = s*10 + int64(v[i]-'0')
		}
		if s > maxSeconds {
			return maxDuration
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now) // Sub saturates
	}
	return 0
}

const maxDuration = time.Duration(1<<63 - 1)

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
