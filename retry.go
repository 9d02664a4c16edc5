package koogallery

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/isvkit/koogallery/auth"
)

// RetryPolicy bounds how a call is retried. Only what is safe is retried:
// connection errors, HTTP 5xx (not 501, and not when the body carries a
// result code that says the request itself is wrong), 429, and KooGallery's
// throttling (HTTP 406 with MKT.0250/CBC.0250). A signature failure
// (APIGW.0301) is never retried: five in a row lock the AK for five minutes.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts including the first; 1 turns
	// retries off.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the jittered exponential wait between
	// attempts. A Retry-After longer than MaxBackoff ends the retries (the
	// error carries it in APIError.RetryAfter).
	MinBackoff, MaxBackoff time.Duration
	// MaxElapsed bounds the whole call, all attempts and waits, unless the
	// context ends sooner; 0 leaves it to the context. A retry whose wait
	// would cross the bound is not made, so the last answer is returned.
	MaxElapsed time.Duration
}

// DefaultRetryPolicy returns 4 attempts, waits from 200 ms to 5 s, and 45 s
// in all.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: 45 * time.Second}
}

// retryTransport runs each request through go-retryablehttp with a per-call
// policy. The signer sits below it, so every attempt is signed afresh.
type retryTransport struct {
	inner     *http.Client
	policy    RetryPolicy
	logger    *slog.Logger
	userAgent string
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Never modify the caller's request: work on a copy, with its own header
	// map only when the User-Agent must be added (NewRequest sets it).
	r := new(http.Request)
	*r = *req
	if len(req.Header["User-Agent"]) == 0 {
		r.Header = req.Header.Clone()
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		r.Header["User-Agent"] = []string{t.userAgent}
	}

	ctx := r.Context()
	cancel := context.CancelFunc(func() {})
	if t.policy.MaxElapsed > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.policy.MaxElapsed)
		r = r.WithContext(ctx)
	}

	// A body that cannot be replayed is sent once: it is streamed, not
	// buffered (large uploads use X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD).
	if r.Body != nil && r.Body != http.NoBody && r.GetBody == nil {
		resp, err := t.inner.Do(r)
		return cancelOnClose(resp, err, cancel)
	}

	st := &callState{policy: t.policy, logger: t.logger, method: r.Method, path: r.URL.Path}
	if dl, ok := ctx.Deadline(); ok {
		st.deadline = dl
	}
	rreq := &retryablehttp.Request{Request: r}
	if r.GetBody != nil {
		n := r.ContentLength
		getBody := r.GetBody
		if err := rreq.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return getBody() })); err != nil {
			cancel()
			return nil, err
		}
		r.ContentLength = n // SetBody cannot see the length through GetBody
	}
	rc := &retryablehttp.Client{
		HTTPClient:     t.inner,
		RetryMax:       t.policy.MaxAttempts - 1,
		RetryWaitMin:   t.policy.MinBackoff,
		RetryWaitMax:   t.policy.MaxBackoff,
		CheckRetry:     st.checkRetry,
		Backoff:        st.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: st.logAttempt,
	}
	resp, err := rc.Do(rreq)
	return cancelOnClose(resp, err, cancel)
}

// cancelOnClose ties the per-call context to the response body's life.
func cancelOnClose(resp *http.Response, err error, cancel context.CancelFunc) (*http.Response, error) {
	if err != nil || resp == nil {
		cancel()
		if err == nil {
			err = errors.New("no response")
		}
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// callState is the retry state of one call.
type callState struct {
	policy       RetryPolicy
	logger       *slog.Logger
	method, path string
	deadline     time.Time
	attempts     int
	nextWait     time.Duration
}

func (st *callState) logAttempt(_ retryablehttp.Logger, r *http.Request, n int) {
	if st.logger.Enabled(r.Context(), slog.LevelDebug) {
		st.logger.Debug("koogallery: request", "method", st.method, "path", st.path, "attempt", n+1)
	}
}

func (st *callState) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	return st.nextWait
}

// checkRetry decides whether to make another attempt, and how long to wait.
func (st *callState) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st.attempts++
	if ctxErr := ctx.Err(); ctxErr != nil {
		return false, ctxErr
	}
	retry, code, wait := st.decide(resp, err)
	if !retry && !st.logger.Enabled(ctx, slog.LevelDebug) {
		return false, nil // the common case: an answer to return, nothing to log
	}
	attrs := []any{"method", st.method, "path", st.path, "attempt", st.attempts}
	if resp != nil {
		attrs = append(attrs, "status", resp.StatusCode, "request_id", resp.Header.Get("X-Request-Id"))
		if code != "" {
			attrs = append(attrs, "code", code)
		}
	} else if err != nil {
		attrs = append(attrs, "error", transportError(ctx, st.method, st.path, err).(*RequestError).Err.Error())
	}
	if !retry {
		st.logger.Debug("koogallery: response", attrs...)
		return false, nil
	}
	if st.attempts >= st.policy.MaxAttempts {
		st.logger.Warn("koogallery: giving up after the last attempt", attrs...)
		return false, nil
	}
	if !st.deadline.IsZero() && time.Now().Add(wait).After(st.deadline) {
		st.logger.Warn("koogallery: giving up: the next attempt would pass the deadline", attrs...)
		return false, nil
	}
	st.nextWait = wait
	st.logger.Info("koogallery: retrying", append(attrs, "wait", wait)...)
	return true, nil
}

// decide classifies one attempt's outcome.
func (st *callState) decide(resp *http.Response, err error) (retry bool, code string, wait time.Duration) {
	if err != nil {
		return retryableError(err), "", st.jitter()
	}
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		code, _ = peekCode(resp)
		retry = true
	case s == http.StatusNotAcceptable:
		code, _ = peekCode(resp)
		retry = classifyCode(code, s) == ErrThrottled
	case s >= 500 && s != http.StatusNotImplemented:
		code, _ = peekCode(resp)
		c := classifyCode(code, s)
		retry = c == nil || c == ErrServer || c == ErrThrottled
	}
	if !retry {
		return false, code, 0
	}
	if ra := retryAfter(resp.Header, time.Now()); ra > 0 {
		if ra > st.policy.MaxBackoff {
			return false, code, 0 // the server wants longer than we wait; report it
		}
		return true, code, ra
	}
	return true, code, st.jitter()
}

// jitter returns an exponential backoff with equal jitter for the next wait.
func (st *callState) jitter() time.Duration {
	d := st.policy.MinBackoff
	for i := 1; i < st.attempts && d < st.policy.MaxBackoff; i++ {
		d *= 2
	}
	if d > st.policy.MaxBackoff {
		d = st.policy.MaxBackoff
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// retryableError reports whether a transport error may succeed on retry.
func retryableError(err error) bool {
	if errors.Is(err, auth.ErrSign) || errors.Is(err, context.Canceled) {
		return false
	}
	var (
		unknownAuthority x509.UnknownAuthorityError
		hostname         x509.HostnameError
		invalid          x509.CertificateInvalidError
		verify           *tls.CertificateVerificationError
		recordHeader     tls.RecordHeaderError
	)
	if errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &recordHeader) {
		return false // a certificate problem or an http server on an https port: retrying won't help
	}
	return true
}

// peekCode reads the result code from at most 64 KiB of the body and puts
// the bytes back, so the body can still be read in full.
func peekCode(resp *http.Response) (string, error) {
	head, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err != nil {
		return "", err
	}
	var env Result
	if json.Unmarshal(head, &env) != nil {
		return "", nil
	}
	code, _ := env.Code()
	return code, nil
}

// retryAfter parses Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// fallbackTransport sends requests for the primary host to the fallback
// host when the primary cannot be reached (DNS or connection failure, so
// the request was never sent), re-signing for the new host because the
// signer sits below. After a failure it prefers the fallback for a minute.
type fallbackTransport struct {
	next              http.RoundTripper
	primary, fallback string
	logger            *slog.Logger
	preferUntil       atomic.Int64 // unix nanoseconds
}

const fallbackStickiness = time.Minute

func (t *fallbackTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.primary || (req.Host != "" && req.Host != t.primary) {
		return t.next.RoundTrip(req)
	}
	hosts := [2]string{t.primary, t.fallback}
	if time.Now().UnixNano() < t.preferUntil.Load() {
		hosts = [2]string{t.fallback, t.primary}
	}
	var lastErr error
	for i, host := range hosts {
		r := req
		if host != req.URL.Host || i > 0 {
			if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
				break // cannot replay the body on the other host
			}
			r = req.Clone(req.Context())
			r.URL.Host, r.Host = host, ""
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if err == nil || !unreachable(err) {
			return resp, err
		}
		lastErr = err
		if host == t.primary {
			t.preferUntil.Store(time.Now().Add(fallbackStickiness).UnixNano())
			t.logger.Warn("koogallery: primary host unreachable, trying the fallback", "primary", t.primary, "fallback", t.fallback)
		}
	}
	return nil, lastErr
}

// unreachable reports errors that mean the request never left: DNS failures
// and refused or failed connections.
func unreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}
