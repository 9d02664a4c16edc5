package koogallery_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
)

// cancelAtAnswer is a transport that, once armed, reads the whole answer
// and then cancels the call's context before handing the answer on: the
// context ends just as a complete answer has arrived, deterministically.
// With cut set it hands on only the first half of the body, followed by the
// context's error, as a body cut short by the cancellation reads.
type cancelAtAnswer struct {
	inner  http.RoundTripper
	cancel context.CancelFunc
	cut    bool
	armed  atomic.Bool
}

func (c *cancelAtAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.inner.RoundTrip(r)
	if err != nil || !c.armed.CompareAndSwap(true, false) {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	c.cancel()
	if c.cut {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(data[:len(data)/2]), errReader{context.Canceled}))
	} else {
		resp.Body = io.NopCloser(bytes.NewReader(data))
	}
	return resp, nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// answerServer answers every request with status, header and body, and
// counts them.
func answerServer(t *testing.T, status int, header http.Header, body string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// patientRetries would retry a throttled or failed call after up to 5 s:
// long enough that a Retry-After of 1 s is honoured by retrying.
var patientRetries = koogallery.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Second, MaxElapsed: time.Minute}

func clientWith(t *testing.T, srv *httptest.Server, rt http.RoundTripper) *koogallery.Client {
	t.Helper()
	kg, err := koogallery.NewClient(koogallery.WithEndpoint(srv.URL), koogallery.WithCredentials("ak", "sk"),
		koogallery.WithHTTPClient(&http.Client{Transport: rt}), koogallery.WithRetryPolicy(patientRetries),
		koogallery.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	return kg
}

// TestAnswerThatArrivedWinsOverTheContext: a call whose answer was read
// completely returns that answer, even when its context ended as the
// answer arrived, and is not retried after the context ended.
func TestAnswerThatArrivedWinsOverTheContext(t *testing.T) {
	t.Parallel()
	type payload struct {
		koogallery.Result
		Value string `json:"value"`
	}
	cases := []struct {
		name   string
		method string
		status int
		header http.Header
		body   string
		check  func(t *testing.T, err error, v *payload)
	}{
		{"throttled with Retry-After", http.MethodPost, http.StatusNotAcceptable, http.Header{"Retry-After": {"1"}},
			`{"error_code":"MKT.0250","error_msg":"Access frequency overlimit"}`,
			func(t *testing.T, err error, _ *payload) {
				var apiErr *koogallery.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, "MKT.0250", apiErr.Code)
				assert.Equal(t, time.Second, apiErr.RetryAfter)
				assert.ErrorIs(t, err, koogallery.ErrThrottled)
				assert.NotErrorIs(t, err, context.Canceled)
			}},
		{"success", http.MethodPost, http.StatusOK, nil, `{"error_code":"MKT.0000","error_msg":"success","value":"v"}`,
			func(t *testing.T, err error, v *payload) {
				require.NoError(t, err)
				assert.Equal(t, "v", v.Value)
			}},
		{"server error of an idempotent call", http.MethodGet, http.StatusServiceUnavailable, nil,
			`{"error_code":"APIGW.0201","error_msg":"Backend unavailable"}`,
			func(t *testing.T, err error, _ *payload) {
				var apiErr *koogallery.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
				assert.NotErrorIs(t, err, context.Canceled)
			}},
		{"refusal", http.MethodPost, http.StatusBadRequest, nil, `{"error_code":"MKT.0101","error_msg":"Invalid parameter"}`,
			func(t *testing.T, err error, _ *payload) {
				assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
				assert.NotErrorIs(t, err, context.Canceled)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv, hits := answerServer(t, c.status, c.header, c.body)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rt := &cancelAtAnswer{inner: http.DefaultTransport, cancel: cancel}
			rt.armed.Store(true)
			kg := clientWith(t, srv, rt)
			req, err := kg.NewRequest(ctx, c.method, "/api/x", nil, nil)
			require.NoError(t, err)
			var resp koogallery.Response
			var v payload
			err = kg.Do(koogallery.CaptureResponse(ctx, &resp), req, &v)
			require.Error(t, ctx.Err(), "the context ended")
			c.check(t, err, &v)
			assert.Equal(t, int32(1), hits.Load(), "not retried after the context ended")
			assert.Equal(t, c.status, resp.StatusCode)
			assert.Equal(t, 1, resp.Attempts)
		})
	}
}

// TestAnswerCutShortByTheContextIsTheContextsError: an answer whose body
// could not be read in full because the context ended is no answer: the
// call fails with the context's error.
func TestAnswerCutShortByTheContextIsTheContextsError(t *testing.T) {
	t.Parallel()
	srv, hits := answerServer(t, http.StatusOK, nil, `{"error_code":"MKT.0000","error_msg":"success","value":"a value long enough to cut"}`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rt := &cancelAtAnswer{inner: http.DefaultTransport, cancel: cancel, cut: true}
	rt.armed.Store(true)
	kg := clientWith(t, srv, rt)
	req, err := kg.NewRequest(ctx, http.MethodPost, "/api/x", nil, nil)
	require.NoError(t, err)
	err = kg.Do(ctx, req, nil)
	assert.ErrorIs(t, err, context.Canceled)
	var re *koogallery.RequestError
	assert.ErrorAs(t, err, &re)
	assert.Equal(t, int32(1), hits.Load())
}

// TestContextEndedBeforeTheAnswer: a context that ends while the request
// waits for its answer fails the call with the context's error, and
// nothing is retried.
func TestContextEndedBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	done := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		arrived <- struct{}{}
		select { // answer only once the client has gone
		case <-r.Context().Done():
		case <-done:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	kg := clientWith(t, srv, http.DefaultTransport)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := kg.NewRequest(ctx, http.MethodGet, "/api/x", nil, nil)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- kg.Do(ctx, req, nil) }()
	<-arrived
	cancel()
	err = <-errc
	assert.ErrorIs(t, err, context.Canceled)
	var re *koogallery.RequestError
	assert.ErrorAs(t, err, &re)
	var apiErr *koogallery.APIError
	assert.False(t, errors.As(err, &apiErr))
	assert.Equal(t, int32(1), hits.Load(), "not retried after the context ended")
}

// TestContextEndedBeforeARetryReturnsTheLastAnswer: a context that ends
// while the call waits to retry ends the call with the answer that made it
// wait (a throttling answer keeps its Retry-After); no further attempt is
// made.
func TestContextEndedBeforeARetryReturnsTheLastAnswer(t *testing.T) {
	t.Parallel()
	for _, first := range []int{http.StatusNotAcceptable, http.StatusServiceUnavailable} {
		// With a 503 first, the 406 is the second attempt's answer, and the
		// wait the context cuts short is go-retryablehttp's.
		t.Run(http.StatusText(first), func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if hits.Add(1) == 1 && first == http.StatusServiceUnavailable {
					w.WriteHeader(first)
					io.WriteString(w, `{"error_code":"APIGW.0201","error_msg":"Backend unavailable"}`)
					return
				}
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusNotAcceptable)
				io.WriteString(w, `{"error_code":"MKT.0250","error_msg":"Access frequency overlimit"}`)
			}))
			t.Cleanup(srv.Close)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			kg, err := koogallery.NewClient(koogallery.WithEndpoint(srv.URL), koogallery.WithCredentials("ak", "sk"),
				koogallery.WithRetryPolicy(patientRetries), koogallery.WithLogger(slog.New(slog.DiscardHandler)),
				koogallery.WithAttemptHook(func(_ context.Context, a koogallery.Attempt) {
					if a.Retry && a.Code == "MKT.0250" {
						cancel() // as the call is about to wait
					}
				}))
			require.NoError(t, err)
			req, err := kg.NewRequest(ctx, http.MethodGet, "/api/x", nil, nil)
			require.NoError(t, err)
			var resp koogallery.Response
			err = kg.Do(koogallery.CaptureResponse(ctx, &resp), req, nil)
			require.Error(t, ctx.Err())
			var apiErr *koogallery.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, "MKT.0250", apiErr.Code)
			assert.Equal(t, time.Second, apiErr.RetryAfter)
			assert.NotErrorIs(t, err, context.Canceled)
			want := int32(1)
			if first == http.StatusServiceUnavailable {
				want = 2
			}
			assert.Equal(t, want, hits.Load(), "no attempt after the context ended")
			assert.Equal(t, http.StatusNotAcceptable, resp.StatusCode)
			assert.Equal(t, int(want), resp.Attempts)
		})
	}
}

// TestContextEndedDuringARetryIsTheContextsError: a context that ends
// while a retry waits for its answer fails the call with the context's
// error, not with the earlier answer: the retry may have reached the
// server.
func TestContextEndedDuringARetryIsTheContextsError(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{}, 1)
	done := make(chan struct{})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-done:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	kg := clientWith(t, srv, http.DefaultTransport)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := kg.NewRequest(ctx, http.MethodGet, "/api/x", nil, nil)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- kg.Do(ctx, req, nil) }()
	<-arrived
	cancel()
	err = <-errc
	assert.ErrorIs(t, err, context.Canceled)
	var apiErr *koogallery.APIError
	assert.False(t, errors.As(err, &apiErr), "not the first attempt's answer")
	assert.Equal(t, int32(2), hits.Load())
}
