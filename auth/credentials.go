package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Environment variables EnvCredentials reads: the names Huawei Cloud's own
// SDKs use.
const (
	EnvAccessKey     = "HUAWEICLOUD_SDK_AK"
	EnvSecretKey     = "HUAWEICLOUD_SDK_SK"
	EnvSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
)

// ErrCredentials is wrapped by the errors Sign returns when a
// CredentialsProvider fails or returns credentials that cannot be used.
// Nothing was sent.
var ErrCredentials = errors.New("auth: credentials")

// Credentials are an AK/SK pair, with the security token and expiry of
// temporary credentials. Their String, GoString and LogValue methods hide
// the secret key and the token.
type Credentials struct {
	AccessKey string
	SecretKey string
	// SecurityToken is sent and signed as X-Security-Token; temporary
	// credentials need it.
	SecurityToken string
	// Expires is when temporary credentials stop working; zero means never.
	Expires time.Time
}

// String shows the access key and expiry only.
func (c Credentials) String() string {
	s := "auth.Credentials{AccessKey: " + c.AccessKey + ", SecretKey: [REDACTED]"
	if c.SecurityToken != "" {
		s += ", SecurityToken: [REDACTED]"
	}
	if !c.Expires.IsZero() {
		s += ", Expires: " + c.Expires.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString is String, so that %#v hides the secrets too.
func (c Credentials) GoString() string { return c.String() }

// LogValue hides the secrets from slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key", c.AccessKey), slog.Time("expires", c.Expires))
}

// CredentialsProvider supplies credentials. A Signer built by NewSignerFrom
// asks it at every signature, with the request's context, so it must be
// fast and safe for concurrent use: wrap a provider that fetches over the
// network in a CredentialsCache.
type CredentialsProvider interface {
	Credentials(ctx context.Context) (Credentials, error)
}

// StaticCredentials returns a provider of fixed credentials. A Signer
// built from it signs exactly as one built by NewSigner.
func StaticCredentials(accessKey, secretKey, securityToken string) CredentialsProvider {
	return staticCredentials{AccessKey: accessKey, SecretKey: secretKey, SecurityToken: securityToken}
}

type staticCredentials Credentials

func (s staticCredentials) Credentials(context.Context) (Credentials, error) {
	if s.AccessKey == "" || s.SecretKey == "" {
		return Credentials{}, errors.New("auth: static credentials need an access key and a secret key")
	}
	return Credentials(s), nil
}

// EnvCredentials returns a provider that reads HUAWEICLOUD_SDK_AK,
// HUAWEICLOUD_SDK_SK and HUAWEICLOUD_SDK_SECURITY_TOKEN at every call, and
// fails while the first two are not both set.
func EnvCredentials() CredentialsProvider { return envCredentials{} }

type envCredentials struct{}

func (envCredentials) Credentials(context.Context) (Credentials, error) {
	c := Credentials{AccessKey: os.Getenv(EnvAccessKey), SecretKey: os.Getenv(EnvSecretKey), SecurityToken: os.Getenv(EnvSecurityToken)}
	if c.AccessKey == "" || c.SecretKey == "" {
		return Credentials{}, fmt.Errorf("auth: %s and %s are not both set", EnvAccessKey, EnvSecretKey)
	}
	return c, nil
}

// Defaults of a CredentialsCache.
const (
	// DefaultRefreshWindow is how long before expiry credentials are
	// refreshed (at most half their lifetime): the window Huawei Cloud's SDKs
	// use for metadata credentials.
	DefaultRefreshWindow = 40 * time.Minute
	// DefaultRefreshTimeout bounds one refresh.
	DefaultRefreshTimeout = 10 * time.Second
	// refreshRetry is the least time between two failed refreshes, so a
	// failing source is not asked at every signature.
	refreshRetry = time.Second
)

// CredentialsCache wraps a provider that is slow or remote (such as
// MetadataCredentials): it returns the cached credentials until they enter
// the refresh window before their expiry, then refreshes them, once however
// many goroutines ask. It is safe for concurrent use.
//
// In the refresh window the first caller waits for the refresh (bounded by
// its context and the refresh timeout) and the others keep the current
// credentials; when the refresh fails, the current credentials are kept
// while they last, and the source is asked again at most once a second.
// Past expiry every caller waits for the refresh, each until its own
// context ends. A refresh runs with the values of the context of the call
// that started it, not its cancellation, so one caller giving up does not
// fail the others.
type CredentialsCache struct {
	provider CredentialsProvider
	now      func() time.Time
	window   time.Duration
	timeout  time.Duration

	cur atomic.Pointer[cachedCredentials]

	mu       sync.Mutex
	inflight *credentialsRefresh
	failedAt time.Time
	lastErr  error
}

type cachedCredentials struct {
	creds     Credentials
	refreshAt time.Time // zero: never
}

type credentialsRefresh struct {
	done  chan struct{}
	creds *cachedCredentials
	err   error
}

// WithRefreshWindow sets how long before expiry a CredentialsCache
// refreshes (default DefaultRefreshWindow; at most half the lifetime of the
// credentials is used).
func WithRefreshWindow(d time.Duration) CacheOption {
	return cacheFunc(func(c *CredentialsCache) { c.window = d })
}

// WithRefreshTimeout bounds one refresh of a CredentialsCache (default
// DefaultRefreshTimeout).
func WithRefreshTimeout(d time.Duration) CacheOption {
	return cacheFunc(func(c *CredentialsCache) { c.timeout = d })
}

// NewCredentialsCache returns a cache in front of p. It accepts WithClock,
// WithRefreshWindow and WithRefreshTimeout.
func NewCredentialsCache(p CredentialsProvider, opts ...CacheOption) (*CredentialsCache, error) {
	if p == nil {
		return nil, errors.New("auth: nil credentials provider")
	}
	c := &CredentialsCache{provider: p, now: time.Now, window: DefaultRefreshWindow, timeout: DefaultRefreshTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyCache(c)
		}
	}
	if c.window < 0 || c.timeout <= 0 {
		return nil, errors.New("auth: credentials cache needs a refresh window >= 0 and a refresh timeout > 0")
	}
	return c, nil
}

// Credentials returns the cached credentials, refreshing them first when
// they are missing, expired or inside the refresh window.
func (c *CredentialsCache) Credentials(ctx context.Context) (Credentials, error) {
	now := c.now()
	cur := c.cur.Load()
	if cur != nil && (cur.refreshAt.IsZero() || now.Before(cur.refreshAt)) {
		return cur.creds, nil
	}
	valid := cur != nil && now.Before(cur.creds.Expires)

	c.mu.Lock()
	f, started := c.inflight, false
	if f == nil {
		if !c.failedAt.IsZero() && now.Sub(c.failedAt) < refreshRetry {
			err := c.lastErr
			c.mu.Unlock()
			if valid {
				return cur.creds, nil
			}
			return Credentials{}, err
		}
		f = &credentialsRefresh{done: make(chan struct{})}
		c.inflight, started = f, true
	}
	c.mu.Unlock()
	if started {
		go c.run(context.WithoutCancel(ctx), f)
	} else if valid {
		return cur.creds, nil // another caller is refreshing; these still work
	}

	select {
	case <-f.done:
		if f.err == nil {
			return f.creds.creds, nil
		}
		if valid {
			return cur.creds, nil
		}
		return Credentials{}, f.err
	case <-ctx.Done():
		if valid {
			return cur.creds, nil
		}
		return Credentials{}, fmt.Errorf("auth: waiting for credentials: %w", ctx.Err())
	}
}

// run performs one refresh and publishes its outcome.
func (c *CredentialsCache) run(ctx context.Context, f *credentialsRefresh) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	creds, err := c.provider.Credentials(ctx)
	now := c.now()
	switch {
	case err != nil:
		err = fmt.Errorf("auth: refresh credentials: %w", err)
	case creds.AccessKey == "" || creds.SecretKey == "":
		err = errors.New("auth: refresh credentials: the provider returned no access key or secret key")
	case !creds.Expires.IsZero() && !now.Before(creds.Expires):
		err = fmt.Errorf("auth: refresh credentials: the provider returned credentials that expired at %s",
			creds.Expires.UTC().Format(time.RFC3339))
	}
	c.mu.Lock()
	if err != nil {
		f.err, c.failedAt, c.lastErr = err, now, err
	} else {
		f.creds = &cachedCredentials{creds: creds}
		if !creds.Expires.IsZero() {
			window := min(c.window, creds.Expires.Sub(now)/2)
			f.creds.refreshAt = creds.Expires.Add(-window)
		}
		c.cur.Store(f.creds)
		c.failedAt, c.lastErr = time.Time{}, nil
	}
	c.inflight = nil
	c.mu.Unlock()
	close(f.done)
}
