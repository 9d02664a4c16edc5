package koogallerytest_test

import (
	"context"
	"github.com/isvkit/koogallery/saas/kit"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/order"
)

// TestServerIsServedUnderAPathPrefix: a client that builds absolute paths
// (dropping its endpoint's path) fails against the fake as it would behind
// a proxy, instead of passing by luck.
func TestServerIsServedUnderAPathPrefix(t *testing.T) {
	t.Parallel()
	fake := koogallerytest.NewServer()
	defer fake.Close()
	require.True(t, strings.HasSuffix(fake.URL, koogallerytest.BasePath))
	kg, err := fake.NewClient()
	require.NoError(t, err)
	_, err = order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err)

	// The same call at the server's root: what an absolute-path bug sends.
	root := strings.TrimSuffix(fake.URL, koogallerytest.BasePath)
	signer, err := auth.NewSigner(koogallerytest.DefaultAccessKey, koogallerytest.DefaultSecretKey)
	require.NoError(t, err)
	client := &http.Client{Transport: &auth.Transport{Signer: signer}}
	resp, err := client.Get(root + order.QueryPath + "?orderId=MOCKPERIODYEARNEW")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.ErrorIs(t, koogallery.CheckResponse(resp), koogallery.ErrNotFound)

	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, order.QueryPath, reqs[0].Path, "recorded without the prefix")
	assert.NoError(t, reqs[0].AuthError, "verified over the whole path, as signed")
	assert.Equal(t, order.QueryPath, reqs[1].Path, "outside the prefix: the whole path")
	assert.Equal(t, "APIGW.0101", reqs[1].Code)
}

// TestOneClockForTheFakes: koogallerytest.WithClock configures the fake
// open API, the identity provider and the senders alike.
func TestOneClockForTheFakes(t *testing.T) {
	t.Parallel()
	clk := koogallerytest.NewClock(time.Date(2030, 6, 1, 8, 0, 0, 0, time.UTC)) // far from the real clock on any date
	fake := koogallerytest.NewServer(koogallerytest.WithClock(clk.Now))
	defer fake.Close()

	// Signed by the same clock: accepted although the real clock is years away.
	kg, err := fake.NewClient(koogallery.WithClock(clk.Now))
	require.NoError(t, err)
	_, err = order.NewClient(kg).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	require.NoError(t, err)
	// Signed by the real clock: refused as the gateway would.
	real, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	_, err = order.NewClient(real).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	assert.ErrorIs(t, err, koogallery.ErrAuthentication)
	// The deprecated name still works.
	old := koogallerytest.NewServer(koogallerytest.WithClock(clk.Now))
	defer old.Close()
	kgOld, err := old.NewClient(koogallery.WithClock(clk.Now))
	require.NoError(t, err)
	_, err = order.NewClient(kgOld).QueryOrder(context.Background(), "MOCKPERIODYEARNEW")
	assert.NoError(t, err)

	idp := koogallerytest.NewOAuthServer(koogallerytest.WithClock(clk.Now), koogallerytest.WithTokenLifetime(time.Minute))
	defer idp.Close()
	oc, err := idp.NewClient()
	require.NoError(t, err)
	code := idp.Login(kit.OAuthUser{UserName: "alice"}, "")
	tok, err := oc.Exchange(context.Background(), code, "")
	require.NoError(t, err)
	_, err = oc.UserInfo(context.Background(), tok.AccessToken)
	require.NoError(t, err)
	clk.Advance(2 * time.Minute) // the fake's clock moves the token past its lifetime
	_, err = oc.UserInfo(context.Background(), tok.AccessToken)
	assert.Error(t, err)

	// One option value is accepted by every constructor.
	opt := koogallerytest.WithClock(clk.Now)
	_ = koogallerytest.NewSender("key", opt)
	_ = koogallerytest.NewV1Sender("key", opt)
	s := koogallerytest.NewServer(opt)
	s.Close()
}
