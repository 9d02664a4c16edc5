package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
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

// Signer signs HTTP requests with an AK/SK pair, fixed (NewSigner) or
// asked of a CredentialsProvider at every signature (NewSignerFrom), so
// that rotating temporary credentials need no restart. It is safe for
// concurrent use; build one per credential source and share it.
type Signer struct {
	// static holds fixed credentials; nil when provider is set.
	static   *signingKey
	provider CredentialsProvider
	// key is the signing state of the provider's latest credentials.
	key   atomic.Pointer[signingKey]
	token string // WithSecurityToken, for fixed credentials
	now   func() time.Time
	debug func(Debug)
	// candidates holds the lower-case names of the optional headers signed
	// when present, in byte order; nameLens has bit n set when a candidate
	// or a header Sign writes is n bytes long, so the header scan skips
	// other names at once.
	candidates []string
	nameLens   uint64
	date       atomic.Pointer[cachedDate]
}

// signingKey is the signing state of one set of credentials: the HMAC
// keyed with the secret, pooled with a scratch buffer.
type signingKey struct {
	accessKey, secretKey, token string
	authPrefix                  string // "SDK-HMAC-SHA256 Access=AK, SignedHeaders="
	states                      sync.Pool
}

// signState is the scratch state of one signature.
type signState struct {
	mac hash.Hash
	buf []byte
}

func newSigningKey(c Credentials) (*signingKey, error) {
	if c.AccessKey == "" || c.SecretKey == "" {
		return nil, errors.New("auth: access key and secret key are required")
	}
	if err := checkHeaderValue(c.AccessKey); err != nil || strings.ContainsAny(c.AccessKey, ", ") {
		return nil, errors.New("auth: access key contains characters that cannot appear in the Authorization header")
	}
	if err := checkHeaderValue(c.SecurityToken); err != nil {
		return nil, fmt.Errorf("auth: security token: %w", err)
	}
	k := &signingKey{accessKey: c.AccessKey, secretKey: c.SecretKey, token: c.SecurityToken,
		authPrefix: Algorithm + " Access=" + c.AccessKey + ", SignedHeaders="}
	key := []byte(c.SecretKey)
	k.states.New = func() any { return &signState{mac: hmac.New(sha256.New, key), buf: make([]byte, 0, 1024)} }
	return k, nil
}

type cachedDate struct {
	unix int64
	text string
}

// WithSecurityToken makes a Signer built by NewSigner send and sign
// X-Security-Token, as temporary AK/SK credentials (from IAM/STS or a
// metadata service) require. With NewSignerFrom the provider supplies the
// token instead.
func WithSecurityToken(token string) SignerOption {
	return signerFunc(func(s *Signer) error {
		if err := checkHeaderValue(token); err != nil {
			return fmt.Errorf("auth: security token: %w", err)
		}
		s.token = token
		return nil
	})
}

// WithSignedHeaders adds header names that are signed whenever a request
// carries them (for example "X-Stage"). Never list headers that a proxy or
// the transport may rewrite (User-Agent, Content-Length, Accept-Encoding),
// nor names containing '_', which proxies drop.
func WithSignedHeaders(names ...string) SignerOption {
	return signerFunc(func(s *Signer) error {
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
	})
}

// WithDebug installs a hook that receives the canonical request and the
// string to sign of every signature, for diffing against the gateway's
// "canonicalRequest:" echo. The secret key never reaches it, and the
// security token is redacted.
func WithDebug(fn func(Debug)) SignerOption {
	return signerFunc(func(s *Signer) error {
		s.debug = fn
		return nil
	})
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

// NewSigner returns a Signer for a fixed access key and secret key. Empty
// keys are an error.
func NewSigner(accessKey, secretKey string, opts ...SignerOption) (*Signer, error) {
	s, err := newSigner(opts)
	if err != nil {
		return nil, err
	}
	if s.static, err = newSigningKey(Credentials{AccessKey: accessKey, SecretKey: secretKey, SecurityToken: s.token}); err != nil {
		return nil, err
	}
	return s, nil
}

// NewSignerFrom returns a Signer that asks p for credentials at every
// signature, with the request's context, so credentials that rotate need no
// restart. p must be fast and safe for concurrent use: wrap a provider that
// fetches over the network in a CredentialsCache. Credentials whose Expires
// has passed are refused rather than sent, since every failed signature
// counts towards the gateway's lock-out of the access key.
func NewSignerFrom(p CredentialsProvider, opts ...SignerOption) (*Signer, error) {
	if p == nil {
		return nil, errors.New("auth: nil credentials provider")
	}
	s, err := newSigner(opts)
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		return nil, errors.New("auth: WithSecurityToken applies to NewSigner; a provider returns its own SecurityToken")
	}
	if sp, ok := p.(staticCredentials); ok {
		if s.static, err = newSigningKey(Credentials(sp)); err != nil {
			return nil, err
		}
		return s, nil
	}
	s.provider = p
	return s, nil
}

func newSigner(opts []SignerOption) (*Signer, error) {
	s := &Signer{now: time.Now, candidates: []string{"content-type", "x-sdk-content-sha256", "x-security-token"}}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.applySigner(s); err != nil {
			return nil, err
		}
	}
	for _, n := range append([]string{"x-sdk-date", "authorization"}, s.candidates...) {
		if len(n) < 64 {
			s.nameLens |= 1 << len(n)
		}
	}
	return s, nil
}

// AccessKey returns the access key the Signer signs with: the fixed one, or
// the one a provider returned last ("" before the first signature).
func (s *Signer) AccessKey() string {
	if s.static != nil {
		return s.static.accessKey
	}
	if k := s.key.Load(); k != nil {
		return k.accessKey
	}
	return ""
}

// signingKey returns the signing state for a signature made at now.
func (s *Signer) signingKey(r *http.Request, now time.Time) (*signingKey, error) {
	if s.static != nil {
		return s.static, nil
	}
	c, err := s.provider.Credentials(r.Context())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	if !c.Expires.IsZero() && !now.Before(c.Expires) {
		return nil, fmt.Errorf("%w: the credentials of access key %s expired at %s", ErrCredentials,
			c.AccessKey, c.Expires.UTC().Format(time.RFC3339))
	}
	if k := s.key.Load(); k != nil && k.accessKey == c.AccessKey && k.secretKey == c.SecretKey && k.token == c.SecurityToken {
		return k, nil
	}
	k, err := newSigningKey(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCredentials, err)
	}
	s.key.Store(k)
	return k, nil
}

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

// Sign signs r in place. It sets X-Sdk-Date from the Signer's clock
// (replacing any value present), X-Security-Token when the credentials have
// one, and Authorization. It hashes the exact body bytes, through r.GetBody
// when set, else by buffering and restoring r.Body (setting GetBody), so the
// request can still be sent and signed again for a retry.
//
// Sign refuses what it cannot sign correctly: a request without URL or host,
// an opaque URL, a query servers would split differently, a signed header
// sent twice or carrying control characters. Those errors wrap ErrSign; a
// provider's failure wraps ErrCredentials.
func (s *Signer) Sign(r *http.Request) error {
	// Sign is one long function on purpose: the canonical request, the
	// string to sign and the Authorization value are written into one
	// pooled buffer as they are derived, with the header and query walks
	// open-coded, so that signing a GET costs 2 allocations (pinned by
	// TestSignAllocations; BENCHMARKS.md). Split into helpers, each step
	// returned its own string or slice. The steps are commented in order.
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
	c := canonical{method: method, path: r.URL.Path}
	if isCanonicalQuery(r.URL.RawQuery) {
		c.rawQuery = r.URL.RawQuery // already canonical: no decoding, sorting or escaping
	} else {
		var err error
		if c.query, err = parseQuery(qbuf[:0], r.URL.RawQuery); err != nil {
			return signError("%w", err)
		}
	}

	now := s.now()
	k, err := s.signingKey(r, now)
	if err != nil {
		return err
	}

	// One pass over the header map: drop every spelling of the headers this
	// Signer writes, and collect the optional signed headers. Names of a
	// length no candidate has are skipped at once.
	var found [maxSigned]header
	optional := found[:0]
	for name, vs := range r.Header {
		l := len(name)
		if l < 64 && s.nameLens&(1<<l) == 0 {
			continue
		}
		if name == HeaderDate || name == HeaderAuthorization || (k.token != "" && name == HeaderSecurityToken) {
			continue // overwritten below
		}
		if (l == len(HeaderDate) && strings.EqualFold(name, HeaderDate)) ||
			(l == len(HeaderAuthorization) && strings.EqualFold(name, HeaderAuthorization)) ||
			(k.token != "" && l == len(HeaderSecurityToken) && strings.EqualFold(name, HeaderSecurityToken)) {
			delete(r.Header, name) // a non-canonical spelling Go would send as well
			continue
		}
		for _, cand := range s.candidates {
			if len(cand) != l || !strings.EqualFold(name, cand) || len(vs) == 0 {
				continue
			}
			if len(vs) > 1 {
				return signError("header %s is sent %d times; a signed header must be sent once", cand, len(vs))
			}
			for _, h := range optional {
				if h.name == cand {
					return signError("header %s is sent twice under different spellings", cand)
				}
			}
			if err := checkHeaderValue(vs[0]); err != nil {
				return signError("header %s: %w", cand, err)
			}
			optional = append(optional, header{cand, vs[0]})
		}
	}

	date := s.dateText(now)
	if k.token != "" {
		optional = append(optional, header{"x-security-token", k.token})
	}

	// host and x-sdk-date are always signed; order all names bytewise.
	headers := append(optional, header{"host", host}, header{"x-sdk-date", date})
	for i := 1; i < len(headers); i++ {
		for j := i; j > 0 && headers[j].name < headers[j-1].name; j-- {
			headers[j], headers[j-1] = headers[j-1], headers[j]
		}
	}
	c.headers = headers

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
		appendHex32(hexSum[:0], &sum)
		payload = hexSum[:]
	}

	st := k.states.Get().(*signState)
	buf, l := c.appendStringToSign(st.buf[:0], payload, date)
	buf = appendMAC(buf, st.mac, buf[l.stsStart:l.stsEnd])
	sigStart := len(buf) - sha256.Size

	// The Authorization value is the one string this signature allocates;
	// the header values share one array.
	authStart := len(buf)
	buf = append(buf, k.authPrefix...)
	buf = append(buf, buf[l.signedStart:l.signedEnd]...)
	buf = append(buf, ", Signature="...)
	buf = appendHex32(buf, (*[sha256.Size]byte)(buf[sigStart:authStart]))
	authz := string(buf[authStart:])
	if k.token != "" {
		vals := new([3]string)
		vals[0], vals[1], vals[2] = date, authz, k.token
		r.Header[HeaderDate], r.Header[HeaderAuthorization], r.Header[HeaderSecurityToken] = vals[0:1:1], vals[1:2:2], vals[2:3:3]
	} else {
		vals := new([2]string)
		vals[0], vals[1] = date, authz
		r.Header[HeaderDate], r.Header[HeaderAuthorization] = vals[0:1:1], vals[1:2:2]
	}

	if s.debug != nil {
		s.debug(Debug{
			CanonicalRequest: redact(string(buf[:l.crEnd]), k.token),
			StringToSign:     string(buf[l.stsStart:l.stsEnd]),
			SignedHeaders:    string(buf[l.signedStart:l.signedEnd]),
		})
	}
	if cap(buf) <= 64<<10 {
		st.buf = buf
		k.states.Put(st)
	}
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

// okValue and okHost mark the bytes checkHeaderValue and checkHost accept.
var okValue, okHost = func() (v, h [256]bool) {
	for c := range 256 {
		v[c] = (c >= 0x20 || c == '\t') && c != 0x7f
		h[c] = c > 0x20 && c < 0x7f && c != '/' && c != '%' && c != '?' && c != '#' && c != '@'
	}
	return v, h
}()

// checkHeaderValue refuses values the wire cannot carry unchanged.
func checkHeaderValue(v string) error {
	if safePrefix(v, &okValue) != len(v) {
		return errors.New("value contains a control character")
	}
	return nil
}

// checkHost refuses hosts that Go's client would rewrite before sending
// (non-ASCII names are converted to punycode, zones and junk are cut).
func checkHost(h string) error {
	if safePrefix(h, &okHost) != len(h) {
		return errors.New("host contains characters that are rewritten on the wire; use its ASCII (punycode) form")
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
