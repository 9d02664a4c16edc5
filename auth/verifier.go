package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sentinel errors of Verify, for errors.Is. Every error Verify returns is a
// *VerifyError wrapping one of them.
var (
	// ErrMalformed: the Authorization or X-Sdk-Date header, a signed header,
	// the query or the body cannot be used as the scheme requires.
	ErrMalformed = errors.New("malformed signature")
	// ErrUnknownAccessKey: the access key is not known to the lookup.
	ErrUnknownAccessKey = errors.New("unknown access key")
	// ErrExpired: X-Sdk-Date is outside the allowed skew.
	ErrExpired = errors.New("signature expired")
	// ErrMismatch: the signature does not match the request.
	ErrMismatch = errors.New("signature mismatch")
)

// VerifyError says which part of a signature check failed. It never holds a
// secret key. For ErrMismatch it carries the server-side canonical request
// and string to sign, to diff against the client's.
type VerifyError struct {
	Err              error  // one of the sentinels above
	Reason           string // what exactly failed
	AccessKey        string // the access key claimed, when it could be parsed
	CanonicalRequest string // ErrMismatch only, security token redacted
	StringToSign     string // ErrMismatch only
}

// Error describes the refusal; it never contains a secret.
func (e *VerifyError) Error() string {
	s := "auth: verify: " + e.Err.Error()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.CanonicalRequest != "" {
		s += ", canonicalRequest:" + strings.ReplaceAll(e.CanonicalRequest, "\n", "|")
	}
	return s
}

// Unwrap returns the sentinel error.
func (e *VerifyError) Unwrap() error { return e.Err }

// Authorization is a parsed SDK-HMAC-SHA256 Authorization header value.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string // lower-case, sorted, unique
	Signature     string   // 64 lower-case hex digits
}

// ParseAuthorization parses an Authorization value of the form
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex". It is
// strict: the algorithm, the three parts in that order, a sorted and unique
// lower-case header list including x-sdk-date, and 64 hex digits.
func ParseAuthorization(v string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(v, Algorithm+" ")
	if !ok {
		return a, errors.New("not an " + Algorithm + " Authorization value")
	}
	parts := [3]string{"Access=", "SignedHeaders=", "Signature="}
	var vals [3]string
	for i, p := range parts {
		rest = strings.TrimLeft(rest, " ")
		if rest, ok = strings.CutPrefix(rest, p); !ok {
			return a, errors.New("missing " + strings.TrimSuffix(p, "="))
		}
		if i < 2 {
			var val string
			if val, rest, ok = strings.Cut(rest, ","); !ok {
				return a, errors.New("missing " + strings.TrimSuffix(parts[i+1], "="))
			}
			vals[i] = val
		} else {
			vals[i] = rest
		}
	}
	a.AccessKey = vals[0]
	if a.AccessKey == "" || strings.ContainsAny(a.AccessKey, " \t") {
		return a, errors.New("empty or invalid access key")
	}
	if vals[1] == "" {
		return a, errors.New("empty SignedHeaders")
	}
	a.SignedHeaders = strings.Split(vals[1], ";")
	hasDate := false
	for i, h := range a.SignedHeaders {
		if h == "" || !isToken(h) || h != strings.ToLower(h) {
			return a, errors.New("invalid name in SignedHeaders")
		}
		if i > 0 && h <= a.SignedHeaders[i-1] {
			return a, errors.New("SignedHeaders must be sorted and unique")
		}
		if h == "authorization" {
			return a, errors.New("SignedHeaders must not list authorization")
		}
		hasDate = hasDate || h == "x-sdk-date"
	}
	if !hasDate {
		return a, errors.New("SignedHeaders must include x-sdk-date")
	}
	a.Signature = vals[2]
	if len(a.Signature) != 2*sha256.Size {
		return a, errors.New("signature is not 64 hex digits")
	}
	for i := 0; i < len(a.Signature); i++ {
		if c := a.Signature[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return a, errors.New("signature is not 64 lower-case hex digits")
		}
	}
	return a, nil
}

// Verifier checks SDK-HMAC-SHA256 signatures the way the API gateway does:
// it recomputes the canonical request from what it received (the decoded
// path and query, the Host, the listed headers, the body) and compares in
// constant time. It is safe for concurrent use.
type Verifier struct {
	lookup  func(accessKey string) (secretKey string, ok bool)
	now     func() time.Time
	skew    time.Duration
	maxBody int64
}

// WithMaxSkew sets how far X-Sdk-Date may be from the Verifier's clock, in
// either direction (default 15 minutes, as the gateway allows).
func WithMaxSkew(d time.Duration) VerifierOption {
	return verifierFunc(func(v *Verifier) {
		if d > 0 {
			v.skew = d
		}
	})
}

// WithMaxBodyBytes bounds the body the Verifier reads to hash it (default
// 12 MiB, the gateway's limit). A larger body fails with ErrMalformed.
func WithMaxBodyBytes(n int64) VerifierOption {
	return verifierFunc(func(v *Verifier) {
		if n > 0 {
			v.maxBody = n
		}
	})
}

// NewVerifier returns a Verifier that finds secret keys with lookup.
func NewVerifier(lookup func(accessKey string) (secretKey string, ok bool), opts ...VerifierOption) *Verifier {
	v := &Verifier{lookup: lookup, now: time.Now, skew: 15 * time.Minute, maxBody: 12 << 20}
	for _, o := range opts {
		if o != nil {
			o.applyVerifier(v)
		}
	}
	return v
}

// Verify checks r's signature. On success r.Body is left readable from the
// start. X-Sdk-Content-Sha256 is honoured only when signed: UNSIGNED-PAYLOAD
// leaves the body out of the check (the client chose that), and a hash it
// carries must be the body's. Errors are *VerifyError values wrapping ErrMalformed,
// ErrUnknownAccessKey, ErrExpired or ErrMismatch.
func (v *Verifier) Verify(r *http.Request) error {
	fail := func(kind error, reason, ak string) error {
		return &VerifyError{Err: kind, Reason: reason, AccessKey: ak}
	}
	values := r.Header.Values(HeaderAuthorization)
	if len(values) != 1 {
		return fail(ErrMalformed, "want exactly one Authorization header", "")
	}
	a, err := ParseAuthorization(values[0])
	if err != nil {
		return fail(ErrMalformed, err.Error(), "")
	}
	sk, ok := "", false
	if v.lookup != nil {
		sk, ok = v.lookup(a.AccessKey)
	}
	if !ok || sk == "" {
		return fail(ErrUnknownAccessKey, "", a.AccessKey)
	}

	dates := r.Header.Values(HeaderDate)
	if len(dates) != 1 {
		return fail(ErrMalformed, "want exactly one X-Sdk-Date header", a.AccessKey)
	}
	date := strings.TrimSpace(dates[0])
	t, err := time.Parse(DateLayout, date)
	if err != nil {
		return fail(ErrMalformed, "X-Sdk-Date is not in the 20060102T150405Z layout", a.AccessKey)
	}
	if d := v.now().Sub(t); d > v.skew || d < -v.skew {
		return fail(ErrExpired, fmt.Sprintf("X-Sdk-Date %s is %s away from server time", date, d.Round(time.Second)), a.AccessKey)
	}

	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	c := canonical{method: method, path: r.URL.Path}
	if isCanonicalQuery(r.URL.RawQuery) {
		c.rawQuery = r.URL.RawQuery
	} else if c.query, err = parseQuery(nil, r.URL.RawQuery); err != nil {
		return fail(ErrMalformed, err.Error(), a.AccessKey)
	}
	headers := make([]header, 0, len(a.SignedHeaders))
	token := ""
	for _, name := range a.SignedHeaders {
		if name == "host" {
			headers = append(headers, header{name, r.Host})
			continue
		}
		vs := r.Header.Values(name)
		if len(vs) == 0 {
			return fail(ErrMalformed, "signed header "+name+" is missing", a.AccessKey)
		}
		if len(vs) > 1 {
			vs = slices.Sorted(slices.Values(vs))
		}
		for _, val := range vs {
			headers = append(headers, header{name, val})
		}
		if name == "x-security-token" {
			token = vs[0]
		}
	}

	// X-Sdk-Content-Sha256 replaces the payload hash only when it is signed,
	// and a hash it claims must be the body's: otherwise anyone could add
	// the header with the original body's hash and swap the body.
	// UNSIGNED-PAYLOAD leaves the body out of the signature, by design.
	var payload []byte
	claimed := strings.TrimSpace(r.Header.Get(HeaderContentSHA256))
	if claimed != "" && !slices.Contains(a.SignedHeaders, "x-sdk-content-sha256") {
		return fail(ErrMalformed, "X-Sdk-Content-Sha256 is present but not signed", a.AccessKey)
	}
	if claimed == UnsignedPayload {
		payload = []byte(claimed)
	} else {
		sum, err := v.hashBody(r)
		if err != nil {
			return fail(ErrMalformed, err.Error(), a.AccessKey)
		}
		payload = hex.AppendEncode(nil, sum[:])
		if claimed != "" && !strings.EqualFold(claimed, string(payload)) {
			return fail(ErrMismatch, "X-Sdk-Content-Sha256 is not the hash of the body", a.AccessKey)
		}
		if claimed != "" {
			payload = []byte(claimed) // signed as sent
		}
	}

	c.headers = headers
	buf, l := c.appendStringToSign(make([]byte, 0, 512), payload, date)
	want := appendMAC(nil, hmac.New(sha256.New, []byte(sk)), buf[l.stsStart:l.stsEnd])
	got, _ := hex.DecodeString(a.Signature) // ParseAuthorization checked the digits
	if !hmac.Equal(want, got) {
		return &VerifyError{
			Err:              ErrMismatch,
			Reason:           "the signature does not match the request",
			AccessKey:        a.AccessKey,
			CanonicalRequest: redact(string(buf[:l.crEnd]), token),
			StringToSign:     string(buf[l.stsStart:l.stsEnd]),
		}
	}
	return nil
}

// hashBody hashes r.Body up to the bound and restores it for the handler.
func (v *Verifier) hashBody(r *http.Request) ([sha256.Size]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return sha256.Sum256(nil), nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, v.maxBody+1))
	r.Body.Close()
	if err != nil {
		return [sha256.Size]byte{}, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > v.maxBody {
		return [sha256.Size]byte{}, fmt.Errorf("body is larger than %d bytes", v.maxBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return sha256.Sum256(b), nil
}
