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
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/isvkit/koogallery/auth"
)

// RetryPolicy bounds how a call is retried. Only what is safe is retried:
// a failure before the request was sent (connection refused, host not
// found), KooGallery's answer that it throttled the request without running
// it (HTTP 429, and 406 with MKT.0250/CBC.0250), and, for idempotent
// requests only (GET, or marked with Idempotent), any other connection
// failure and HTTP 5xx (not 501, and not when the body carries a result
// code that says the request itself is wrong). A signature failure
// (APIGW.0301) is never retried: five in a row lock the AK for five
// minutes.
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

// Attempt describes one attempt of a call, for metrics and tracing: the
// hook of WithAttemptHook receives one per attempt, after it ends.
type Attempt struct {
	// Method and Path identify the call (never the query).
	Method, Path string
	// Attempt counts from 1.
	Attempt int
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Code is the result code of an error response (non-2xx); success
	// bodies are not read here.
	Code string
	// RequestID is the gateway's X-Request-Id.
	RequestID string
	// Err is the transport failure when no response arrived, stripped of
	// the URL.
	Err error
	// Duration is from sending to the response's header or the failure.
	Duration time.Duration
	// Retry reports that another attempt follows, after Wait.
	Retry bool
	Wait  time.Duration
}

// WithAttemptHook calls fn after every attempt, with the call's context,
// so that a seller can count attempts, statuses, result codes and waits in
// Prometheus or OpenTelemetry without this SDK importing either. fn runs
// on the calling goroutine: keep it fast.
func WithAttemptHook(fn func(ctx context.Context, a Attempt)) Option {
	return func(c *config) error {
		c.hook = fn
		return nil
	}
}

// retryTransport runs each request through go-retryablehttp with a per-call
// policy. The signer sits below it, so every attempt is signed afresh.
type retryTransport struct {
	base      *url.URL // the endpoint, whose path prefix errors and logs leave out
	inner     *http.Client
	policy    RetryPolicy
	logger    *slog.Logger
	userAgent string
	hook      func(context.Context, Attempt)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	method, path := req.Method, ""
	if method == "" {
		method = http.MethodGet
	}
	if req.URL == nil {
		closeBody(req)
		return nil, &RequestError{Method: method, Err: errors.New("request has no URL")}
	}
	path = t.apiPath(req.URL)
	if err := checkScheme(req.URL); err != nil {
		closeBody(req)
		return nil, &RequestError{Method: method, Path: path, Err: err}
	}

	// Never modify the caller's request: a copy with its own header map
	// only when the User-Agent must be added (NewRequest sets it), a copy
	// for the call's context when it needs one, else the request as it is.
	r := req
	if len(req.Header["User-Agent"]) == 0 {
		r = new(http.Request)
		*r = *req
		r.Header = req.Header.Clone()
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		r.Header["User-Agent"] = []string{t.userAgent}
	}

	// The call's bound: MaxElapsed, unless the context ends sooner anyway
	// (then no timer is needed).
	ctx := r.Context()
	cancel, noCancel := context.CancelFunc(noop), true
	if t.policy.MaxElapsed > 0 {
		if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > t.policy.MaxElapsed {
			ctx, cancel = context.WithTimeout(ctx, t.policy.MaxElapsed)
			r, noCancel = r.WithContext(ctx), false
		}
	}

	// The state stays on the stack unless a retry is due.
	st := callState{policy: t.policy, logger: t.logger, hook: t.hook, method: method, path: path,
		idempotent: isIdempotent(r), noCancel: noCancel}
	if dl, ok := ctx.Deadline(); ok {
		st.deadline = dl
	}

	// The first attempt goes straight to the signed transport, classified
	// by the same checkRetry; go-retryablehttp takes over only when a retry
	// is due, so a call that succeeds pays nothing for the retry machinery.
	st.logAttempt(nil, r, 0)
	resp, err := t.send(r)
	if r.Body != nil && r.Body != http.NoBody && r.GetBody == nil {
		// A body that cannot be replayed is sent once: it is streamed, not
		// buffered (large uploads use X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD).
		st.attempts = 1
		st.observe(ctx, resp, err, "", false, 0)
		return st.finish(ctx, resp, err, cancel)
	}
	retry, ctxErr := st.checkRetry(ctx, resp, err)
	if ctxErr != nil {
		err = ctxErr
	}
	if !retry {
		return st.finish(ctx, resp, err, cancel)
	}
	if resp != nil {
		drain(resp.Body)
	}
	return t.retry(ctx, r, st, cancel)
}

// retry makes the attempts after the first through go-retryablehttp.
func (t *retryTransport) retry(ctx context.Context, r *http.Request, state callState, cancel context.CancelFunc) (*http.Response, error) {
	st := &state
	if err := sleep(ctx, st.nextWait); err != nil {
		return st.finish(ctx, nil, err, cancel)
	}
	// go-retryablehttp sets the body of the request it is given: give it a
	// copy, r may be the caller's.
	cp := new(http.Request)
	*cp = *r
	r = cp
	rreq := &retryablehttp.Request{Request: r}
	if r.GetBody != nil {
		n := r.ContentLength
		getBody := r.GetBody
		if err := rreq.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return getBody() })); err != nil {
			return st.finish(ctx, nil, err, cancel)
		}
		r.ContentLength = n // SetBody cannot see the length through GetBody
	}
	rc := &retryablehttp.Client{
		HTTPClient:     t.inner,
		RetryMax:       t.policy.MaxAttempts - 2, // the first attempt was made
		RetryWaitMin:   t.policy.MinBackoff,
		RetryWaitMax:   t.policy.MaxBackoff,
		CheckRetry:     st.checkRetry,
		Backoff:        st.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: st.logAttempt,
	}
	resp, err := rc.Do(rreq)
	return st.finish(ctx, resp, err, cancel)
}

// send makes one attempt. Without a cookie jar or a per-attempt timeout
// (WithHTTPClient's Jar and Timeout) the http.Client adds nothing but a
// copy of the header and URL for redirects, which are never followed: the
// signed transport is called directly.
func (t *retryTransport) send(r *http.Request) (*http.Response, error) {
	if t.inner.Jar != nil || t.inner.Timeout > 0 {
		return t.inner.Do(r)
	}
	resp, err := t.inner.Transport.RoundTrip(r)
	if err == nil && resp == nil {
		err = errors.New("the transport returned neither a response nor an error")
	}
	return resp, err
}

// drain reads a little of a body that will not be used, so that the
// connection can be reused, and closes it.
func drain(body io.ReadCloser) {
	io.CopyN(io.Discard, body, 4096)
	body.Close()
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// apiPath names u's API for errors, logs and hooks; see the function.
func (t *retryTransport) apiPath(u *url.URL) string { return apiPath(t.base, u) }

// finish records the outcome for CaptureResponse and ties the call's
// context to the response body's life. When the context ended while the
// call waited to retry, the answer that made it wait is the outcome, so
// that what the server said (a throttling answer's Retry-After) is not
// lost; an answer whose body was too large to keep is not, and the call
// fails with the context's cause.
func (st *callState) finish(ctx context.Context, resp *http.Response, err error, cancel context.CancelFunc) (*http.Response, error) {
	if err != nil && resp == nil && st.waiting && st.last != nil && ctx.Err() != nil {
		resp, err = st.last.response(), nil
		st.logger.Debug("koogallery: the context ended before the retry; returning the last answer",
			"method", st.method, "path", st.path, "attempt", st.attempts, "status", resp.StatusCode)
	}
	st.waiting, st.last = false, nil
	if dst := capturedResponse(ctx); dst != nil {
		*dst = Response{Attempts: st.attempts}
		if resp != nil {
			dst.StatusCode, dst.Header, dst.RequestID = resp.StatusCode, resp.Header, resp.Header.Get("X-Request-Id")
		}
	}
	if err != nil || resp == nil {
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil {
			err = errors.New("no response")
		}
		re := requestError(ctx, st.method, st.path, err) // before cancel: it reads whether ctx ended
		cancel()
		return nil, re
	}
	if !st.noCancel {
		resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	}
	return resp, nil
}

func noop() {}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// closeBody honours the RoundTripper contract of closing the body on error.
func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// isIdempotent reports whether a request may be sent twice: GET, HEAD,
// OPTIONS and TRACE, one marked with Idempotent, or one carrying an
// Idempotency-Key or X-Idempotency-Key header (net/http's Transport has the
// same rule).
func isIdempotent(r *http.Request) bool {
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	if r.Context().Value(idempotentKey{}) != nil {
		return true
	}
	_, a := r.Header["Idempotency-Key"]
	_, b := r.Header["X-Idempotency-Key"]
	return a || b
}

// callState is the retry state of one call.
type callState struct {
	policy       RetryPolicy
	logger       *slog.Logger
	hook         func(context.Context, Attempt)
	method, path string
	idempotent   bool
	noCancel     bool // the call has no context of its own to cancel
	deadline     time.Time
	attempts     int
	nextWait     time.Duration
	start        time.Time // of the current attempt, when a hook wants it
	// waiting reports that the call is waiting to retry, no attempt in
	// flight; last is the answer that made it wait, when it was read in
	// full: the call's outcome if the context ends before the retry.
	waiting bool
	last    *answer
}

// answer is a response read in full, kept while the call waits to retry.
type answer struct {
	resp *http.Response // status, header and request; its body is spent
	body []byte
}

// response returns the answer as a response to read again.
func (a *answer) response() *http.Response {
	r := new(http.Response)
	*r = *a.resp
	r.Body = io.NopCloser(bytes.NewReader(a.body))
	r.ContentLength = int64(len(a.body))
	r.TransferEncoding = nil
	return r
}

func (st *callState) started() {
	if st.hook != nil {
		st.start = time.Now()
	}
}

func (st *callState) logAttempt(_ retryablehttp.Logger, r *http.Request, _ int) {
	st.waiting, st.last = false, nil
	st.started()
	if st.logger.Enabled(r.Context(), slog.LevelDebug) {
		st.logger.Debug("koogallery: request", "method", st.method, "path", st.path, "attempt", st.attempts+1)
	}
}

func (st *callState) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	return st.nextWait
}

// observe reports an attempt to the hook.
func (st *callState) observe(ctx context.Context, resp *http.Response, err error, code string, retry bool, wait time.Duration) {
	if st.hook == nil {
		return
	}
	a := Attempt{Method: st.method, Path: st.path, Attempt: st.attempts, Code: code, Retry: retry, Duration: time.Since(st.start)}
	if retry {
		a.Wait = wait
	}
	if resp != nil {
		a.StatusCode, a.RequestID = resp.StatusCode, resp.Header.Get("X-Request-Id")
		if code == "" && resp.StatusCode >= 300 {
			a.Code, _ = peekCode(resp)
		}
	} else if err != nil {
		a.Err = requestError(ctx, st.method, st.path, err).Err
	}
	st.hook(ctx, a)
}

// checkRetry decides whether to make another attempt, and how long to wait.
// Once the context has ended nothing is retried. An attempt that failed
// then fails with the context's cause; an attempt that got an answer
// returns that answer, even if the context ended as it arrived: it is what
// the server said (a throttling answer's Retry-After, a success), and Do
// decodes it when its body can still be read in full, else fails with the
// context's cause.
func (st *callState) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st.attempts++
	if ctx.Err() != nil {
		st.observe(ctx, resp, err, "", false, 0)
		if err == nil && resp != nil {
			return false, nil
		}
		return false, context.Cause(ctx)
	}
	retry, code, wait := st.decide(resp, err)
	if !retry && st.hook == nil && !st.logger.Enabled(ctx, slog.LevelDebug) {
		return false, nil // the common case: an answer to return, nothing to log
	}
	attrs := []any{"method", st.method, "path", st.path, "attempt", st.attempts}
	if resp != nil {
		attrs = append(attrs, "status", resp.StatusCode, "request_id", resp.Header.Get("X-Request-Id"))
		if code != "" {
			attrs = append(attrs, "code", code)
		}
	} else if err != nil {
		attrs = append(attrs, "error", requestError(ctx, st.method, st.path, err).Err.Error())
	}
	switch {
	case !retry:
		st.logger.Debug("koogallery: response", attrs...)
	case st.attempts >= st.policy.MaxAttempts:
		retry = false
		st.logger.Warn("koogallery: giving up after the last attempt", attrs...)
	case !st.deadline.IsZero() && time.Now().Add(wait).After(st.deadline):
		retry = false
		st.logger.Warn("koogallery: giving up: the next attempt would pass the deadline", attrs...)
	default:
		st.nextWait = wait
		st.waiting, st.last = true, nil
		if resp != nil {
			if body, complete, err := peekBody(resp); complete && err == nil {
				st.last = &answer{resp: resp, body: body}
			}
		}
		st.logger.Info("koogallery: retrying", append(attrs, "wait", wait)...)
	}
	st.observe(ctx, resp, err, code, retry, wait)
	return retry, nil
}

// decide classifies one attempt's outcome. What may have reached the server
// is retried only when the request is idempotent; a throttling answer says
// the request was refused without running, so it is retried whatever the
// method.
func (st *callState) decide(resp *http.Response, err error) (retry bool, code string, wait time.Duration) {
	if err != nil {
		switch {
		case !retryableError(err):
			return false, "", 0
		case notSent(err), st.idempotent:
			return true, "", st.jitter()
		}
		return false, "", 0
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
		retry = c == ErrThrottled || (st.idempotent && (c == nil || c == ErrServer))
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

// notSent reports failures that happened before the request could reach
// the server: credentials that could not be obtained, and what unreachable
// reports.
func notSent(err error) bool {
	return errors.Is(err, auth.ErrCredentials) || unreachable(err)
}

// peekLimit bounds what peekCode and peekBody read of a body.
const peekLimit = 64 << 10

// peekCode reads the result code from at most 64 KiB of the body and puts
// the bytes back, so the body can still be read in full.
func peekCode(resp *http.Response) (string, error) {
	head, err := io.ReadAll(io.LimitReader(resp.Body, peekLimit))
	putBack(resp, head)
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

// peekBody reads at most 64 KiB and one byte of the body and puts them
// back; complete reports that this was the whole body.
func peekBody(resp *http.Response) (body []byte, complete bool, err error) {
	body, err = io.ReadAll(io.LimitReader(resp.Body, peekLimit+1))
	putBack(resp, body)
	return body, err == nil && len(body) <= peekLimit, err
}

// putBack puts bytes read from the start of resp's body back in front of
// the rest.
func putBack(resp *http.Response, head []byte) {
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
}
