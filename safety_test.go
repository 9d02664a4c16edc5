package koogallery_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// recordingTransport answers every request with 200 and records what it
// was asked to send.
type recordingTransport struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.reqs = append(rt.reqs, r)
	rt.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{}`)), Request: r}, nil
}

func (rt *recordingTransport) count() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.reqs)
}

// TestHTTPClientRefusesPlainHTTPOffLoopback: a signature sent in clear can
// be replayed for 15 minutes, so HTTPClient refuses what WithEndpoint
// refuses, before signing.
func TestHTTPClientRefusesPlainHTTPOffLoopback(t *testing.T) {
	t.Parallel()
	rt := &recordingTransport{}
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)
	for _, u := range []string{"http://192.0.2.2:8080/x?secret=1", "http://mkt.myhuaweicloud.com/x", "ftp://127.0.0.1/x"} {
		resp, err := kg.HTTPClient().Get(u)
		if resp != nil {
			resp.Body.Close()
		}
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "https", u)
		var re *koogallery.RequestError
		assert.ErrorAs(t, err, &re, u)
	}
	assert.Zero(t, rt.count(), "nothing was signed or sent")
	for _, u := range []string{"http://127.0.0.1:1/x", "http://localhost:1/x", "http://[::1]:1/x", "https://192.0.2.2/x"} {
		resp, err := kg.HTTPClient().Get(u)
		require.NoError(t, err, u)
		resp.Body.Close()
	}
	assert.Equal(t, 4, rt.count())
}

// TestHTTPClientErrorsNameTheCallOnce: our layer reports method and path,
// never the URL again and never the query.
func TestHTTPClientErrorsNameTheCallOnce(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	l.Close()
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint("http://"+dead),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = kg.HTTPClient().Get("http://" + dead + "/x/y?orderId=SECRET")
	require.Error(t, err)
	var re *koogallery.RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "koogallery: GET /x/y: ", re.Error()[:len("koogallery: GET /x/y: ")])
	assert.NotContains(t, re.Error(), "SECRET")
	assert.NotContains(t, re.Error(), dead+"/x/y", "the URL is not repeated")
	// net/http's own *url.Error around it quotes the URL once; nothing
	// of ours adds a second copy.
	assert.Equal(t, 1, strings.Count(err.Error(), "/x/y?"), err.Error())

	req, err := kg.NewRequest(context.Background(), http.MethodGet, "/x/y", struct {
		ID string `url:"orderId"`
	}{"SECRET"}, nil)
	require.NoError(t, err)
	err = kg.Do(context.Background(), req, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Equal(t, 1, strings.Count(err.Error(), "/x/y"), err.Error())
}

// TestHTTPClientReturnsACopy: changing the returned client changes
// nothing for the SDK.
func TestHTTPClientReturnsACopy(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	hc := kg.HTTPClient()
	hc.Transport = nil
	hc.Timeout = time.Nanosecond
	assert.NotSame(t, hc, kg.HTTPClient())
	assert.NotNil(t, kg.HTTPClient().Transport)
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	assert.NoError(t, err)
	resp, err := kg.HTTPClient().Get(fake.URL + order.QueryPath + "?orderId=MOCKONDEMAND")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

// TestRetryAfterSaturates: a Retry-After too large for a time.Duration
// saturates instead of wrapping into a short wait, and any wait beyond
// MaxBackoff stops the retries.
func TestRetryAfterSaturates(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		value    string
		attempts int
		stops    bool
	}{
		{"18446744074", 1, true},             // ×1e9 overflows int64 into about 290 ms
		{"99999999999999999999999", 1, true}, // beyond int64 altogether
		{"Fri, 31 Dec 9999 23:59:59 GMT", 1, true},
		{"120", 1, true},
		{"-5", 4, false}, // meaningless: the usual backoff
		{"soon", 4, false},
		{"Mon, 02 Jan 2006 15:04:05 GMT", 4, false}, // in the past
		{"1.5", 4, false},
	} {
		fake, kg := newFake(t)
		f := koogallerytest.Unavailable()
		f.RetryAfter, f.Times = c.value, 10
		fake.Inject(f)
		_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
		require.Error(t, err)
		var ae *koogallery.APIError
		require.ErrorAs(t, err, &ae)
		assert.Len(t, fake.Requests(), c.attempts, c.value)
		if c.stops {
			assert.Greater(t, ae.RetryAfter, fastRetries.MaxBackoff, c.value)
		} else {
			assert.Zero(t, ae.RetryAfter, c.value)
		}
	}
}

// TestRedactsTokenInAnySpelling: the gateway may echo the canonical
// request with the token in any case.
func TestRedactsTokenInAnySpelling(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"x-security-token", "X-Security-Token", "X-SECURITY-TOKEN", "x-Security-token"} {
		fake, kg := newFake(t)
		fake.Inject(koogallerytest.Fault{Status: 401, Code: "APIGW.0303",
			Message: "verify signature fail, canonicalRequest:GET|/x/||host:h|" + key + ":SECRET-TOKEN|x-sdk-date:d||" + key + ":SECRET-TOKEN"})
		_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRET-TOKEN", key)
		assert.Contains(t, err.Error(), key+":<redacted>|x-sdk-date:d", key)
		var ae *koogallery.APIError
		require.ErrorAs(t, err, &ae)
		assert.NotContains(t, string(ae.Body), "SECRET-TOKEN", "the kept body is redacted too")
	}
}

// flakyTransport fails the first n requests with err (after reading the
// body, as a transport that sent it would), then answers 200.
type flakyTransport struct {
	n     atomic.Int32
	err   error
	calls atomic.Int32
}

func (f *flakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if f.n.Add(-1) >= 0 {
		return nil, f.err
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"error_code":"MKT.0000"}`)), Request: r}, nil
}

// TestRetriesRespectIdempotency: a request that may have reached the
// server is repeated only when repeating it is safe.
func TestRetriesRespectIdempotency(t *testing.T) {
	t.Parallel()
	newKG := func(t *testing.T, rt http.RoundTripper) *koogallery.Client {
		kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint("https://mkt.example.com"),
			koogallery.WithHTTPClient(&http.Client{Transport: rt}), koogallery.WithRetryPolicy(fastRetries))
		require.NoError(t, err)
		return kg
	}
	post := func(kg *koogallery.Client, opts ...koogallery.RequestOption) error {
		req, err := kg.NewRequest(context.Background(), http.MethodPost, "/p", nil, []byte(`{"a":1}`), opts...)
		if err != nil {
			return err
		}
		return kg.Do(context.Background(), req, nil)
	}
	get := func(kg *koogallery.Client) error {
		req, err := kg.NewRequest(context.Background(), http.MethodGet, "/p", nil, nil)
		if err != nil {
			return err
		}
		return kg.Do(context.Background(), req, nil)
	}
	maybeSent := errors.New("connection reset by peer")
	notSent := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}

	t.Run("POST after a failure that may have reached the server", func(t *testing.T) {
		t.Parallel()
		ft := &flakyTransport{err: maybeSent}
		ft.n.Store(1)
		require.Error(t, post(newKG(t, ft)))
		assert.EqualValues(t, 1, ft.calls.Load(), "not repeated")
	})
	t.Run("POST marked idempotent", func(t *testing.T) {
		t.Parallel()
		ft := &flakyTransport{err: maybeSent}
		ft.n.Store(1)
		require.NoError(t, post(newKG(t, ft), koogallery.Idempotent()))
		assert.EqualValues(t, 2, ft.calls.Load())
	})
	t.Run("POST refused before sending", func(t *testing.T) {
		t.Parallel()
		ft := &flakyTransport{err: notSent}
		ft.n.Store(2)
		require.NoError(t, post(newKG(t, ft)), "a refused connection never carried the request")
		assert.EqualValues(t, 3, ft.calls.Load())
	})
	t.Run("GET", func(t *testing.T) {
		t.Parallel()
		ft := &flakyTransport{err: maybeSent}
		ft.n.Store(2)
		require.NoError(t, get(newKG(t, ft)))
		assert.EqualValues(t, 3, ft.calls.Load())
	})

	// Answers from a server.
	for _, c := range []struct {
		name     string
		fault    koogallerytest.Fault
		opts     []koogallery.RequestOption
		attempts int
	}{
		{"POST 503", koogallerytest.Unavailable(), nil, 1},
		{"POST 503 idempotent", koogallerytest.Unavailable(), []koogallery.RequestOption{koogallery.Idempotent()}, 4},
		{"POST 502 HTML", koogallerytest.HTMLPage(502), nil, 1},
		// A throttling answer refused the request without running it.
		{"POST throttled", koogallerytest.Throttled(), nil, 4},
		{"POST 429", koogallerytest.Fault{Status: 429, Code: "APIG.0308", Message: "The throttling threshold has been reached."}, nil, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake, kg := newFake(t)
			f := c.fault
			f.Times = 100
			fake.Inject(f)
			req, err := kg.NewRequest(context.Background(), http.MethodPost, "/api/mkp-openapi-public/global/v1/license/activate", nil,
				map[string]string{"license": "PL1"}, c.opts...)
			require.NoError(t, err)
			require.Error(t, kg.Do(context.Background(), req, nil))
			assert.Len(t, fake.Requests(), c.attempts)
		})
	}

	// net/http's own convention marks a request built by hand.
	t.Run("Idempotency-Key header", func(t *testing.T) {
		t.Parallel()
		fake, kg := newFake(t)
		f := koogallerytest.Unavailable()
		f.Times = 100
		fake.Inject(f)
		req, err := http.NewRequest(http.MethodPost, fake.URL+"/api/x", strings.NewReader(`{}`))
		require.NoError(t, err)
		req.Header["X-Idempotency-Key"] = nil // treated as idempotent, never sent
		resp, err := kg.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		reqs := fake.Requests()
		require.Len(t, reqs, 4)
		assert.NotContains(t, reqs[0].Header, "X-Idempotency-Key")
	})
}

// TestNewRequestRefusesPathsThatLeaveTheAPI: every path is checked where
// every call is built.
func TestNewRequestRefusesPathsThatLeaveTheAPI(t *testing.T) {
	t.Parallel()
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint("https://mkt.example.com/base"))
	require.NoError(t, err)
	for _, p := range []string{"", "x", "../x", "/a/../b", "/a/..", "/a/./b", "/.", "/a//b", `/a\b`, "/a\x00b", "/a\nb", "/%2e%2e/x", "/a/%2E"} {
		_, err := kg.NewRequest(context.Background(), http.MethodGet, p, nil, nil)
		require.Error(t, err, "%q", p)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest, "%q", p)
	}
	req, err := kg.NewRequest(context.Background(), http.MethodGet, "/api/a.b/c-d_e~f/ev 1?x=#%25é/...", nil, nil)
	require.NoError(t, err, "other characters are escaped on the wire")
	assert.Equal(t, "/base/api/a.b/c-d_e~f/ev 1?x=#%25é/...", req.URL.Path)
	assert.Equal(t, "/base/api/a.b/c-d_e~f/ev%201%3Fx=%23%2525%C3%A9/...", req.URL.EscapedPath())
}

// TestDoEndsWithEitherContext: the request's own context is honoured, not
// overridden by the argument, and the other way round.
func TestDoEndsWithEitherContext(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Hang(); f.Times = 10; return f }())
	build := func(ctx context.Context) *http.Request {
		req, err := kg.NewRequest(ctx, http.MethodGet, order.QueryPath, struct {
			ID string `url:"orderId"`
		}{"MOCKONDEMAND"}, nil)
		require.NoError(t, err)
		return req
	}
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	for name, c := range map[string]struct{ arg, req context.Context }{
		"the request's context ends":  {context.Background(), short()},
		"the argument's context ends": {short(), context.Background()},
	} {
		start := time.Now()
		err := kg.Do(c.arg, build(c.req), nil)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, context.DeadlineExceeded, name)
		assert.Less(t, time.Since(start), 5*time.Second, name)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	err := kg.Do(context.Background(), build(canceled), nil)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestDefaultLoggerIsSlogDefault: the client logs where the handlers log.
func TestDefaultLoggerIsSlogDefault(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	prev := slog.Default()
	t.Cleanup(func() { slog.SetDefault(prev) })
	slog.SetDefault(slog.New(slog.NewTextHandler(lockedWriter{&buf, &mu}, nil)))

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint(srv.URL),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	require.NoError(t, err)
	req, err := kg.NewRequest(context.Background(), http.MethodGet, "/p", nil, nil)
	require.NoError(t, err)
	require.Error(t, kg.Do(context.Background(), req, nil))
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, buf.String(), "koogallery: retrying")
}
