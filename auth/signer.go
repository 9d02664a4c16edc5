package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Algorithm is the signing algorithm name that starts the Authorization value.
const Algorithm = "SDK-HMAC-SHA256"

// Header names and values of the scheme.
const (
	// HeaderDate carries the signing time in DateLayout, always UTC.
	HeaderDate = "X-Sdk-Date"
	// HeaderContentSHA256, when set by the caller, replaces the payload hash
	// with its value (for example UnsignedPayload) and is itself signed.
	HeaderContentSHA256 = "X-Sdk-Content-Sha256"
	// HeaderSecurityToken carries the token of temporary credentials.
	HeaderSecurityToken = "X-Security-Token"
	// HeaderAuthorization carries the signature.
	HeaderAuthorization = "Authorization"
	// UnsignedPayload is the X-Sdk-Content-Sha256 value that leaves the body
	// out of the signature, for large or streamed uploads.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// DateLayout is the time.Format layout of X-Sdk-Date.
	DateLayout = "20060102T150405Z"
)

// emptyHash is the hex SHA-256 of an empty body.
const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

var emptyHashBytes = []byte(emptyHash)

// Signer signs HTTP requests with an AK/SK pair. It is safe for concurrent
// use; build one per credential and share it.
type Signer struct {
	accessKey string
	token     string
	now       func() time.Time
	debug     func(Debug)
	// extra holds the lower-case names of additional headers to sign when
	// present, merged with the fixed candidates in byte order.
	candidates []string
	macs       sync.Pool // of hash.Hash keyed with the secret key
	date       atomic.Pointer[cachedDate]
}

type cachedDate struct {
	unix int64
	text string
}

// SignerOption configures a Signer.
type SignerOption func(*Signer) error

// WithClock sets the clock the Signer stamps X-Sdk-Date from. Tests pin it;
// hosts with a skewed clock can add a fixed offset. The default is time.Now.
func WithClock(now func() time.Time) SignerOption {
	return func(s *Signer) error {
		if now == nil {
			return errors.New("auth: nil clock")
		}
		s.now = now
		return nil
	}
}

// WithSecurityToken makes the Signer send and sign X-Security-Token, as
// temporary AK/SK credentials (from IAM/STS or a metadata service) require.
func WithSecurityToken(token string) SignerOption {
	return func(s *Signer) error {
		if err := checkHeaderValue(token); err != nil {
			return fmt.Errorf("auth: security token: %w", err)
		}
		s.token = token
		return nil
	}
}

// WithSignedHeaders adds header names that are signed whenever a request
// carries them (for example "X-Stage"). Never list headers that a proxy or
// the transport may rewrite (User-Agent, Content-Length, Accept-Encoding),
// nor names containing '_', which proxies drop.
func WithSignedHeaders(names ...string) SignerOption {
	return func(s *Signer) error {
		for _, n := range names {
			ln := strings.ToLower(strings.TrimSpace(n))
			switch {
			case ln == "" || strings.ContainsAny(ln, "_;:, \t") || !isToken(ln):
				return fmt.Errorf("auth: cannot sign header name %q", n)
			case ln == "authorization":
				return errors.New("auth: the Authorization header is never signed")
			}
			s.addCandidate(ln)
		}
		return nil
	}
}

// WithDebug installs a hook that receives the canonical request and the
// string to sign of every signature, for diffing against the gateway's
// "canonicalRequest:" echo. The secret key never reaches it, and the
// security token is redacted.
func WithDebug(fn func(Debug)) SignerOption {
	return func(s *Signer) error {
		s.debug = fn
		return nil
	}
}

// Debug is what a WithDebug hook receives for each signature.
type Debug struct {
	// CanonicalRequest is the canonical request, newlines included, with the
	// x-security-token value redacted.
	CanonicalRequest string
	// StringToSign is the string whose HMAC is the signature.
	StringToSign string
	// SignedHeaders is the SignedHeaders list, e.g. "host;x-sdk-date".
	SignedHeaders string
}

// String renders the canonical request in the gateway's one-line form, with
// '|' standing for each newline.
func (d Debug) String() string {
	return "canonicalRequest:" + strings.ReplaceAll(d.CanonicalRequest, "\n", "|") +
		" stringToSign:" + strings.ReplaceAll(d.StringToSign, "\n", "|")
}

// NewSigner returns a Signer for the access key and secret key. Empty keys
// are an error.
func NewSigner(accessKey, secretKey string, opts ...SignerOption) (*Signer, error) {
	if accessKey == "" || secretKey == "" {
		return nil, errors.New("auth: access key and secret key are required")
	}
	if err := checkHeaderValue(accessKey); err != nil || strings.ContainsAny(accessKey, ", ") {
		return nil, errors.New("auth: access key contains characters that cannot appear in the Authorization header")
	}
	s := &Signer{
		accessKey:  accessKey,
		now:        time.Now,
		candidates: []string{"content-type", "x-sdk-content-sha256", "x-security-token"},
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	key := []byte(secretKey)
	s.macs.New = func() any { return hmac.New(sha256.New, key) }
	return s, nil
}

// AccessKey returns the access key the Signer signs with.
func (s *Signer) AccessKey() string { return s.accessKey }

func (s *Signer) addCandidate(name string) {
	for _, c := range s.candidates {
		if c == name {
			return
		}
	}
	switch name {
	case "host", "x-sdk-date":
		return // always signed
	}
	s.candidates = append(s.candidates, name)
	// Keep byte order; the list is tiny.
	for i := len(s.candidates) - 1; i > 0 && s.candidates[i] < s.candidates[i-1]; i-- {
		s.candidates[i], s.candidates[i-1] = s.candidates[i-1], s.candidates[i]
	}
}

// maxSigned bounds the signed headers kept on the stack; more spill to the heap.
const maxSigned = 8

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Sign signs r in place. It sets X-Sdk-Date from the Signer's clock
// (replacing any value present), X-Security-Token when the Signer has one,
// and Authorization. It hashes the exact body bytes, through r.GetBody when
// set, else by buffering and restoring r.Body (setting GetBody), so the
// request can still be sent and signed again for a retry.
//
// Sign refuses what it cannot sign correctly: a request without URL or host,
// an opaque URL, a query servers would split differently, a signed header
// sent twice or carrying control characters.
func (s *Signer) Sign(r *http.Request) error {
	if r == nil || r.URL == nil {
		return signError("request has no URL")
	}
	if r.URL.Opaque != "" {
		return signError("opaque URLs are not supported")
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if host == "" {
		return signError("request has no host")
	}
	if err := checkHost(host); err != nil {
		return signError("%w", err)
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}

	var qbuf [16]param
	query, err := parseQuery(qbuf[:0], r.URL.RawQuery)
	if err != nil {
		return signError("%w", err)
	}

	// One pass over the header map: drop every spelling of the headers this
	// Signer writes, and collect the optional signed headers.
	var found [maxSigned]header
	optional := found[:0]
	for k, vs := range r.Header {
		if k == HeaderDate || k == HeaderAuthorization || (s.token != "" && k == HeaderSecurityToken) {
			continue // overwritten below
		}
		if strings.EqualFold(k, HeaderDate) || strings.EqualFold(k, HeaderAuthorization) ||
			(s.token != "" && strings.EqualFold(k, HeaderSecurityToken)) {
			delete(r.Header, k) // a non-canonical spelling Go would send as well
			continue
		}
		for _, c := range s.candidates {
			if !strings.EqualFold(k, c) || len(vs) == 0 {
				continue
			}
			if len(vs) > 1 {
				return signError("header %s is sent %d times; a signed header must be sent once", c, len(vs))
			}
			for _, h := range optional {
				if h.name == c {
					return signError("header %s is sent twice under different spellings", c)
				}
			}
			if err := checkHeaderValue(vs[0]); err != nil {
				return signError("header %s: %w", c, err)
			}
			optional = append(optional, header{c, vs[0]})
		}
	}

	date := s.dateText(s.now())
	r.Header[HeaderDate] = []string{date}
	if s.token != "" {
		r.Header[HeaderSecurityToken] = []string{s.token}
		optional = append(optional, header{"x-security-token", s.token})
	}

	// host and x-sdk-date are always signed; order all names bytewise.
	headers := append(optional, header{"host", host}, header{"x-sdk-date", date})
	for i := 1; i < len(headers); i++ {
		for j := i; j > 0 && headers[j].name < headers[j-1].name; j-- {
			headers[j], headers[j-1] = headers[j-1], headers[j]
		}
	}

	// Payload hash: the caller's override, or the hash of the exact body.
	var payload []byte
	var hexSum [2 * sha256.Size]byte
	for _, h := range headers {
		if h.name == "x-sdk-content-sha256" {
			payload = []byte(strings.TrimSpace(h.value))
		}
	}
	if payload == nil && (r.Body == nil || r.Body == http.NoBody) {
		payload = emptyHashBytes
	}
	if payload == nil {
		sum, err := hashBody(r)
		if err != nil {
			return err
		}
		hex.Encode(hexSum[:], sum[:])
		payload = hexSum[:]
	}

	bp := bufPool.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= 64<<10 {
			bufPool.Put(bp)
		}
	}()
	buf := (*bp)[:0]

	c := canonical{method: method, path: r.URL.Path, query: query, headers: headers}
	buf, ss, se := c.appendRequest(buf)
	buf = append(buf, payload...)
	crEnd := len(buf)
	crHash := sha256.Sum256(buf)
	stsStart := len(buf)
	buf = append(buf, Algorithm+"\n"...)
	buf = append(buf, date...)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, crHash[:])
	stsEnd := len(buf)

	mac := s.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write(buf[stsStart:stsEnd])
	buf = mac.Sum(buf)
	s.macs.Put(mac)
	sig := buf[stsEnd:]

	authStart := len(buf)
	buf = append(buf, Algorithm+" Access="...)
	buf = append(buf, s.accessKey...)
	buf = append(buf, ", SignedHeaders="...)
	buf = append(buf, buf[ss:se]...)
	buf = append(buf, ", Signature="...)
	buf = hex.AppendEncode(buf, sig)
	r.Header[HeaderAuthorization] = []string{string(buf[authStart:])}

	if s.debug != nil {
		s.debug(Debug{
			CanonicalRequest: redact(string(buf[:crEnd]), s.token),
			StringToSign:     string(buf[stsStart:stsEnd]),
			SignedHeaders:    string(buf[ss:se]),
		})
	}
	*bp = buf
	return nil
}

// ErrSign is wrapped by every error Sign returns: the request cannot be
// signed as it is, and sending it again will not help.
var ErrSign = errors.New("auth: sign")

// signError formats a Sign error wrapping ErrSign (and any %w operand).
func signError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrSign}, args...)...)
}

// dateText formats t as X-Sdk-Date, reusing the text while the second lasts.
func (s *Signer) dateText(t time.Time) string {
	t = t.UTC()
	sec := t.Unix()
	if d := s.date.Load(); d != nil && d.unix == sec {
		return d.text
	}
	text := t.Format(DateLayout)
	s.date.Store(&cachedDate{unix: sec, text: text})
	return text
}

// bodyHasher is a pooled SHA-256 with room for its sum.
type bodyHasher struct {
	h   hash.Hash
	sum [sha256.Size]byte
}

var hashPool = sync.Pool{New: func() any { return &bodyHasher{h: sha256.New()} }}

// hashBody returns the SHA-256 of r's body, leaving r sendable: it reads
// through GetBody when the request has it, else it buffers r.Body and
// installs a replayable body and GetBody.
func hashBody(r *http.Request) (sum [sha256.Size]byte, err error) {
	if r.GetBody != nil {
		body, err := r.GetBody()
		if err != nil {
			return sum, signError("get body: %w", err)
		}
		bh := hashPool.Get().(*bodyHasher)
		bh.h.Reset()
		_, err = io.Copy(bh.h, body)
		body.Close()
		if err == nil {
			bh.h.Sum(bh.sum[:0])
			sum = bh.sum
		}
		hashPool.Put(bh)
		if err != nil {
			return sum, signError("read body: %w", err)
		}
		return sum, nil
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return sum, signError("read body: %w", err)
	}
	r.ContentLength = int64(len(b))
	if len(b) == 0 {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return sha256.Sum256(nil), nil
	}
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.Body, _ = r.GetBody()
	return sha256.Sum256(b), nil
}

// redact hides the security token inside a canonical request.
func redact(cr, token string) string {
	if token == "" {
		return cr
	}
	return strings.ReplaceAll(cr, "x-security-token:"+token+"\n", "x-security-token:<redacted>\n")
}

// checkHeaderValue refuses values the wire cannot carry unchanged.
func checkHeaderValue(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return errors.New("value contains a control character")
		}
	}
	return nil
}

// checkHost refuses hosts that Go's client would rewrite before sending
// (non-ASCII names are converted to punycode, zones and junk are cut).
func checkHost(h string) error {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= 0x20 || c >= 0x7f || c == '/' || c == '%' || c == '?' || c == '#' || c == '@' {
			return errors.New("host contains characters that are rewritten on the wire; use its ASCII (punycode) form")
		}
	}
	return nil
}

// isToken reports whether s is a valid HTTP header field name.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
