package kit_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/internal/testcert"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

var alice = kit.OAuthUser{
	ID: "u-1", UserName: "alice", Name: "Alice", Email: "alice@example.com", Mobile: "138****0000", Role: "admin",
	OrganizationName: "Example Co", OrganizationCode: "EX", UserID: "iam-1", ProjectName: "cn-north-4", Tenant: "tenant-1",
}

func newOAuth(t *testing.T, opts ...koogallerytest.OAuthServerOption) (*koogallerytest.OAuthServer, *kit.OAuthClient) {
	t.Helper()
	idp := koogallerytest.NewOAuthServer(opts...)
	t.Cleanup(idp.Close)
	c, err := idp.NewClient()
	require.NoError(t, err)
	return idp, c
}

func TestOAuthLoginFlow(t *testing.T) {
	t.Parallel()
	idp, c := newOAuth(t)
	ctx := context.Background()
	code := idp.Login(alice, "https://seller.example.com/callback")
	tok, err := c.Exchange(ctx, code, "https://seller.example.com/callback")
	require.NoError(t, err)
	assert.NotEmpty(t, tok.AccessToken)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, "bearer", tok.TokenType)
	assert.Equal(t, time.Hour, tok.ExpiresIn)
	assert.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, time.Minute)
	assert.False(t, tok.Expired(time.Now(), time.Minute))
	assert.True(t, tok.Expired(time.Now().Add(2*time.Hour), 0))

	u, err := c.UserInfo(ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, alice, *u)

	// The code is single use.
	_, err = c.Exchange(ctx, code, "https://seller.example.com/callback")
	var oe *kit.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Equal(t, 400, oe.StatusCode)
	assert.ErrorIs(t, err, koogallery.ErrAuthentication)

	// Refresh rotates both tokens.
	tok2, err := c.Refresh(ctx, tok.RefreshToken)
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, tok2.AccessToken)
	_, err = c.UserInfo(ctx, tok.AccessToken)
	assert.ErrorIs(t, err, koogallery.ErrAuthentication, "the old access token is revoked")
	u, err = c.UserInfo(ctx, tok2.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, "alice", u.UserName)
	_, err = c.Refresh(ctx, tok.RefreshToken)
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "kit: oauth refresh: HTTP 400 invalid_grant: Invalid refresh token", err.Error())

	logout, err := c.LogoutURL("https://seller.example.com/bye?x=1&y=2")
	require.NoError(t, err)
	assert.Equal(t, idp.URL+"/api/v1/logout?redirect_url=https%3A%2F%2Fseller.example.com%2Fbye%3Fx%3D1%26y%3D2", logout)
	// The logout answer redirects to the seller's page, which is not this
	// test's to visit (Go 1.26's test client would send it to the fake).
	noFollow := *idp.HTTPClient()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(logout)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{"https://seller.example.com/bye?x=1&y=2"}, idp.Logouts())
}

func TestOAuthErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	cases := []struct {
		name     string
		opts     []koogallerytest.OAuthServerOption
		call     func(*koogallerytest.OAuthServer, *kit.OAuthClient) error
		status   int
		code     string
		sentinel error
	}{
		{"unknown code", nil, func(_ *koogallerytest.OAuthServer, c *kit.OAuthClient) error {
			_, err := c.Exchange(context.Background(), "code-nope", "")
			return err
		}, 400, "invalid_grant", koogallery.ErrAuthentication},
		{"redirect URI mismatch", nil, func(s *koogallerytest.OAuthServer, c *kit.OAuthClient) error {
			_, err := c.Exchange(context.Background(), s.Login(alice, "https://a.example/cb"), "https://b.example/cb")
			return err
		}, 400, "invalid_grant", koogallery.ErrAuthentication},
		{"wrong client secret", []koogallerytest.OAuthServerOption{koogallerytest.WithOAuthCredentials(koogallerytest.DefaultOAuthClientID, "other")},
			func(s *koogallerytest.OAuthServer, c *kit.OAuthClient) error {
				_, err := c.Exchange(context.Background(), s.Login(alice, ""), "")
				return err
			}, 401, "invalid_client", koogallery.ErrAuthentication},
		{"expired access token", []koogallerytest.OAuthServerOption{koogallerytest.WithTokenLifetime(-time.Second), koogallerytest.WithClock(clock)},
			func(s *koogallerytest.OAuthServer, c *kit.OAuthClient) error {
				tok, err := c.Exchange(context.Background(), s.Login(alice, ""), "")
				if err != nil {
					return err
				}
				_, err = c.UserInfo(context.Background(), tok.AccessToken)
				return err
			}, 401, "invalid_token", koogallery.ErrAuthentication},
		{"unknown access token", nil, func(_ *koogallerytest.OAuthServer, c *kit.OAuthClient) error {
			_, err := c.UserInfo(context.Background(), "at-forged-token-value")
			return err
		}, 401, "invalid_token", koogallery.ErrAuthentication},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			idp := koogallerytest.NewOAuthServer(tc.opts...)
			t.Cleanup(idp.Close)
			c, err := kit.NewOAuthClient(idp.URL, koogallerytest.DefaultOAuthClientID, koogallerytest.DefaultOAuthClientSecret,
				kit.WithOAuthHTTPClient(idp.HTTPClient()))
			require.NoError(t, err)
			err = tc.call(idp, c)
			var oe *kit.OAuthError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, tc.status, oe.StatusCode)
			assert.Equal(t, tc.code, oe.Code)
			assert.ErrorIs(t, err, tc.sentinel)
		})
	}
}

func TestOAuthErrorClassification(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		body     string
		sentinel error
		code     string
	}{
		{400, `{"error":"invalid_grant","error_description":"Invalid refresh token"}`, koogallery.ErrAuthentication, "invalid_grant"},
		{400, `{"error":"unsupported_grant_type"}`, koogallery.ErrInvalidRequest, "unsupported_grant_type"},
		{400, `{"error":"invalid_request"}`, koogallery.ErrInvalidRequest, "invalid_request"},
		{403, `{"error":"access_denied"}`, koogallery.ErrPermission, "access_denied"},
		{503, `{"error":"temporarily_unavailable"}`, koogallery.ErrServer, "temporarily_unavailable"},
		{200, `{"error":"invalid_token","error_description":"x"}`, koogallery.ErrAuthentication, "invalid_token"},
		{400, `{"error":"brand_new_error"}`, koogallery.ErrInvalidRequest, "brand_new_error"},
		{401, `<html>nope</html>`, koogallery.ErrAuthentication, ""},
		{429, `{}`, koogallery.ErrThrottled, ""},
		{502, ``, koogallery.ErrServer, ""},
		{302, ``, koogallery.ErrServer, ""},
		{200, `not json`, koogallery.ErrServer, ""},
		{400, `{"error":7}`, koogallery.ErrInvalidRequest, "7"},
	}
	for _, tc := range cases {
		oe := kit.ParseOAuthError(tc.status, []byte(tc.body))
		require.NotNil(t, oe, tc.body)
		assert.ErrorIs(t, oe, tc.sentinel, "%d %s", tc.status, tc.body)
		assert.Equal(t, tc.code, oe.Code)
	}
	assert.Nil(t, kit.ParseOAuthError(200, []byte(`{"access_token":"x"}`)))
	oe := kit.ParseOAuthError(400, []byte(`{"error":"invalid_grant","error_description":"code abc-secret-123 used\n`+strings.Repeat("y", 400)+`"}`), "abc-secret-123")
	assert.NotContains(t, oe.Error(), "abc-secret-123")
	assert.Contains(t, oe.Description, "[REDACTED]")
	assert.NotContains(t, oe.Description, "\n")
	assert.LessOrEqual(t, len(oe.Description), 260)
}

func TestOAuthSecretsStayOut(t *testing.T) {
	t.Parallel()
	idp, c := newOAuth(t)
	ctx := context.Background()
	code := idp.Login(alice, "")
	tok, err := c.Exchange(ctx, code, "")
	require.NoError(t, err)

	var texts []string
	// The fake echoes the code and the token in its error descriptions.
	_, err = c.Exchange(ctx, code, "")
	require.Error(t, err)
	texts = append(texts, err.Error())
	_, err = c.UserInfo(ctx, tok.AccessToken+"x")
	require.Error(t, err)
	texts = append(texts, err.Error())

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("token", "token", tok, "client", c)
	texts = append(texts, logs.String(), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), fmt.Sprintf("%+v %#v", c, c))
	for _, s := range texts {
		assert.NotContains(t, s, koogallerytest.DefaultOAuthClientSecret)
		assert.NotContains(t, s, tok.AccessToken)
		assert.NotContains(t, s, tok.RefreshToken)
		assert.NotContains(t, s, code)
	}
	assert.Contains(t, texts[0], "[REDACTED]", "the echoed code was redacted, not dropped")
}

func TestNewOAuthClientRefusesUnsafeSetups(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		domain string
		opts   []kit.OAuthOption
	}{
		"http domain":     {"http://tenant.example.com", nil},
		"no host":         {"https://", nil},
		"user info":       {"https://u:p@tenant.example.com", nil},
		"query":           {"https://tenant.example.com?x=1", nil},
		"relative":        {"tenant.example.com", nil},
		"insecure client": {"https://tenant.example.com", []kit.OAuthOption{kit.WithOAuthHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}})}},
		"nil client":      {"https://tenant.example.com", []kit.OAuthOption{kit.WithOAuthHTTPClient(nil)}},
		"zero timeout":    {"https://tenant.example.com", []kit.OAuthOption{kit.WithOAuthTimeout(0)}},
	}
	for name, tc := range cases {
		_, err := kit.NewOAuthClient(tc.domain, "id", "secret", tc.opts...)
		assert.Error(t, err, name)
	}
	_, err := kit.NewOAuthClient("https://tenant.example.com", "", "secret")
	assert.Error(t, err)
	c, err := kit.NewOAuthClient("https://tenant.example.com/prefix/", "id", "secret")
	require.NoError(t, err)
	u, err := c.LogoutURL("https://seller.example.com/")
	require.NoError(t, err)
	assert.Equal(t, "https://tenant.example.com/prefix/api/v1/logout?redirect_url=https%3A%2F%2Fseller.example.com%2F", u)
	for _, bad := range []string{"", "/relative", "javascript:alert(1)", "ftp://x.example"} {
		_, err := c.LogoutURL(bad)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest, bad)
	}
	_, err = c.Exchange(context.Background(), "", "")
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	_, err = c.Refresh(context.Background(), "")
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	_, err = c.UserInfo(context.Background(), "")
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
}

// A redirect is never followed: the secret must not reach another host.
func TestOAuthDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere int
	other := testcert.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere++ }))
	t.Cleanup(other.Close)
	redirecting := testcert.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	pool := redirecting.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	pool.AddCert(other.Certificate())
	c, err := kit.NewOAuthClient(redirecting.URL, "id", "client-secret-value", kit.WithOAuthHTTPClient(redirecting.Client()))
	require.NoError(t, err)
	_, err = c.Exchange(context.Background(), "code-1", "")
	var oe *kit.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusTemporaryRedirect, oe.StatusCode)
	assert.Contains(t, err.Error(), "redirect not followed")
	assert.Zero(t, elsewhere)
}

func TestOAuthTimeoutAndTransportErrors(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	slow := testcert.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	t.Cleanup(func() { close(block); slow.Close() })
	c, err := kit.NewOAuthClient(slow.URL, "id", "client-secret-value", kit.WithOAuthHTTPClient(slow.Client()),
		kit.WithOAuthTimeout(50*time.Millisecond))
	require.NoError(t, err)
	_, err = c.UserInfo(context.Background(), "token-value-123")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kit: oauth userinfo: GET /api/v1/oauth2/userinfo")
	assert.NotContains(t, err.Error(), "token-value-123")

	// A server whose certificate is not trusted is refused.
	c, err = kit.NewOAuthClient(slow.URL, "id", "client-secret-value")
	require.NoError(t, err)
	_, err = c.Exchange(context.Background(), "code", "")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate")
	u, _ := url.Parse(slow.URL)
	assert.Contains(t, err.Error(), "POST /api/v1/oauth2/token")
	assert.NotEmpty(t, u.Host)
}
