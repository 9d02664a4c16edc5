package koogallery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/auth"
)

// TestFallbackHostReSigned sends a request for an unreachable primary host
// and checks it arrives at the fallback, signed for the fallback's host.
func TestFallbackHostReSigned(t *testing.T) {
	t.Parallel()
	v := auth.NewVerifier(func(ak string) (string, bool) { return "sk", ak == "ak" })
	var hosts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		if err := v.Verify(r); err != nil {
			http.Error(w, err.Error(), 401)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	defer srv.Close()

	// A port nobody listens on: connection refused, the request never left.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := l.Addr().String()
	l.Close()

	signer, err := auth.NewSigner("ak", "sk")
	require.NoError(t, err)
	fb := &fallbackTransport{
		next:     &auth.Transport{Signer: signer},
		primary:  dead,
		fallback: strings.TrimPrefix(srv.URL, "http://"),
		logger:   slog.New(slog.DiscardHandler),
	}
	client := &http.Client{Transport: fb}
	for range 2 { // the second call goes straight to the fallback (sticky)
		resp, err := client.Post("http://"+dead+"/x?a=1", "application/json", strings.NewReader(`{"n":1}`))
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode, string(b))
		assert.Equal(t, `{"n":1}`, string(b), "the body is replayed on the fallback")
	}
	assert.Equal(t, []string{fb.fallback, fb.fallback}, hosts)
	assert.Greater(t, fb.preferUntil.Load(), time.Now().UnixNano())

	// Requests for other hosts are untouched.
	resp, err := client.Get(srv.URL + "/other")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	assert.True(t, unreachable(&url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}))
	assert.True(t, unreachable(&net.DNSError{Err: "no such host", Name: "mkt.myhuaweicloud.com"}))
	assert.False(t, unreachable(&net.OpError{Op: "read", Err: errors.New("reset")}), "the request may have been sent")
	assert.False(t, unreachable(errors.New("other")))
}

func TestDecide(t *testing.T) {
	t.Parallel()
	policy := RetryPolicy{MaxAttempts: 4, MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second}
	resp := func(status int, body string, hdr ...string) *http.Response {
		h := http.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			h.Set(hdr[i], hdr[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
	}
	refused := &net.OpError{Op: "dial", Err: errors.New("refused")}
	cases := []struct {
		name string
		resp func() *http.Response
		err  error
		// retry of an idempotent request, and of one that is not
		idem, other bool
	}{
		{"200", func() *http.Response { return resp(200, `{"resultCode":"MKT.0000"}`) }, nil, false, false},
		{"401 signature", func() *http.Response { return resp(401, `{"error_code":"APIGW.0301"}`) }, nil, false, false},
		{"403", func() *http.Response { return resp(403, `{"error_code":"CBC.0150"}`) }, nil, false, false},
		{"400", func() *http.Response { return resp(400, `{"resultCode":"MKT.0101"}`) }, nil, false, false},
		{"406 throttled", func() *http.Response { return resp(406, `{"resultCode":"MKT.0250"}`) }, nil, true, true},
		{"406 CBC throttled", func() *http.Response { return resp(406, `{"error_code":"CBC.0250"}`) }, nil, true, true},
		{"406 other", func() *http.Response { return resp(406, `{"resultCode":"MKT.0199"}`) }, nil, false, false},
		{"429", func() *http.Response { return resp(429, ``) }, nil, true, true},
		{"500 internal", func() *http.Response { return resp(500, `{"resultCode":"MKT.0999"}`) }, nil, true, false},
		{"500 validation", func() *http.Response { return resp(500, `{"resultCode":"MKT.0100"}`) }, nil, false, false},
		{"500 not found", func() *http.Response { return resp(500, `{"resultCode":"MKT.9001"}`) }, nil, false, false},
		{"500 92020001", func() *http.Response { return resp(500, `{"error_code":"92020001"}`) }, nil, true, false},
		{"501", func() *http.Response { return resp(501, ``) }, nil, false, false},
		{"502 html", func() *http.Response { return resp(502, `<html>`) }, nil, true, false},
		{"503 retry-after too long", func() *http.Response { return resp(503, ``, "Retry-After", "60") }, nil, false, false},
		{"connection refused", nil, refused, true, true},
		{"no such host", nil, &net.DNSError{Err: "no such host", Name: "h"}, true, true},
		{"credentials", nil, auth.ErrCredentials, true, true},
		{"connection reset", nil, &net.OpError{Op: "read", Err: errors.New("reset")}, true, false},
		{"signing", nil, auth.ErrSign, false, false},
		{"canceled", nil, context.Canceled, false, false},
		{"other", nil, &url.Error{Op: "Get", URL: "u", Err: errors.New("x")}, true, false},
	}
	for _, idempotent := range []bool{true, false} {
		st := &callState{policy: policy, attempts: 1, idempotent: idempotent}
		for _, c := range cases {
			var r *http.Response
			if c.resp != nil {
				r = c.resp()
			}
			retry, _, wait := st.decide(r, c.err)
			want := c.other
			if idempotent {
				want = c.idem
			}
			assert.Equal(t, want, retry, "%s (idempotent %v)", c.name, idempotent)
			if retry {
				assert.LessOrEqual(t, wait, st.policy.MaxBackoff, c.name)
			}
			if r != nil {
				b, _ := io.ReadAll(r.Body)
				assert.NotNil(t, b, "the peeked body is still readable")
			}
		}
	}
	st := &callState{policy: policy, attempts: 1, idempotent: true}
	r := resp(503, `{"error_code":"APIGW.0201"}`, "Retry-After", "1")
	retry, code, wait := st.decide(r, nil)
	assert.True(t, retry)
	assert.Equal(t, "APIGW.0201", code)
	assert.Equal(t, time.Second, wait)
	b, _ := io.ReadAll(r.Body)
	assert.Equal(t, `{"error_code":"APIGW.0201"}`, string(b))
}

func TestJitterGrowsAndIsBounded(t *testing.T) {
	t.Parallel()
	st := &callState{policy: RetryPolicy{MaxAttempts: 10, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for a := 1; a <= 10; a++ {
		st.attempts = a
		base := st.policy.MinBackoff << (a - 1)
		if base > st.policy.MaxBackoff || base <= 0 {
			base = st.policy.MaxBackoff
		}
		for range 50 {
			w := st.jitter()
			assert.GreaterOrEqual(t, w, base/2, "attempt %d", a)
			assert.LessOrEqual(t, w, base, "attempt %d", a)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	h := func(v string) http.Header { return http.Header{"Retry-After": {v}} }
	for v, want := range map[string]time.Duration{
		"3":                       3 * time.Second,
		" 3 ":                     3 * time.Second,
		"0":                       0,
		"-1":                      0,
		"+1":                      0,
		"1.5":                     0,
		"soon":                    0,
		"":                        0,
		"9223372036":              9223372036 * time.Second, // the largest whole second a Duration holds
		"9223372037":              maxDuration,
		"18446744074":             maxDuration, // ×1e9 wraps around int64 to about 290 ms
		"99999999999999999999999": maxDuration, // beyond int64 altogether
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
		"Fri, 31 Dec 9999 23:59:59 GMT":                   maxDuration, // Sub saturates
	} {
		assert.Equal(t, want, retryAfter(h(v), now), "%q", v)
	}
	assert.Equal(t, time.Duration(0), retryAfter(http.Header{}, now))
}

func TestClassification(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code   string
		status int
		want   error
	}{
		{"APIGW.0301", 401, ErrAuthentication}, {"APIG.0301", 401, ErrAuthentication}, {"APIGW.0303", 401, ErrAuthentication},
		{"APIGW.0302", 403, ErrPermission}, {"APIG.0308", 429, ErrThrottled}, {"APIGW.0101", 404, ErrNotFound},
		{"APIGW.0201", 413, ErrInvalidRequest}, {"APIGW.0201", 502, ErrServer}, {"APIGW.0601", 500, ErrServer},
		{"MKT.0999", 500, ErrServer}, {"CBC.0999", 500, ErrServer}, {"MKT.0100", 500, ErrInvalidRequest},
		{"MKT.0101", 400, ErrInvalidRequest}, {"MKT.0102", 400, ErrAuthentication}, {"MKT.0150", 401, ErrPermission},
		{"CBC.0150", 403, ErrPermission}, {"MKT.0151", 401, ErrPermission}, {"MKT.0154", 401, ErrAuthentication},
		{"MKT.0250", 406, ErrThrottled}, {"MKT.9001", 500, ErrNotFound}, {"MKT.9003", 500, ErrInvalidRequest},
		{"92020001", 403, ErrAuthentication}, {"92020001", 500, ErrServer}, {"92020002", 400, ErrInvalidRequest},
		{"92020004", 200, ErrInvalidRequest}, {"92020005", 200, ErrNotFound}, {"91381036", 200, ErrServer},
		{"91380150", 200, ErrPermission}, {"91381038", 200, ErrPermission}, {"94060002", 401, ErrAuthentication},
		// Unknown codes fall back to the status.
		{"MKT.1234", 503, ErrServer}, {"X", 401, ErrAuthentication}, {"X", 403, ErrPermission}, {"X", 404, ErrNotFound},
		{"X", 429, ErrThrottled}, {"X", 400, ErrInvalidRequest}, {"", 200, ErrServer}, {"X", 200, nil},
	}
	for _, c := range cases {
		e := &APIError{StatusCode: c.status, Code: c.code}
		assert.Equal(t, c.want, e.class(), "%s %d", c.code, c.status)
		if c.want != nil {
			assert.ErrorIs(t, e, c.want)
		}
	}
	for _, ok := range []string{"MKT.0000", "CBC.0000", "92020000"} {
		assert.True(t, isSuccess(ok))
	}
	assert.False(t, isSuccess("000000"))
}

func TestReadBody(t *testing.T) {
	t.Parallel()
	body := strings.Repeat("x", 1000)
	for _, c := range []struct {
		declared, limit int64
		want            int
	}{
		{1000, 2000, 1000}, {-1, 2000, 1000}, {10, 2000, 1000}, {5000, 2000, 1000}, // lies either way are harmless
		{1000, 999, 1000}, {-1, 500, 501}, {1000, 500, 501}, // over the limit: limit+1 bytes tell the caller
	} {
		resp := &http.Response{ContentLength: c.declared, Body: io.NopCloser(iotest.OneByteReader(strings.NewReader(body)))}
		got, err := readBody(resp, c.limit)
		require.NoError(t, err)
		assert.Len(t, got, c.want, "declared %d, limit %d", c.declared, c.limit)
		assert.Equal(t, body[:len(got)], string(got))
	}
	resp := &http.Response{ContentLength: -1, Body: io.NopCloser(iotest.ErrReader(errors.New("reset")))}
	_, err := readBody(resp, 100)
	assert.ErrorContains(t, err, "reset")
}
