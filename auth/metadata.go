package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The ECS metadata service, as Huawei Cloud's SDKs call it.
const (
	// DefaultMetadataEndpoint is the metadata service of every Huawei Cloud
	// ECS instance (and of the nodes of a CCE cluster).
	DefaultMetadataEndpoint = "http://169.254.169.254"
	// MetadataTokenPath issues the session token that instances configured
	// to require one expect in X-Metadata-Token (PUT, with the token's
	// lifetime in X-Metadata-Token-Ttl-Seconds).
	MetadataTokenPath = "/meta-data/latest/api/token"
	// MetadataSecurityKeyPath answers the temporary credentials of the
	// agency bound to the instance.
	MetadataSecurityKeyPath = "/openstack/latest/securitykey"

	metadataTokenTTL       = 6 * time.Hour // what Huawei Cloud's SDKs ask for
	metadataNoTokenRecheck = 24 * time.Hour
	metadataMaxBody        = 64 << 10
	defaultMetadataTimeout = 3 * time.Second
	noAgencyMessage        = "Please configure Cloud Service Agency first"
)

// MetadataCredentials fetches the temporary credentials (AK, SK and
// security token) of the cloud service agency (委托) bound to the Huawei
// Cloud ECS instance or CCE node the program runs on, from the instance's
// metadata service, the way Huawei Cloud's own SDKs do: a session token
// from PUT /meta-data/latest/api/token where the instance requires one (an
// instance that answers 404 or 405 does not, and is asked again a day
// later), then GET /openstack/latest/securitykey, whose credential member
// carries access, secret, securitytoken and expires_at. A 401 answer with a
// session token fetches a new token and tries once more.
//
// Every call asks the service: wrap it in a CredentialsCache, which
// refreshes before expires_at. The zero value is ready to use; it must not
// be copied after first use. It is safe for concurrent use.
type MetadataCredentials struct {
	// Endpoint is the metadata service's base URL (default
	// DefaultMetadataEndpoint); tests point it at a stand-in.
	Endpoint string
	// Client sends the requests. The default never uses a proxy (the
	// service is link-local), never follows a redirect, and dials for at
	// most a second.
	Client *http.Client
	// Timeout bounds one fetch, session token included (default 3 s, as in
	// Huawei Cloud's SDKs), within the context's own deadline.
	Timeout time.Duration

	mu           sync.Mutex
	token        string
	tokenUntil   time.Time
	noTokenUntil time.Time
}

var defaultMetadataClient = &http.Client{
	Transport: &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: time.Second}).DialContext,
		ResponseHeaderTimeout: defaultMetadataTimeout,
		MaxIdleConns:          1,
		IdleConnTimeout:       30 * time.Second,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Credentials fetches the instance's current temporary credentials.
func (m *MetadataCredentials) Credentials(ctx context.Context) (Credentials, error) {
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = defaultMetadataTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	token, err := m.sessionToken(ctx, false)
	if err != nil {
		return Credentials{}, err
	}
	status, body, err := m.get(ctx, token)
	if err != nil {
		return Credentials{}, err
	}
	if status == http.StatusUnauthorized && !bytes.Contains(body, []byte(noAgencyMessage)) {
		// The session token expired or is required: get one and try again.
		if token, err = m.sessionToken(ctx, true); err != nil {
			return Credentials{}, err
		}
		if status, body, err = m.get(ctx, token); err != nil {
			return Credentials{}, err
		}
	}
	if status != http.StatusOK {
		if bytes.Contains(body, []byte(noAgencyMessage)) {
			return Credentials{}, fmt.Errorf("auth: metadata credentials: HTTP %d: no cloud service agency is bound to this instance; bind one (委托) in the ECS console", status)
		}
		return Credentials{}, fmt.Errorf("auth: metadata credentials: HTTP %d", status)
	}
	var doc struct {
		Credential *struct {
			Access        string `json:"access"`
			Secret        string `json:"secret"`
			SecurityToken string `json:"securitytoken"`
			ExpiresAt     string `json:"expires_at"`
		} `json:"credential"`
	}
	// The body holds secrets: errors never quote it.
	if json.Unmarshal(body, &doc) != nil || doc.Credential == nil {
		return Credentials{}, errors.New("auth: metadata credentials: the answer is not the documented JSON")
	}
	cr := doc.Credential
	if cr.Access == "" || cr.Secret == "" || cr.SecurityToken == "" {
		return Credentials{}, errors.New("auth: metadata credentials: the answer lacks access, secret or securitytoken")
	}
	expires, err := time.Parse(time.RFC3339, cr.ExpiresAt)
	if err != nil {
		return Credentials{}, fmt.Errorf("auth: metadata credentials: expires_at %q is not an RFC 3339 time", clip(cr.ExpiresAt))
	}
	return Credentials{AccessKey: cr.Access, SecretKey: cr.Secret, SecurityToken: cr.SecurityToken, Expires: expires}, nil
}

func (m *MetadataCredentials) endpoint() string {
	if m.Endpoint == "" {
		return DefaultMetadataEndpoint
	}
	return strings.TrimRight(m.Endpoint, "/")
}

func (m *MetadataCredentials) client() *http.Client {
	if m.Client == nil {
		return defaultMetadataClient
	}
	return m.Client
}

// sessionToken returns the session token to send, "" when the instance
// requires none. force discards a cached token.
func (m *MetadataCredentials) sessionToken(ctx context.Context, force bool) (string, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if !force {
		if m.token != "" && now.Before(m.tokenUntil) {
			return m.token, nil
		}
		if m.token == "" && now.Before(m.noTokenUntil) {
			return "", nil
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, m.endpoint()+MetadataTokenPath, http.NoBody)
	if err != nil {
		return "", fmt.Errorf("auth: metadata session token: %w", err)
	}
	req.Header.Set("X-Metadata-Token-Ttl-Seconds", strconv.Itoa(int(metadataTokenTTL/time.Second)))
	status, body, err := m.do(req)
	if err != nil {
		return "", fmt.Errorf("auth: metadata session token: %w", err)
	}
	switch {
	case status == http.StatusOK && len(bytes.TrimSpace(body)) > 0 && checkHeaderValue(string(bytes.TrimSpace(body))) == nil:
		m.token = string(bytes.TrimSpace(body))
		m.tokenUntil = now.Add(metadataTokenTTL - time.Minute)
		return m.token, nil
	case (status == http.StatusNotFound || status == http.StatusMethodNotAllowed) && !force:
		m.token, m.noTokenUntil = "", now.Add(metadataNoTokenRecheck)
		return "", nil
	}
	return "", fmt.Errorf("auth: metadata session token: HTTP %d", status)
}

// get asks for the security key with the session token, if any.
func (m *MetadataCredentials) get(ctx context.Context, token string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.endpoint()+MetadataSecurityKeyPath, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("auth: metadata credentials: %w", err)
	}
	if token != "" {
		req.Header.Set("X-Metadata-Token", token)
	}
	status, body, err := m.do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("auth: metadata credentials: %w", err)
	}
	return status, body, nil
}

// do sends req and reads a bounded body. Transport errors are stripped of
// the URL net/http puts into them.
func (m *MetadataCredentials) do(req *http.Request) (int, []byte, error) {
	resp, err := m.client().Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataMaxBody+1))
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	if len(body) > metadataMaxBody {
		return 0, nil, fmt.Errorf("the answer exceeds %d bytes", metadataMaxBody)
	}
	return resp.StatusCode, body, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
