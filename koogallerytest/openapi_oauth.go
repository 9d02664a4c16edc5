package koogallerytest

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery/internal/testcert"
	"github.com/isvkit/koogallery/saas/kit"
)

// Default client credentials of a fake OAuthServer.
const (
	DefaultOAuthClientID     = "koogallerytest-client-id"
	DefaultOAuthClientSecret = "koogallerytest-client-secret-0001"
)

// OAuthServer is an in-process fake of the joint-operation identity
// provider at a tenant's domain: the token endpoint (authorisation code and
// refresh token grants), userinfo and logout. It serves HTTPS with a test
// certificate (the SDK's OAuth client requires https); NewClient and
// HTTPClient trust it. Codes are single use; tokens expire after the
// configured lifetime; a refresh rotates both tokens. It is safe for
// concurrent use.
type OAuthServer struct {
	// URL is the tenant domain to give kit.NewOAuthClient.
	URL string

	srv      *httptest.Server
	id       string
	secret   string
	lifetime time.Duration
	now      func() time.Time

	mu      sync.Mutex
	codes   map[string]*oauthGrant
	access  map[string]*oauthGrant
	refresh map[string]*oauthGrant
	logouts []string
}

type oauthGrant struct {
	user        kit.OAuthUser
	redirectURI string
	expires     time.Time
}

// OAuthServerOption configures NewOAuthServer: WithOAuthCredentials,
// WithTokenLifetime, WithClock.
type OAuthServerOption interface{ applyOAuth(*OAuthServer) }

// WithOAuthCredentials sets the client ID and secret the fake accepts.
func WithOAuthCredentials(clientID, clientSecret string) OAuthServerOption {
	return oauthFunc(func(s *OAuthServer) { s.id, s.secret = clientID, clientSecret })
}

// WithTokenLifetime sets how long access tokens last (default one hour).
func WithTokenLifetime(d time.Duration) OAuthServerOption {
	return oauthFunc(func(s *OAuthServer) { s.lifetime = d })
}

// codeLifetime is how long an authorisation code can be exchanged.
const codeLifetime = 5 * time.Minute

// NewOAuthServer starts a fake identity provider. Close it when done.
func NewOAuthServer(opts ...OAuthServerOption) *OAuthServer {
	s := &OAuthServer{
		id: DefaultOAuthClientID, secret: DefaultOAuthClientSecret, lifetime: time.Hour, now: time.Now,
		codes: map[string]*oauthGrant{}, access: map[string]*oauthGrant{}, refresh: map[string]*oauthGrant{},
	}
	for _, o := range opts {
		if o != nil {
			o.applyOAuth(s)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc(kit.OAuthTokenPath, s.token)
	mux.HandleFunc(kit.OAuthUserInfoPath, s.userInfo)
	mux.HandleFunc(kit.OAuthLogoutPath, s.logout)
	s.srv = testcert.NewTLSServer(mux)
	s.URL = s.srv.URL
	return s
}

// Close shuts the server down.
func (s *OAuthServer) Close() { s.srv.Close() }

// HTTPClient returns an HTTP client that trusts the fake's certificate.
func (s *OAuthServer) HTTPClient() *http.Client { return s.srv.Client() }

// NewClient returns a kit.OAuthClient for this server with the default
// credentials; opts are applied after the fake's HTTP client.
func (s *OAuthServer) NewClient(opts ...kit.OAuthOption) (*kit.OAuthClient, error) {
	return kit.NewOAuthClient(s.URL, s.id, s.secret, append([]kit.OAuthOption{kit.WithOAuthHTTPClient(s.HTTPClient())}, opts...)...)
}

// Login does what KooGallery's login page does once the user signed in: it
// issues a single-use authorisation code for user, bound to redirectURI
// (which the exchange must then repeat; "" binds none).
func (s *OAuthServer) Login(user kit.OAuthUser, redirectURI string) string {
	code := randomToken("code-")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = &oauthGrant{user: user, redirectURI: redirectURI, expires: s.now().Add(codeLifetime)}
	return code
}

// Logouts returns the redirect_url of every logout request received.
func (s *OAuthServer) Logouts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logouts...)
}

func randomToken(prefix string) string {
	var b [20]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (s *OAuthServer) token(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "POST required")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "form-encoded body required")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed body")
		return
	}
	f := r.PostForm
	if subtle.ConstantTimeCompare([]byte(f.Get("client_id")), []byte(s.id)) != 1 ||
		subtle.ConstantTimeCompare([]byte(f.Get("client_secret")), []byte(s.secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Bad client credentials")
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *oauthGrant
	switch f.Get("grant_type") {
	case "authorization_code":
		code := f.Get("code")
		if code == "" {
			oauthError(w, http.StatusBadRequest, "invalid_request", "Missing code")
			return
		}
		g = s.codes[code]
		delete(s.codes, code) // single use, also when the exchange fails
		switch {
		case g == nil || now.After(g.expires):
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid authorization code: "+code)
			return
		case g.redirectURI != "" && f.Get("redirect_uri") != g.redirectURI:
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Redirect URI mismatch.")
			return
		}
	case "refresh_token":
		rt := f.Get("refresh_token")
		g = s.refresh[rt]
		if g == nil {
			oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
			return
		}
		delete(s.refresh, rt)
		for at, ag := range s.access {
			if ag == g {
				delete(s.access, at) // rotation revokes the old access token
			}
		}
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing grant type")
		return
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant type: "+f.Get("grant_type"))
		return
	}
	ng := &oauthGrant{user: g.user, expires: now.Add(s.lifetime)}
	at, rt := randomToken("at-"), randomToken("rt-")
	s.access[at], s.refresh[rt] = ng, ng
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": at, "token_type": "bearer", "refresh_token": rt,
		"expires_in": int64(s.lifetime / time.Second), "scope": "all",
	})
}

func (s *OAuthServer) userInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "GET required")
		return
	}
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || at == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Full authentication is required")
		return
	}
	s.mu.Lock()
	g := s.access[at]
	s.mu.Unlock()
	switch {
	case g == nil:
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Invalid access token: "+at)
		return
	case s.now().After(g.expires):
		oauthError(w, http.StatusUnauthorized, "invalid_token", "Access token expired: "+at)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	json.NewEncoder(w).Encode(g.user)
}

func (s *OAuthServer) logout(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("redirect_url")
	u, err := url.Parse(target)
	if r.Method != http.MethodGet || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "redirect_url must be an absolute URL")
		return
	}
	s.mu.Lock()
	s.logouts = append(s.logouts, target)
	s.mu.Unlock()
	http.Redirect(w, r, target, http.StatusFound)
}
