package auth_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/auth"
)

func TestNewSignerRefusesEmptyKeys(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]string{{"", "sk"}, {"ak", ""}, {"", ""}} {
		_, err := auth.NewSigner(c[0], c[1])
		assert.Error(t, err)
	}
	_, err := auth.NewSigner("a k", "sk")
	assert.Error(t, err, "a space would break the Authorization value")
	_, err = auth.NewSigner("ak", "sk", auth.WithSecurityToken("bad\ntoken"))
	assert.Error(t, err)
	for _, bad := range []string{"", "x_y", "a b", "authorization", "x:y"} {
		_, err = auth.NewSigner("ak", "sk", auth.WithSignedHeaders(bad))
		assert.Error(t, err, bad)
	}
}

func TestSignReplacesStaleDateAndAuthorization(t *testing.T) {
	t.Parallel()
	r, _ := http.NewRequest(http.MethodGet, "https://mkt.myhuaweicloud.com/x", nil)
	r.Header.Set("X-Sdk-Date", "20000101T000000Z")
	r.Header["x-sdk-date"] = []string{"20000101T000000Z"} // a non-canonical spelling Go would also send
	r.Header.Set("Authorization", "stale")
	r.Header["authorization"] = []string{"stale"}
	s, err := auth.NewSigner("ak", "sk", auth.WithClock(fixedClock("20261127T083000Z")))
	require.NoError(t, err)
	require.NoError(t, s.Sign(r))
	assert.Equal(t, []string{"20261127T083000Z"}, r.Header.Values("X-Sdk-Date"))
	assert.NotContains(t, r.Header, "x-sdk-date")
	assert.NotContains(t, r.Header, "authorization")
	assert.Len(t, r.Header.Values("Authorization"), 1)
	assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "SDK-HMAC-SHA256 Access=ak, SignedHeaders=host;x-sdk-date, Signature="))
}

func TestSignLocalTimeIsUTC(t *testing.T) {
	t.Parallel()
	cst := time.FixedZone("CST", 8*3600)
	s, err := auth.NewSigner("ak", "sk", auth.WithClock(func() time.Time { return time.Date(2026, 11, 27, 16, 30, 0, 0, cst) }))
	require.NoError(t, err)
	r, _ := http.NewRequest(http.MethodGet, "https://h/x", nil)
	require.NoError(t, s.Sign(r))
	assert.Equal(t, "20261127T083000Z", r.Header.Get("X-Sdk-Date"))
}

func TestSignRefusals(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSigner("ak", "SECRETSK")
	require.NoError(t, err)
	req := func(raw string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, raw, nil)
		require.NoError(t, err)
		return r
	}
	cases := map[string]*http.Request{
		"nil URL":    {Method: http.MethodGet, Header: http.Header{}},
		"no host":    req("/relative/path"),
		"opaque":     {Method: http.MethodGet, URL: &url.URL{Scheme: "https", Opaque: "//h/x", Host: "h"}},
		"semicolon":  req("https://h/x?a=1;b=2"),
		"bad escape": req("https://h/x?a=%zz"),
		"host space": {Method: http.MethodGet, Host: "h x", URL: &url.URL{Scheme: "https", Host: "h", Path: "/"}},
		"host utf8":  {Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "例え.jp", Path: "/"}},
	}
	twice := req("https://h/x")
	twice.Header["Content-Type"] = []string{"application/json", "text/plain"}
	cases["content-type twice"] = twice
	spellings := req("https://h/x")
	spellings.Header["Content-Type"] = []string{"application/json"}
	spellings.Header["content-type"] = []string{"application/json"}
	cases["content-type two spellings"] = spellings
	ctl := req("https://h/x")
	ctl.Header["Content-Type"] = []string{"application/json\r\nX-Injected: 1"}
	cases["control character"] = ctl

	for name, r := range cases {
		err := s.Sign(r)
		assert.Error(t, err, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "SECRETSK")
			assert.True(t, strings.HasPrefix(err.Error(), "auth: sign: "), err.Error())
			assert.ErrorIs(t, err, auth.ErrSign)
		}
	}
	assert.Error(t, s.Sign(nil))
}

func TestSignReadsBodyWithoutGetBody(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSigner("ak", "sk")
	require.NoError(t, err)
	body := strings.Repeat("x", 100_000)
	r, _ := http.NewRequest(http.MethodPut, "https://h/x", nil)
	r.Body = io.NopCloser(strings.NewReader(body)) // a plain stream, no GetBody
	r.ContentLength = -1
	require.NoError(t, s.Sign(r))
	assert.Equal(t, int64(len(body)), r.ContentLength)
	got, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, body, string(got))
	require.NotNil(t, r.GetBody)
	rc, _ := r.GetBody()
	again, _ := io.ReadAll(rc)
	assert.Equal(t, body, string(again))

	failing, _ := http.NewRequest(http.MethodPut, "https://h/x", nil)
	failing.Body = io.NopCloser(errReader{})
	assert.ErrorContains(t, s.Sign(failing), "read body")
	withGetBody, _ := http.NewRequest(http.MethodPut, "https://h/x", strings.NewReader("x"))
	withGetBody.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("gone") }
	assert.ErrorContains(t, s.Sign(withGetBody), "get body")
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestSignUnsignedPayload(t *testing.T) {
	t.Parallel()
	var d auth.Debug
	s, err := auth.NewSigner("ak", "sk", auth.WithDebug(func(x auth.Debug) { d = x }))
	require.NoError(t, err)
	r, _ := http.NewRequest(http.MethodPost, "https://h/upload", nil)
	r.Body = io.NopCloser(errReader{}) // never read
	r.Header.Set(auth.HeaderContentSHA256, auth.UnsignedPayload)
	require.NoError(t, s.Sign(r))
	assert.True(t, strings.HasSuffix(d.CanonicalRequest, "\nhost;x-sdk-content-sha256;x-sdk-date\nUNSIGNED-PAYLOAD"), d.CanonicalRequest)
}

func TestSecurityTokenSignedAndRedacted(t *testing.T) {
	t.Parallel()
	const token = "TEMPORARY-TOKEN-VALUE"
	var d auth.Debug
	s, err := auth.NewSigner("ak", "TOPSECRET", auth.WithSecurityToken(token), auth.WithDebug(func(x auth.Debug) { d = x }))
	require.NoError(t, err)
	r, _ := http.NewRequest(http.MethodGet, "https://h/x", nil)
	r.Header.Set("X-Security-Token", "old")
	require.NoError(t, s.Sign(r))
	assert.Equal(t, []string{token}, r.Header.Values("X-Security-Token"))
	assert.Contains(t, r.Header.Get("Authorization"), "SignedHeaders=host;x-sdk-date;x-security-token,")
	for _, out := range []string{d.CanonicalRequest, d.StringToSign, d.SignedHeaders, d.String()} {
		assert.NotContains(t, out, token)
		assert.NotContains(t, out, "TOPSECRET")
	}
	assert.Contains(t, d.CanonicalRequest, "x-security-token:<redacted>\n")
	assert.Contains(t, d.String(), "canonicalRequest:GET|/x/||host:h|")

	// The Verifier accepts it, and its mismatch output is redacted too.
	v := auth.NewVerifier(func(string) (string, bool) { return "TOPSECRET", true })
	srvReq := serverSide(t, r)
	require.NoError(t, v.Verify(srvReq))
	srvReq = serverSide(t, r)
	srvReq.URL.Path = "/y"
	err = v.Verify(srvReq)
	require.ErrorIs(t, err, auth.ErrMismatch)
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, err.Error(), "TOPSECRET")
}

func TestTransportDoesNotMutateCallerRequest(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSigner("ak", "sk")
	require.NoError(t, err)
	var seen http.Header
	tr := &auth.Transport{Signer: s, Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = r.Header
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})}
	r, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader(`{}`))
	r.Header.Set("Content-Type", "application/json")
	before := r.Header.Clone()
	resp, err := tr.RoundTrip(r)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, before, r.Header, "the caller's header map is untouched")
	assert.NotEmpty(t, seen.Get("Authorization"))
	assert.Empty(t, r.Header.Get("Authorization"))
	got, _ := io.ReadAll(r.Body)
	assert.Equal(t, `{}`, string(got), "a body with GetBody is not consumed")

	_, err = (&auth.Transport{}).RoundTrip(r)
	assert.Error(t, err)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestSignerConcurrentUse(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSigner("ak", "sk", auth.WithClock(fixedClock("20261127T083000Z")))
	require.NoError(t, err)
	ref, _ := http.NewRequest(http.MethodGet, "https://h/x?a=1", nil)
	require.NoError(t, s.Sign(ref))
	want := ref.Header.Get("Authorization")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				r, _ := http.NewRequest(http.MethodGet, "https://h/x?a=1", nil)
				if assert.NoError(t, s.Sign(r)) {
					assert.Equal(t, want, r.Header.Get("Authorization"))
				}
			}
		}()
	}
	wg.Wait()
}

func TestNilClockIsTimeNow(t *testing.T) {
	t.Parallel()
	s, err := auth.NewSigner("ak", "sk", auth.WithClock(nil))
	require.NoError(t, err)
	r, _ := http.NewRequest(http.MethodGet, "https://h/x", nil)
	before := time.Now().UTC().Truncate(time.Second)
	require.NoError(t, s.Sign(r))
	after := time.Now().UTC()
	got, err := time.Parse(auth.DateLayout, r.Header.Get("X-Sdk-Date"))
	require.NoError(t, err)
	assert.False(t, got.Before(before) || got.After(after), "X-Sdk-Date %s is not the time of signing", got)

	v := auth.NewVerifier(func(string) (string, bool) { return "sk", true }, auth.WithClock(nil))
	assert.NoError(t, v.Verify(serverSide(t, r)))
}

// TestOneClockOptionForSignerAndVerifier: the same auth.WithClock value
// configures both sides, so a test pins one clock for the client and the
// server.
func TestOneClockOptionForSignerAndVerifier(t *testing.T) {
	t.Parallel()
	clock := auth.WithClock(fixedClock("20200102T030405Z")) // far from the real clock on any date
	s, err := auth.NewSigner("ak", "sk", clock)
	require.NoError(t, err)
	r, _ := http.NewRequest(http.MethodGet, "https://h/x?b=2&a=1", nil)
	require.NoError(t, s.Sign(r))
	assert.Equal(t, "20200102T030405Z", r.Header.Get("X-Sdk-Date"))
	lookup := func(string) (string, bool) { return "sk", true }
	assert.NoError(t, auth.NewVerifier(lookup, clock).Verify(serverSide(t, r)))
	assert.NoError(t, auth.NewVerifier(lookup, auth.WithClock(fixedClock("20200102T031000Z"))).Verify(serverSide(t, r)),
		"the deprecated name still works")
	assert.ErrorIs(t, auth.NewVerifier(lookup).Verify(serverSide(t, r)), auth.ErrExpired, "the real clock is years away")
}
