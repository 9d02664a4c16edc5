package koogallery_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
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
	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// fastRetries keeps tests quick while exercising the retry path.
var fastRetries = koogallery.RetryPolicy{MaxAttempts: 4, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxElapsed: 10 * time.Second}

func newFake(t *testing.T, opts ...koogallery.Option) (*koogallerytest.Server, *koogallery.Client) {
	t.Helper()
	fake := koogallerytest.NewServer()
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient(append([]koogallery.Option{koogallery.WithRetryPolicy(fastRetries)}, opts...)...)
	require.NoError(t, err)
	return fake, kg
}

// assertNoSecret checks an error string for the fake's secret and for query
// values.
func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	for _, s := range []string{koogallerytest.DefaultSecretKey, "WRONG-SECRET", "orderId=", "Signature="} {
		assert.NotContains(t, err.Error(), s)
	}
}

func TestNewClientCredentials(t *testing.T) {
	t.Setenv(koogallery.EnvAccessKey, "")
	t.Setenv(koogallery.EnvSecretKey, "")
	_, err := koogallery.NewClient()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no credentials")

	t.Setenv(koogallery.EnvAccessKey, "env-ak")
	t.Setenv(koogallery.EnvSecretKey, "env-sk")
	kg, err := koogallery.NewClient()
	require.NoError(t, err)
	assert.Equal(t, "https://mkt.myhuaweicloud.com", kg.BaseURL())

	_, err = koogallery.NewClient(koogallery.WithCredentials("ak", ""))
	assert.Error(t, err, "explicit empty credentials do not fall back to the environment")
}

func TestNewClientOptions(t *testing.T) {
	t.Parallel()
	creds := koogallery.WithCredentials("ak", "sk")
	for site, want := range map[koogallery.Site]string{
		koogallery.SiteChina:         "https://mkt.myhuaweicloud.com",
		koogallery.SiteInternational: "https://mkt-intl.myhuaweicloud.com",
		koogallery.SiteEurope:        "https://mkt.myhuaweicloud.eu",
	} {
		kg, err := koogallery.NewClient(creds, koogallery.WithSite(site))
		require.NoError(t, err)
		assert.Equal(t, want, kg.BaseURL(), site.String())
	}
	bad := []koogallery.Option{
		koogallery.WithSite(koogallery.Site(9)),
		koogallery.WithEndpoint("http://example.com"), // plain http off loopback
		koogallery.WithEndpoint("ftp://127.0.0.1"),
		koogallery.WithEndpoint("https://h/x?q=1"),
		koogallery.WithEndpoint("not a url"),
		koogallery.WithHTTPClient(nil),
		koogallery.WithHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{}),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Second, MaxBackoff: time.Millisecond}),
		koogallery.WithMaxResponseBytes(0),
	}
	for i, o := range bad {
		_, err := koogallery.NewClient(creds, o)
		assert.Error(t, err, "option %d", i)
	}
	kg, err := koogallery.NewClient(creds, koogallery.WithEndpoint("http://localhost:8080/"))
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:8080", kg.BaseURL())
}

func TestSignatureFailureIsNotRetried(t *testing.T) {
	t.Parallel()
	fake, _ := newFake(t)
	kg, err := fake.NewClient(koogallery.WithCredentials(koogallerytest.DefaultAccessKey, "WRONG-SECRET"), koogallery.WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	_, err = order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrAuthentication)
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	assert.Equal(t, "APIGW.0301", ae.Code)
	assert.Len(t, ae.RequestID, 32)
	assert.Contains(t, err.Error(), "five failures in a row lock the AK")
	assertNoSecret(t, err)
	assert.Len(t, fake.Requests(), 1, "one attempt only")
}

func TestThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Throttled(); f.Times = 2; return f }())
	o, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err)
	assert.Equal(t, "MOCKPERIODYEARNEW", o.OrderID)
	reqs := fake.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []int{406, 406, 200}, []int{reqs[0].Status, reqs[1].Status, reqs[2].Status})

	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Throttled(); f.Times = 100; return f }())
	_, err = order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrThrottled)
	assert.Len(t, fake.Requests(), 3+fastRetries.MaxAttempts, "bounded by MaxAttempts")
	assertNoSecret(t, err)
}

func TestNotThrottlingWith406IsNotRetried(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(koogallerytest.Fault{Status: http.StatusNotAcceptable, Code: "MKT.0101", Message: "Invalid parameter", Times: 5})
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.Len(t, fake.Requests(), 1)
}

func TestServerErrorStormIsBoundedAndEveryAttemptSigned(t *testing.T) {
	t.Parallel()
	// A clock that moves a second per signature proves each attempt is
	// signed afresh.
	var tick atomic.Int64
	start := time.Now().Add(-time.Minute)
	clock := func() time.Time { return start.Add(time.Duration(tick.Add(1)) * time.Second) }
	fake, kg := newFake(t, koogallery.WithClock(clock))
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Unavailable(); f.Times = 1000; return f }())

	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrServer)
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
	assert.Equal(t, "APIGW.0201", ae.Code, "the final response is kept")
	assert.NotEmpty(t, ae.RequestID)

	reqs := fake.Requests()
	require.Len(t, reqs, fastRetries.MaxAttempts)
	dates := map[string]bool{}
	for _, r := range reqs {
		dates[r.Header.Get("X-Sdk-Date")] = true
	}
	assert.Len(t, dates, len(reqs), "every attempt carries its own X-Sdk-Date")

	// A shorter storm, every attempt's signature checked by the fake.
	fake.ClearFaults()
	fake.Inject(koogallerytest.Fault{Status: http.StatusBadGateway, Code: "APIGW.0201", Message: "Backend unavailable", Times: 3})
	_, err = order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err)
	for _, r := range fake.Requests()[len(reqs):] {
		assert.NoError(t, r.AuthError)
	}
}

func TestErrorCodeWithHTTP200(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	cases := []struct {
		fault koogallerytest.Fault
		want  error
	}{
		{koogallerytest.Fault{Status: 200, Code: "MKT.0150", Message: "Illegal operation"}, koogallery.ErrPermission},
		{koogallerytest.Fault{Status: 200, Code: "92020005", Message: "license code not exist."}, koogallery.ErrNotFound},
		{koogallerytest.Fault{Status: 200, Code: "91381035", Message: "license period has no remain amount"}, koogallery.ErrInvalidRequest},
	}
	for _, c := range cases {
		fake.Inject(c.fault)
		_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
		require.Error(t, err)
		assert.ErrorIs(t, err, c.want, c.fault.Code)
		var ae *koogallery.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, 200, ae.StatusCode)
		assert.Equal(t, c.fault.Code, ae.Code)
	}
	// An unknown code is still an *APIError, and matches no sentinel on 200.
	fake.Inject(koogallerytest.Fault{Status: 200, Code: "MKT.7777", Message: "something new"})
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "MKT.7777", ae.Code)
	for _, s := range []error{koogallery.ErrAuthentication, koogallery.ErrPermission, koogallery.ErrInvalidRequest, koogallery.ErrNotFound, koogallery.ErrThrottled, koogallery.ErrServer} {
		assert.NotErrorIs(t, err, s)
	}
}

func TestHTMLErrorPage(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.HTMLPage(502); f.Times = 100; return f }())
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrServer)
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 502, ae.StatusCode)
	assert.Empty(t, ae.Code)
	assert.Contains(t, ae.Message, "<html>")
	assert.NotContains(t, err.Error(), "invalid character", "not a JSON syntax error")
	assert.Len(t, fake.Requests(), fastRetries.MaxAttempts, "a 502 is retried")
}

func TestTruncatedJSON(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(koogallerytest.Truncated())
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Contains(t, err.Error(), "not the documented JSON")
	assertNoSecret(t, err)
}

func TestHungServerContextWins(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(koogallerytest.Hang())
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := order.NewClient(kg).QueryOrder(ctx, "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var re *koogallery.RequestError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, order.QueryPath, re.Path)
	assertNoSecret(t, err)
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t, koogallery.WithMaxResponseBytes(1024))
	fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"resultCode":"MKT.0000","pad":"` + strings.Repeat("x", 4096) + `"}`)})
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Contains(t, err.Error(), "exceeds the 1024-byte limit")
}

func TestRetryAfterBeyondMaxBackoffStops(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(koogallerytest.Fault{Status: http.StatusTooManyRequests, Code: "APIG.0308", Message: "The throttling threshold has been reached.", RetryAfter: "120", Times: 5})
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrThrottled)
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 120*time.Second, ae.RetryAfter)
	assert.Len(t, fake.Requests(), 1)
}

func TestBackoffThatWouldPassTheDeadlineKeepsTheAnswer(t *testing.T) {
	t.Parallel()
	fake, _ := newFake(t)
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 5, MinBackoff: 10 * time.Second, MaxBackoff: 20 * time.Second}))
	require.NoError(t, err)
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Unavailable(); f.Times = 10; return f }())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = order.NewClient(kg).QueryOrder(ctx, "MOCKPERIODYEARNEW")
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae, "the 503 is reported, not a bare deadline error")
	assert.Equal(t, 503, ae.StatusCode)
	assert.Len(t, fake.Requests(), 1)
}

func TestDoDoesNotMutateRequestAndSendsContentLength(t *testing.T) {
	t.Parallel()
	v := auth.NewVerifier(func(ak string) (string, bool) { return "sk", ak == "ak" })
	var gotLen int64
	var gotTE []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil {
			w.WriteHeader(401)
			io.WriteString(w, `{"error_code":"APIGW.0301","error_msg":"verify aksk signature fail","request_id":"r1"}`)
			return
		}
		gotLen, gotTE = r.ContentLength, r.TransferEncoding
		io.WriteString(w, `{"error_code":"MKT.0000","error_msg":"success","data":{"n":7}}`)
	}))
	defer srv.Close()
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint(srv.URL))
	require.NoError(t, err)
	body := map[string]string{"k": "v"}
	req, err := kg.NewRequest(context.Background(), http.MethodPost, "/p", struct {
		A string `url:"a"`
	}{"x y+z"}, body)
	require.NoError(t, err)
	assert.Equal(t, "a=x%20y%2Bz", req.URL.RawQuery, "canonical query on the wire")
	before := req.Header.Clone()
	var out struct {
		Data struct{ N int } `json:"data"`
	}
	require.NoError(t, kg.Do(context.Background(), req, &out))
	assert.Equal(t, 7, out.Data.N)
	assert.Equal(t, before, req.Header)
	assert.Equal(t, int64(len(`{"k":"v"}`)), gotLen)
	assert.Empty(t, gotTE, "not chunked")
}

func TestStreamedBodyIsSentOnce(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(503)
	}))
	defer srv.Close()
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint(srv.URL), koogallery.WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/upload", io.NopCloser(strings.NewReader("stream")))
	require.NoError(t, err)
	req.Header.Set(auth.HeaderContentSHA256, auth.UnsignedPayload)
	err = kg.Do(context.Background(), req, nil)
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Equal(t, int32(1), calls.Load(), "a body that cannot be replayed is not retried")
}

func TestHTTPClientSignsAnyRequest(t *testing.T) {
	t.Parallel()
	v := auth.NewVerifier(func(ak string) (string, bool) { return "sk", ak == "ak" })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := v.Verify(r); err != nil {
			http.Error(w, err.Error(), 401)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	kg, err := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint("https://unused.example.com"))
	require.NoError(t, err)
	resp, err := kg.HTTPClient().Post(srv.URL+"/any/apig/api?x=1", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	assert.Equal(t, 200, resp.StatusCode, string(b))
}

func TestLogsCarryNoSecretsOrQueries(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake, kg := newFake(t, koogallery.WithLogger(logger))
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Unavailable(); f.Times = 2; return f }())
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW", order.WithOrderLineID("MOCKPERIODYEARNEW-000001"))
	require.NoError(t, err)
	bad, _ := fake.NewClient(koogallery.WithCredentials(koogallerytest.DefaultAccessKey, "WRONG-SECRET"), koogallery.WithLogger(logger))
	_, err = order.NewClient(bad).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)

	mu.Lock()
	out := buf.String()
	mu.Unlock()
	assert.Contains(t, out, "koogallery: retrying")
	assert.Contains(t, out, "path="+order.QueryPath)
	for _, s := range []string{koogallerytest.DefaultSecretKey, "WRONG-SECRET", "orderId", "Signature", "SDK-HMAC-SHA256"} {
		assert.NotContains(t, out, s)
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Throttled(); f.Times = 10; return f }())
	orders := order.NewClient(kg)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := koogallerytest.MockOrderIDs[i%len(koogallerytest.MockOrderIDs)]
			o, err := orders.QueryOrder(context.Background(), id)
			if err == nil && o.OrderID != id {
				err = errors.New("wrong order " + o.OrderID)
			}
			if err != nil && !errors.Is(err, koogallery.ErrThrottled) {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestAPIErrorRedactsEchoedToken(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	fake.Inject(koogallerytest.Fault{Status: 401, Code: "APIGW.0303",
		Message: "Incorrect app authentication information: verify signature fail, canonicalRequest:GET|/x/||host:h|x-security-token:SECRET-TOKEN|x-sdk-date:d||host;x-security-token;x-sdk-date|e3"})
	_, err := order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrAuthentication)
	assert.NotContains(t, err.Error(), "SECRET-TOKEN")
	assert.Contains(t, err.Error(), "x-security-token:<redacted>|x-sdk-date:d")
}
