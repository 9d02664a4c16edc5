package kit

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/internal/wire"
)

// Paths of the joint-operation (联营) OAuth endpoints, relative to the
// tenant's domain.
const (
	OAuthTokenPath    = "/api/v1/oauth2/token"
	OAuthUserInfoPath = "/api/v1/oauth2/userinfo"
	OAuthLogoutPath   = "/api/v1/logout"
)

// maxOAuthResponse bounds the answers the OAuth client reads.
const maxOAuthResponse = 1 << 20

// OAuthClient logs buyers of a joint-operation SaaS product in through
// KooGallery's identity provider: it exchanges the authorisation code the
// login page returns for tokens, refreshes them, reads the user's details,
// and builds the logout URL.
//
// It does not use AK/SK. The tenant's domain comes from the tenant-sync
// call and must be https; the client ID and the decrypted client secret
// from the application-sync call. Requests go through a plain HTTP client
// with strict TLS verification and a timeout, and never follow redirects (a
// client secret or token must not travel to another host). Secrets and
// tokens never appear in errors or logs. An OAuthClient is safe for
// concurrent use.
type OAuthClient struct {
	domain   *url.URL
	clientID string
	secret   *secretText
	http     *http.Client
}

// OAuthOption configures NewOAuthClient.
type OAuthOption func(*oauthConfig) error

type oauthConfig struct {
	hc      *http.Client
	timeout time.Duration
}

// WithOAuthHTTPClient sets the HTTP client (its Transport, Timeout and
// Jar); its CheckRedirect is replaced by one that follows no redirect. A
// transport that skips TLS verification is refused.
func WithOAuthHTTPClient(hc *http.Client) OAuthOption {
	return func(c *oauthConfig) error {
		if hc == nil {
			return errors.New("kit: oauth: nil http client")
		}
		if t, ok := hc.Transport.(*http.Transport); ok && t.TLSClientConfig != nil && t.TLSClientConfig.InsecureSkipVerify {
			return errors.New("kit: oauth: the HTTP client skips TLS verification")
		}
		c.hc = hc
		return nil
	}
}

// WithOAuthTimeout bounds each call (default 30 s, or the HTTP client's
// Timeout when it sets one).
func WithOAuthTimeout(d time.Duration) OAuthOption {
	return func(c *oauthConfig) error {
		if d <= 0 {
			return errors.New("kit: oauth: timeout must be positive")
		}
		c.timeout = d
		return nil
	}
}

// NewOAuthClient returns an OAuthClient for the tenant's domain (for
// example "https://tenant.example.com", as the tenant-sync call gives it;
// a path prefix is kept).
func NewOAuthClient(domain, clientID, clientSecret string, opts ...OAuthOption) (*OAuthClient, error) {
	u, err := url.Parse(strings.TrimRight(domain, "/"))
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return nil, errors.New("kit: oauth: domain must be an absolute https URL without user info, query or fragment")
	case u.Scheme != "https":
		return nil, errors.New("kit: oauth: domain must be https")
	case clientID == "" || clientSecret == "":
		return nil, errors.New("kit: oauth: client ID and client secret are required")
	}
	var cfg oauthConfig
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	hc := &http.Client{}
	if cfg.hc != nil {
		*hc = *cfg.hc
	}
	if hc.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		hc.Transport = t
	}
	switch {
	case cfg.timeout > 0:
		hc.Timeout = cfg.timeout
	case hc.Timeout == 0:
		hc.Timeout = 30 * time.Second
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &OAuthClient{domain: u, clientID: clientID, secret: &secretText{clientSecret}, http: hc}, nil
}

// secretText holds a secret behind a pointer with redacting methods, so
// that printing the client with %+v cannot reveal it.
type secretText struct{ v string }

// String hides the secret.
func (s *secretText) String() string { return "[REDACTED]" }

// GoString hides the secret.
func (s *secretText) GoString() string { return "[REDACTED]" }

// LogValue hides the secret from slog.
func (s *secretText) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// OAuthToken is the token endpoint's answer. Its String, GoString and
// LogValue methods hide the tokens, so logging a token by mistake does not
// leak it.
//
// The answer's members are not documented beyond the standard OAuth 2.0
// ones (「OAuth获取AccessToken」): access_token, token_type, expires_in (a
// number or a numeric string), refresh_token, scope.
type OAuthToken struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	Scope        string
	// ExpiresIn is the access token's lifetime as sent; Expiry is when it
	// ends, from the local clock at receipt (zero when not sent).
	ExpiresIn time.Duration
	Expiry    time.Time
}

// String describes the token without its secrets.
func (t *OAuthToken) String() string {
	if t == nil {
		return "<nil>"
	}
	return fmt.Sprintf("OAuthToken{TokenType: %q, Scope: %q, Expiry: %s, AccessToken: [REDACTED], RefreshToken: [REDACTED]}",
		t.TokenType, t.Scope, t.Expiry.Format(time.RFC3339))
}

// GoString is String, for %#v.
func (t *OAuthToken) GoString() string { return t.String() }

// LogValue logs the token without its secrets.
func (t *OAuthToken) LogValue() slog.Value {
	if t == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("token_type", t.TokenType), slog.String("scope", t.Scope), slog.Time("expiry", t.Expiry))
}

// Expired reports whether the access token has expired at now, with a
// margin; a token without expiry never does.
func (t *OAuthToken) Expired(now time.Time, margin time.Duration) bool {
	return !t.Expiry.IsZero() && !now.Add(margin).Before(t.Expiry)
}

// OAuthUser is the logged-in user, from the userinfo endpoint.
type OAuthUser struct {
	ID               string `json:"id"`
	UserName         string `json:"userName"`
	Name             string `json:"name"`
	Email            string `json:"email"`
	Mobile           string `json:"mobile"`
	Role             string `json:"role"`
	OrganizationName string `json:"organizationName"`
	OrganizationCode string `json:"organizationCode"`
	UserID           string `json:"userId"`
	ProjectName      string `json:"projectName"`
	Tenant           string `json:"tenant"`
}

// UnmarshalJSON reads the userinfo answer tolerantly (numbers as strings
// and the reverse, nulls).
func (u *OAuthUser) UnmarshalJSON(b []byte) error {
	var aux struct {
		ID               wire.String `json:"id"`
		UserName         wire.String `json:"userName"`
		Name             wire.String `json:"name"`
		Email            wire.String `json:"email"`
		Mobile           wire.String `json:"mobile"`
		Role             wire.String `json:"role"`
		OrganizationName wire.String `json:"organizationName"`
		OrganizationCode wire.String `json:"organizationCode"`
		UserID           wire.String `json:"userId"`
		ProjectName      wire.String `json:"projectName"`
		Tenant           wire.String `json:"tenant"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*u = OAuthUser{ID: string(aux.ID), UserName: string(aux.UserName), Name: string(aux.Name), Email: string(aux.Email),
		Mobile: string(aux.Mobile), Role: string(aux.Role), OrganizationName: string(aux.OrganizationName),
		OrganizationCode: string(aux.OrganizationCode), UserID: string(aux.UserID), ProjectName: string(aux.ProjectName),
		Tenant: string(aux.Tenant)}
	return nil
}

// Exchange trades the single-use authorisation code from the login page
// for tokens (grant_type=authorization_code). redirectURI is sent when not
// empty; it must then equal the one the login used.
func (c *OAuthClient) Exchange(ctx context.Context, code, redirectURI string) (*OAuthToken, error) {
	if code == "" {
		return nil, fmt.Errorf("kit: oauth exchange: %w: empty code", koogallery.ErrInvalidRequest)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}}
	if redirectURI != "" {
		form.Set("redirect_uri", redirectURI)
	}
	return c.token(ctx, "exchange", form, code)
}

// Refresh trades a refresh token for new tokens (grant_type=refresh_token,
// 「OAuth刷新Access Token」, which documents this form only in part).
func (c *OAuthClient) Refresh(ctx context.Context, refreshToken string) (*OAuthToken, error) {
	if refreshToken == "" {
		return nil, fmt.Errorf("kit: oauth refresh: %w: empty refresh token", koogallery.ErrInvalidRequest)
	}
	return c.token(ctx, "refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}, refreshToken)
}

func (c *OAuthClient) token(ctx context.Context, op string, form url.Values, sent string) (*OAuthToken, error) {
	form.Set("client_id", c.clientID)
	form.Set("client_secret", c.secret.v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(OAuthTokenPath), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("kit: oauth %s: %w", op, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var aux struct {
		AccessToken  wire.String `json:"access_token"`
		TokenType    wire.String `json:"token_type"`
		RefreshToken wire.String `json:"refresh_token"`
		Scope        wire.String `json:"scope"`
		ExpiresIn    wire.Int    `json:"expires_in"`
	}
	received, err := c.do(req, op, &aux, sent)
	if err != nil {
		return nil, err
	}
	if aux.AccessToken == "" {
		return nil, &OAuthError{Op: op, StatusCode: http.StatusOK, Description: "the answer has no access_token"}
	}
	t := &OAuthToken{AccessToken: string(aux.AccessToken), TokenType: string(aux.TokenType),
		RefreshToken: string(aux.RefreshToken), Scope: string(aux.Scope)}
	if aux.ExpiresIn > 0 {
		t.ExpiresIn = time.Duration(aux.ExpiresIn) * time.Second
		t.Expiry = received.Add(t.ExpiresIn)
	}
	return t, nil
}

// UserInfo returns the user the access token belongs to.
func (c *OAuthClient) UserInfo(ctx context.Context, accessToken string) (*OAuthUser, error) {
	if accessToken == "" {
		return nil, fmt.Errorf("kit: oauth userinfo: %w: empty access token", koogallery.ErrInvalidRequest)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(OAuthUserInfoPath), nil)
	if err != nil {
		return nil, fmt.Errorf("kit: oauth userinfo: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	var u OAuthUser
	if _, err := c.do(req, "userinfo", &u, accessToken); err != nil {
		return nil, err
	}
	return &u, nil
}

// LogoutURL returns the URL to send the buyer's browser to for logging
// out: {domain}/api/v1/logout?redirect_url=<redirectURL>, where redirectURL
// (an absolute http or https URL) is where KooGallery sends the browser
// afterwards.
func (c *OAuthClient) LogoutURL(redirectURL string) (string, error) {
	r, err := url.Parse(redirectURL)
	if err != nil || (r.Scheme != "https" && r.Scheme != "http") || r.Host == "" {
		return "", fmt.Errorf("kit: oauth logout URL: %w: the redirect URL must be an absolute http(s) URL", koogallery.ErrInvalidRequest)
	}
	return c.endpoint(OAuthLogoutPath) + "?" + url.Values{"redirect_url": {redirectURL}}.Encode(), nil
}

func (c *OAuthClient) endpoint(path string) string {
	u := *c.domain
	u.Path = c.domain.Path + path
	u.RawPath = ""
	return u.String()
}

// do sends req and decodes a 2xx JSON answer into v; anything else is an
// *OAuthError. sent is the code or token the request carried, redacted from
// whatever the server echoes.
func (c *OAuthClient) do(req *http.Request, op string, v any, sent string) (time.Time, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		for errors.As(err, &ue) {
			err = ue.Err // the URL carries no secret, but keep errors short
		}
		return time.Time{}, fmt.Errorf("kit: oauth %s: %s %s: %w", op, req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	received := time.Now()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxOAuthResponse+1))
	if err != nil {
		return time.Time{}, fmt.Errorf("kit: oauth %s: read answer: %w", op, err)
	}
	redact := []string{c.secret.v, sent}
	if len(body) > maxOAuthResponse {
		return time.Time{}, &OAuthError{Op: op, StatusCode: resp.StatusCode, Description: "answer larger than 1 MiB"}
	}
	if oe := parseOAuthError(resp.StatusCode, body, redact); oe != nil {
		oe.Op = op
		return time.Time{}, oe
	}
	if err := json.Unmarshal(body, v); err != nil {
		return time.Time{}, &OAuthError{Op: op, StatusCode: resp.StatusCode, Description: "the answer is not the expected JSON"}
	}
	return received, nil
}

// OAuthError is a failure the identity provider reported: the standard
// {"error", "error_description"} body, or a status or body that is not a
// success. It matches the koogallery sentinels with errors.Is:
// invalid_grant, invalid_client, unauthorized_client, invalid_token and
// HTTP 401 are koogallery.ErrAuthentication; access_denied,
// insufficient_scope and HTTP 403 koogallery.ErrPermission; invalid_request,
// unsupported_grant_type, invalid_scope and other 4xx
// koogallery.ErrInvalidRequest; server_error, temporarily_unavailable, 5xx
// and unreadable answers koogallery.ErrServer; HTTP 429
// koogallery.ErrThrottled. Its text never holds the client secret or a
// token: any the server echoes is redacted.
type OAuthError struct {
	// Op is the call: "exchange", "refresh" or "userinfo".
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the error member (e.g. "invalid_grant"), empty when the
	// answer had none.
	Code string
	// Description is error_description, or what was wrong with the answer.
	Description string
}

// Error describes the failure.
func (e *OAuthError) Error() string {
	var b strings.Builder
	b.WriteString("kit: oauth ")
	b.WriteString(e.Op)
	fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	if e.Code != "" {
		b.WriteString(" ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	return b.String()
}

// Is reports whether target is the koogallery sentinel this error is
// classified as.
func (e *OAuthError) Is(target error) bool {
	c := e.class()
	return c != nil && c == target
}

func (e *OAuthError) class() error {
	switch e.Code {
	case "invalid_grant", "invalid_client", "unauthorized_client", "invalid_token":
		return koogallery.ErrAuthentication
	case "access_denied", "insufficient_scope":
		return koogallery.ErrPermission
	case "invalid_request", "unsupported_grant_type", "invalid_scope", "unsupported_response_type":
		return koogallery.ErrInvalidRequest
	case "server_error", "temporarily_unavailable":
		return koogallery.ErrServer
	}
	switch s := e.StatusCode; {
	case s == http.StatusUnauthorized:
		return koogallery.ErrAuthentication
	case s == http.StatusForbidden:
		return koogallery.ErrPermission
	case s == http.StatusTooManyRequests:
		return koogallery.ErrThrottled
	case s >= 500, s < 400:
		return koogallery.ErrServer
	}
	return koogallery.ErrInvalidRequest
}

// maxDescription bounds the error_description kept in an OAuthError.
const maxDescription = 256

// ParseOAuthError returns the *OAuthError an answer with this status and
// body stands for, or nil for a 2xx answer without an error member. It is
// what the client applies to every answer; secrets (the client secret and
// the code or token sent) are replaced by [REDACTED] wherever the body
// echoes them.
func ParseOAuthError(status int, body []byte, secrets ...string) *OAuthError {
	return parseOAuthError(status, body, secrets)
}

func parseOAuthError(status int, body []byte, secrets []string) *OAuthError {
	var env struct {
		Error       json.RawMessage `json:"error"`
		Description json.RawMessage `json:"error_description"`
	}
	trimmed := bytes.TrimSpace(body)
	isJSON := len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &env) == nil
	code := wire.Text(env.Error)
	ok := status >= 200 && status < 300
	switch {
	case status >= 300 && status < 400:
		return &OAuthError{StatusCode: status, Description: "redirect not followed"}
	case ok && isJSON && code == "":
		return nil
	case ok && !isJSON:
		return &OAuthError{StatusCode: status, Description: "the answer is not JSON"}
	case !isJSON:
		return &OAuthError{StatusCode: status, Description: "the answer is not the documented JSON error"}
	}
	return &OAuthError{StatusCode: status, Code: cleanText(code, 64, secrets), Description: cleanText(wire.Text(env.Description), maxDescription, secrets)}
}

// cleanText redacts secrets, drops control characters and bounds the
// length of text from the server.
func cleanText(s string, max int, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
