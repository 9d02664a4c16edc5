package koogallery_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

func TestCaptureResponse(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t)
	orders := order.NewClient(kg)

	var resp koogallery.Response
	ctx := koogallery.CaptureResponse(context.Background(), &resp)
	o, err := orders.QueryOrder(ctx, "MOCKPERIODYEARNEW")
	require.NoError(t, err)
	assert.Equal(t, "MOCKPERIODYEARNEW", o.OrderID)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Len(t, resp.RequestID, 32)
	assert.Equal(t, resp.RequestID, resp.Header.Get("X-Request-Id"))
	assert.Equal(t, 1, resp.Attempts)
	assert.Equal(t, fake.Requests()[0].Status, resp.StatusCode)

	// After retries: the final response, and how many attempts it took.
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Throttled(); f.Times = 2; return f }())
	_, err = orders.QueryOrder(ctx, "MOCKPERIODYEARNEW")
	require.NoError(t, err)
	assert.Equal(t, 3, resp.Attempts)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// On failure too, with the request ID of the error body.
	fake.Inject(koogallerytest.Fault{Status: 401, Code: "APIGW.0301", Message: "Incorrect IAM authentication information"})
	_, err = orders.QueryOrder(ctx, "MOCKPERIODYEARNEW")
	var ae *koogallery.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, ae.RequestID, resp.RequestID)

	// Through the context given to Do rather than the request's.
	req, err := kg.NewRequest(context.Background(), http.MethodGet, order.QueryPath, struct {
		ID string `url:"orderId"`
	}{"MOCKONDEMAND"}, nil)
	require.NoError(t, err)
	var viaDo koogallery.Response
	require.NoError(t, kg.Do(koogallery.CaptureResponse(context.Background(), &viaDo), req, nil))
	assert.Equal(t, http.StatusOK, viaDo.StatusCode)
	assert.NotEmpty(t, viaDo.RequestID)

	// And through HTTPClient.
	var viaHTTP koogallery.Response
	hreq, _ := http.NewRequestWithContext(koogallery.CaptureResponse(context.Background(), &viaHTTP), http.MethodGet,
		fake.URL+order.QueryPath+"?orderId=MOCKONDEMAND", nil)
	hresp, err := kg.HTTPClient().Do(hreq)
	require.NoError(t, err)
	hresp.Body.Close()
	assert.Equal(t, http.StatusOK, viaHTTP.StatusCode)
	assert.Equal(t, hresp.Header.Get("X-Request-Id"), viaHTTP.RequestID)
}

func TestCheckResponseMapsLikeDo(t *testing.T) {
	t.Parallel()
	fake, kg := newFake(t, koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 1}))
	get := func() *http.Response {
		resp, err := kg.HTTPClient().Get(fake.URL + order.QueryPath + "?orderId=MOCKONDEMAND")
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get()
	require.NoError(t, koogallery.CheckResponse(resp))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"orderId":"MOCKONDEMAND"`, "the body is still readable in full")

	for _, c := range []struct {
		fault koogallerytest.Fault
		want  error
	}{
		{koogallerytest.Throttled(), koogallery.ErrThrottled},
		{koogallerytest.Fault{Status: 200, Code: "MKT.0150", Message: "Illegal operation"}, koogallery.ErrPermission},
		{koogallerytest.HTMLPage(502), koogallery.ErrServer},
		{koogallerytest.Fault{Status: 401, Code: "APIGW.0301", Message: "x-Security-Token:SECRET|"}, koogallery.ErrAuthentication},
	} {
		fake.Inject(c.fault)
		resp := get()
		err := koogallery.CheckResponse(resp)
		require.Error(t, err)
		assert.ErrorIs(t, err, c.want)
		var ae *koogallery.APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, c.fault.Status, ae.StatusCode)
		assert.Equal(t, resp.Request.URL.Path, ae.Path, "the path as sent")
		assert.NotContains(t, err.Error(), "SECRET")
		assert.NotContains(t, err.Error(), "orderId=")
		b, _ := io.ReadAll(resp.Body)
		assert.NotEmpty(t, b, "the body is put back")
	}
	assert.Error(t, koogallery.CheckResponse(nil))

	big := &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(strings.Repeat(" ", koogallery.MaxErrorBody+10)))}
	assert.NoError(t, koogallery.CheckResponse(big))
	b, _ := io.ReadAll(big.Body)
	assert.Len(t, b, koogallery.MaxErrorBody+10)
	bigErr := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", koogallery.MaxErrorBody+10)))}
	assert.ErrorIs(t, koogallery.CheckResponse(bigErr), koogallery.ErrServer)
}

func TestAttemptHook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []koogallery.Attempt
	type key struct{}
	hook := func(ctx context.Context, a koogallery.Attempt) {
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, "trace-1", ctx.Value(key{}), "the hook gets the call's context")
		seen = append(seen, a)
	}
	fake, kg := newFake(t, koogallery.WithAttemptHook(hook))
	fake.Inject(func() koogallerytest.Fault { f := koogallerytest.Throttled(); f.Times = 2; return f }())
	ctx := context.WithValue(context.Background(), key{}, "trace-1")
	_, err := order.NewClient(kg).QueryOrder(ctx, "MOCKPERIODYEARNEW", order.WithOrderLineID("MOCKPERIODYEARNEW-000001"))
	require.NoError(t, err)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 3)
	for i, a := range seen {
		assert.Equal(t, http.MethodGet, a.Method)
		assert.Equal(t, order.QueryPath, a.Path, "never the query")
		assert.Equal(t, i+1, a.Attempt)
		assert.NotEmpty(t, a.RequestID)
		assert.Positive(t, a.Duration)
		assert.NoError(t, a.Err)
	}
	assert.Equal(t, []int{406, 406, 200}, []int{seen[0].StatusCode, seen[1].StatusCode, seen[2].StatusCode})
	assert.Equal(t, []string{"MKT.0250", "MKT.0250", ""}, []string{seen[0].Code, seen[1].Code, seen[2].Code})
	assert.True(t, seen[0].Retry && seen[1].Retry && !seen[2].Retry)
	assert.Positive(t, seen[0].Wait)
	assert.Zero(t, seen[2].Wait)

	// A transport failure, a body that is sent once, an error status.
	seen = seen[:0]
	mu.Unlock()
	dead, _ := koogallery.NewClient(koogallery.WithCredentials("ak", "sk"), koogallery.WithEndpoint("http://127.0.0.1:1"),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 2, MaxBackoff: time.Millisecond}), koogallery.WithAttemptHook(hook))
	req, _ := dead.NewRequest(ctx, http.MethodPost, "/p", struct {
		Secret string `url:"s"`
	}{"QUERYVALUE"}, []byte(`{}`))
	require.Error(t, dead.Do(ctx, req, nil))
	fake.Inject(koogallerytest.Fault{Status: 400, Code: "MKT.0101", Message: "Invalid parameter"})
	_, err = order.NewClient(kg).QueryOrder(ctx, "MOCKPERIODYEARNEW")
	require.Error(t, err)
	mu.Lock()
	require.Len(t, seen, 3)
	assert.Error(t, seen[0].Err)
	assert.NotContains(t, seen[0].Err.Error(), "QUERYVALUE")
	assert.Zero(t, seen[0].StatusCode)
	assert.True(t, seen[0].Retry, "refused before sending: safe to retry")
	assert.False(t, seen[1].Retry)
	assert.Equal(t, 400, seen[2].StatusCode)
	assert.Equal(t, "MKT.0101", seen[2].Code)
}

func TestCredentialsProviderOption(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer(koogallerytest.WithKey("ROTATED-AK", "ROTATED-SK"))
	t.Cleanup(fake.Close)
	p := &swapProvider{c: auth.Credentials{AccessKey: koogallerytest.DefaultAccessKey, SecretKey: koogallerytest.DefaultSecretKey}}
	kg, err := fake.NewClient(koogallery.WithCredentialsProvider(p))
	require.Error(t, err, "the fake's client sets WithCredentials, which a provider replaces")
	assert.Contains(t, err.Error(), "WithCredentialsProvider")

	kg, err = koogallery.NewClient(koogallery.WithEndpoint(fake.URL), koogallery.WithCredentialsProvider(p),
		koogallery.WithRetryPolicy(fastRetries))
	require.NoError(t, err)
	orders := order.NewClient(kg)
	_, err = orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err)

	p.set(auth.Credentials{AccessKey: "ROTATED-AK", SecretKey: "ROTATED-SK"}, nil)
	_, err = orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err, "rotated without a restart")
	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, koogallerytest.DefaultAccessKey, reqs[0].AccessKey)
	assert.Equal(t, "ROTATED-AK", reqs[1].AccessKey)

	p.set(auth.Credentials{}, errors.New("vault sealed"))
	_, err = orders.QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.Error(t, err)
	assert.ErrorIs(t, err, auth.ErrCredentials)
	assert.Contains(t, err.Error(), "vault sealed")
	assert.Len(t, fake.Requests(), 2, "nothing was sent")

	for _, bad := range [][]koogallery.Option{
		{koogallery.WithCredentialsProvider(nil)},
		{koogallery.WithCredentialsProvider(p), koogallery.WithSecurityToken("t")},
	} {
		_, err := koogallery.NewClient(bad...)
		assert.Error(t, err)
	}
}

type swapProvider struct {
	mu  sync.Mutex
	c   auth.Credentials
	err error
}

func (p *swapProvider) set(c auth.Credentials, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.c, p.err = c, err
}

func (p *swapProvider) Credentials(context.Context) (auth.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.c, p.err
}
