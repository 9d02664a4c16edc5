package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

	"github.com/isvkit/koogallery/auth"
)

const (
	tmpSK    = "TEMPORARY-SECRET-KEY-do-not-print"
	tmpToken = "TEMPORARY-SECURITY-TOKEN-do-not-print"
)

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	t.Parallel()
	c := auth.Credentials{AccessKey: "AKTEMP", SecretKey: tmpSK, SecurityToken: tmpToken,
		Expires: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("creds", "c", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%s", c), logs.String()} {
		assert.NotContains(t, out, tmpSK)
		assert.NotContains(t, out, tmpToken)
		assert.Contains(t, out, "AKTEMP")
	}
	assert.Contains(t, c.String(), "2030-01-02T03:04:05Z")
}

func TestEnvCredentials(t *testing.T) {
	t.Setenv(auth.EnvAccessKey, "")
	t.Setenv(auth.EnvSecretKey, "")
	t.Setenv(auth.EnvSecurityToken, "")
	p := auth.EnvCredentials()
	_, err := p.Credentials(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), auth.EnvAccessKey)

	s, err := auth.NewSignerFrom(p)
	require.NoError(t, err, "the environment is read at signing time, not before")
	r, _ := http.NewRequest(http.MethodGet, "https://h/x", nil)
	assert.ErrorIs(t, s.Sign(r), auth.ErrCredentials)

	t.Setenv(auth.EnvAccessKey, "ENVAK")
	t.Setenv(auth.EnvSecretKey, "ENVSK")
	t.Setenv(auth.EnvSecurityToken, "ENVTOKEN")
	require.NoError(t, s.Sign(r))
	assert.Equal(t, "ENVTOKEN", r.Header.Get(auth.HeaderSecurityToken))
	v := auth.NewVerifier(func(ak string) (string, bool) { return "ENVSK", ak == "ENVAK" })
	assert.NoError(t, v.Verify(serverSide(t, r)))
}

func TestStaticCredentialsSignLikeNewSigner(t *testing.T) {
	t.Parallel()
	clock := auth.WithClock(fixedClock("20261127T083000Z"))
	a, err := auth.NewSigner("ak", "sk", clock, auth.WithSecurityToken("tok"))
	require.NoError(t, err)
	b, err := auth.NewSignerFrom(auth.StaticCredentials("ak", "sk", "tok"), clock)
	require.NoError(t, err)
	ra, _ := http.NewRequest(http.MethodGet, "https://h/x?a=1", nil)
	rb, _ := http.NewRequest(http.MethodGet, "https://h/x?a=1", nil)
	require.NoError(t, a.Sign(ra))
	require.NoError(t, b.Sign(rb))
	assert.Equal(t, ra.Header, rb.Header)
	assert.Equal(t, "ak", b.AccessKey())

	_, err = auth.NewSignerFrom(auth.StaticCredentials("", "sk", ""))
	assert.Error(t, err, "static credentials are checked up front")
	_, err = auth.NewSignerFrom(nil)
	assert.Error(t, err)
	_, err = auth.NewSignerFrom(auth.StaticCredentials("ak", "sk", ""), auth.WithSecurityToken("t"))
	assert.Error(t, err, "the token comes from the provider")
}

// swappable is a provider whose answer the test changes.
type swappable struct {
	mu    sync.Mutex
	creds auth.Credentials
	err   error
	calls int
}

func (p *swappable) set(c auth.Credentials, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.creds, p.err = c, err
}

func (p *swappable) Credentials(ctx context.Context) (auth.Credentials, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	return p.creds, p.err
}

func (p *swappable) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

func TestSignerAsksTheProviderAtEverySignature(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := auth.WithClock(func() time.Time { return now })
	p := &swappable{creds: auth.Credentials{AccessKey: "AK1", SecretKey: "SK1", SecurityToken: "T1", Expires: now.Add(time.Hour)}}
	s, err := auth.NewSignerFrom(p, clock)
	require.NoError(t, err)
	assert.Equal(t, "", s.AccessKey(), "nothing asked yet")
	keys := map[string]string{"AK1": "SK1", "AK2": "SK2"}
	v := auth.NewVerifier(func(ak string) (string, bool) { sk, ok := keys[ak]; return sk, ok }, clock)

	sign := func() *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "https://h/x", strings.NewReader(`{"a":1}`))
		require.NoError(t, s.Sign(r))
		return r
	}
	r := sign()
	assert.Equal(t, "T1", r.Header.Get(auth.HeaderSecurityToken))
	assert.Contains(t, r.Header.Get("Authorization"), "Access=AK1,")
	assert.NoError(t, v.Verify(serverSide(t, r)))

	p.set(auth.Credentials{AccessKey: "AK2", SecretKey: "SK2", SecurityToken: "T2", Expires: now.Add(time.Hour)}, nil)
	r = sign()
	assert.Equal(t, "T2", r.Header.Get(auth.HeaderSecurityToken))
	assert.Contains(t, r.Header.Get("Authorization"), "Access=AK2,")
	assert.NoError(t, v.Verify(serverSide(t, r)))
	assert.Equal(t, "AK2", s.AccessKey())
	assert.Equal(t, 2, p.count())

	// Expired credentials are refused before anything is sent: each
	// failed signature counts towards the gateway's lock-out.
	p.set(auth.Credentials{AccessKey: "AK2", SecretKey: "SK2", Expires: now}, nil)
	r, _ = http.NewRequest(http.MethodGet, "https://h/x", nil)
	err = s.Sign(r)
	require.ErrorIs(t, err, auth.ErrCredentials)
	assert.NotErrorIs(t, err, auth.ErrSign)
	assert.Contains(t, err.Error(), "expired")
	assert.Empty(t, r.Header.Get("Authorization"))

	p.set(auth.Credentials{}, errors.New("metadata service down"))
	err = s.Sign(r)
	require.ErrorIs(t, err, auth.ErrCredentials)
	assert.Contains(t, err.Error(), "metadata service down")

	p.set(auth.Credentials{AccessKey: "A K", SecretKey: "SK"}, nil)
	assert.ErrorIs(t, s.Sign(r), auth.ErrCredentials, "credentials that cannot be sent")
	p.set(auth.Credentials{AccessKey: "AK", SecretKey: "SK", SecurityToken: "bad\ntoken"}, nil)
	err = s.Sign(r)
	assert.ErrorIs(t, err, auth.ErrCredentials)
	assert.NotContains(t, err.Error(), "bad\ntoken")
}

// metadataStandIn is an httptest stand-in for the ECS metadata service.
type metadataStandIn struct {
	t            *testing.T
	srv          *httptest.Server
	requireToken bool
	noTokenAPI   bool // answers 404 to the token request

	mu        sync.Mutex
	tokens    map[string]bool
	issued    int
	fetches   int
	fail      int // answer this many security-key requests with 500
	failWith  int
	noAgency  bool
	garbage   bool
	delay     time.Duration
	expiresAt time.Time
	ttlHeader []string
}

func newMetadataStandIn(t *testing.T) *metadataStandIn {
	m := &metadataStandIn{t: t, tokens: map[string]bool{}, expiresAt: time.Date(2030, 1, 1, 6, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /meta-data/latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.ttlHeader = append(m.ttlHeader, r.Header.Get("X-Metadata-Token-Ttl-Seconds"))
		if m.noTokenAPI {
			http.NotFound(w, r)
			return
		}
		m.issued++
		tok := fmt.Sprintf("session-token-%d", m.issued)
		m.tokens[tok] = true
		fmt.Fprint(w, tok)
	})
	mux.HandleFunc("GET /openstack/latest/securitykey", func(w http.ResponseWriter, r *http.Request) {
		m.mu.Lock()
		delay := m.delay
		m.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		if tok := r.Header.Get("X-Metadata-Token"); (m.requireToken || tok != "") && !m.tokens[tok] {
			http.Error(w, `{"error":"invalid token"}`, http.StatusUnauthorized)
			return
		}
		if m.noAgency {
			http.Error(w, `{"error_msg":"Please configure Cloud Service Agency first"}`, http.StatusUnauthorized)
			return
		}
		if m.fail > 0 {
			m.fail--
			status := m.failWith
			if status == 0 {
				status = http.StatusInternalServerError
			}
			http.Error(w, "secret-looking body "+tmpSK, status)
			return
		}
		m.fetches++
		if m.garbage {
			fmt.Fprintf(w, `{"credential":{"access":"AK","secret":%q`, tmpSK)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"credential": map[string]string{
			"access":        fmt.Sprintf("AKTEMP%d", m.fetches),
			"secret":        fmt.Sprintf("%s-%d", tmpSK, m.fetches),
			"securitytoken": fmt.Sprintf("%s-%d", tmpToken, m.fetches),
			"expires_at":    m.expiresAt.Format("2006-01-02T15:04:05.000000Z"),
		}})
	})
	m.srv = httptest.NewServer(mux)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *metadataStandIn) provider() *auth.MetadataCredentials {
	return &auth.MetadataCredentials{Endpoint: m.srv.URL, Client: m.srv.Client()}
}

func (m *metadataStandIn) set(f func(m *metadataStandIn)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func (m *metadataStandIn) stats() (fetches, tokens int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fetches, m.issued
}

func TestMetadataCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("session token required", func(t *testing.T) {
		t.Parallel()
		m := newMetadataStandIn(t)
		m.requireToken = true
		p := m.provider()
		c, err := p.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "AKTEMP1", c.AccessKey)
		assert.Equal(t, tmpSK+"-1", c.SecretKey)
		assert.Equal(t, tmpToken+"-1", c.SecurityToken)
		assert.Equal(t, m.expiresAt, c.Expires)
		_, err = p.Credentials(ctx)
		require.NoError(t, err)
		fetches, tokens := m.stats()
		assert.Equal(t, 2, fetches)
		assert.Equal(t, 1, tokens, "the session token is reused while it lasts")
		assert.Equal(t, []string{"21600"}, m.ttlHeader)

		// The service forgets the token (it expired): a 401 fetches a new
		// one and the call succeeds.
		m.set(func(m *metadataStandIn) { m.tokens = map[string]bool{} })
		c, err = p.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "AKTEMP3", c.AccessKey)
		_, tokens = m.stats()
		assert.Equal(t, 2, tokens)
	})

	t.Run("instance without session tokens", func(t *testing.T) {
		t.Parallel()
		m := newMetadataStandIn(t)
		m.noTokenAPI = true
		p := m.provider()
		for range 3 {
			c, err := p.Credentials(ctx)
			require.NoError(t, err)
			assert.NotEmpty(t, c.SecretKey)
		}
		assert.Len(t, m.ttlHeader, 1, "a 404 is remembered: the token endpoint is not asked at every fetch")
	})

	t.Run("failures", func(t *testing.T) {
		t.Parallel()
		m := newMetadataStandIn(t)
		p := m.provider()
		m.set(func(m *metadataStandIn) { m.fail = 1 })
		_, err := p.Credentials(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "HTTP 500")
		assert.NotContains(t, err.Error(), tmpSK, "error bodies are not quoted")

		m.set(func(m *metadataStandIn) { m.garbage = true })
		_, err = p.Credentials(ctx)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), tmpSK, "a malformed answer is not quoted: it holds secrets")

		m.set(func(m *metadataStandIn) { m.garbage, m.noAgency = false, true })
		_, err = p.Credentials(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "agency")

		m.set(func(m *metadataStandIn) { m.noAgency, m.delay = false, time.Minute })
		p.Timeout = 50 * time.Millisecond
		start := time.Now()
		_, err = p.Credentials(ctx)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 10*time.Second)
		assert.NotContains(t, err.Error(), m.srv.URL, "no URL repeated in the error")

		dead := &auth.MetadataCredentials{Endpoint: "http://127.0.0.1:1"}
		_, err = dead.Credentials(ctx)
		assert.Error(t, err)
	})
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestCredentialsCacheRefreshesBeforeExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newMetadataStandIn(t)
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m.expiresAt = base.Add(6 * time.Hour)
	clk := &testClock{now: base}
	cache, err := auth.NewCredentialsCache(m.provider(), auth.WithClock(clk.Now))
	require.NoError(t, err)

	c, err := cache.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, "AKTEMP1", c.AccessKey)
	clk.Set(base.Add(5 * time.Hour)) // 1 h before expiry: outside the 40-minute window
	for range 10 {
		c, err = cache.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "AKTEMP1", c.AccessKey)
	}
	fetches, _ := m.stats()
	assert.Equal(t, 1, fetches, "cached")

	// Inside the refresh window the first caller refreshes.
	m.set(func(m *metadataStandIn) { m.expiresAt = base.Add(12 * time.Hour) })
	clk.Set(base.Add(5*time.Hour + 30*time.Minute))
	c, err = cache.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, "AKTEMP2", c.AccessKey)
	assert.Equal(t, base.Add(12*time.Hour), c.Expires)

	// The service fails inside the window: the still-valid credentials
	// are kept, and the service is not asked again within a second.
	m.set(func(m *metadataStandIn) { m.fail = 100 })
	clk.Set(base.Add(11*time.Hour + 30*time.Minute))
	for range 5 {
		c, err = cache.Credentials(ctx)
		require.NoError(t, err)
		assert.Equal(t, "AKTEMP2", c.AccessKey)
	}
	assert.Equal(t, 99, m.fail, "one attempt, then one a second at most")

	// Past expiry with the service down: an error, never expired
	// credentials.
	clk.Set(base.Add(12 * time.Hour))
	_, err = cache.Credentials(ctx)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), tmpSK)

	// The service recovers.
	m.set(func(m *metadataStandIn) { m.fail, m.expiresAt = 0, base.Add(18*time.Hour) })
	clk.Set(base.Add(12*time.Hour + 2*time.Second))
	c, err = cache.Credentials(ctx)
	require.NoError(t, err)
	assert.Equal(t, "AKTEMP3", c.AccessKey)
}

func TestCredentialsCacheShortLivedCredentials(t *testing.T) {
	t.Parallel()
	// Credentials valid for 15 minutes are refreshed half way, not at
	// once (the 40-minute window is longer than their life).
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &testClock{now: base}
	p := &swappable{creds: auth.Credentials{AccessKey: "AK", SecretKey: "SK", Expires: base.Add(15 * time.Minute)}}
	cache, err := auth.NewCredentialsCache(p, auth.WithClock(clk.Now))
	require.NoError(t, err)
	for _, at := range []time.Duration{0, time.Minute, 7 * time.Minute} {
		clk.Set(base.Add(at))
		_, err := cache.Credentials(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, p.count())
	clk.Set(base.Add(8 * time.Minute))
	_, err = cache.Credentials(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, p.count())

	// A provider that answers expired credentials is an error.
	p.set(auth.Credentials{AccessKey: "AK", SecretKey: "SK", Expires: base}, nil)
	clk.Set(base.Add(time.Hour))
	_, err = cache.Credentials(context.Background())
	assert.ErrorContains(t, err, "expired")

	// Credentials without expiry are fetched once.
	forever := &swappable{creds: auth.Credentials{AccessKey: "AK", SecretKey: "SK"}}
	cache, err = auth.NewCredentialsCache(forever)
	require.NoError(t, err)
	for range 5 {
		_, err := cache.Credentials(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, forever.count())

	_, err = auth.NewCredentialsCache(nil)
	assert.Error(t, err)
	_, err = auth.NewCredentialsCache(p, auth.WithRefreshTimeout(0))
	assert.Error(t, err)
	_, err = auth.NewCredentialsCache(p, auth.WithRefreshWindow(-time.Second))
	assert.Error(t, err)
}

func TestCredentialsCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	m := newMetadataStandIn(t)
	m.delay = 50 * time.Millisecond // every caller arrives while the first fetch runs
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m.expiresAt = base.Add(time.Hour)
	clk := &testClock{now: base}
	cache, err := auth.NewCredentialsCache(m.provider(), auth.WithClock(clk.Now))
	require.NoError(t, err)
	s, err := auth.NewSignerFrom(cache, auth.WithClock(clk.Now))
	require.NoError(t, err)

	var wg sync.WaitGroup
	var signed atomic.Int64
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				r, _ := http.NewRequest(http.MethodGet, "https://h/x", nil)
				if assert.NoError(t, s.Sign(r)) {
					signed.Add(1)
					assert.Equal(t, tmpToken+"-1", r.Header.Get(auth.HeaderSecurityToken))
				}
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 32*20, signed.Load())
	fetches, _ := m.stats()
	assert.Equal(t, 1, fetches, "one fetch however many goroutines wait")

	// At expiry, concurrent callers again share one refresh.
	clk.Set(base.Add(time.Hour))
	m.set(func(m *metadataStandIn) { m.expiresAt = base.Add(2 * time.Hour) })
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := cache.Credentials(context.Background())
			if assert.NoError(t, err) {
				assert.Equal(t, "AKTEMP2", c.AccessKey)
			}
		}()
	}
	wg.Wait()
	fetches, _ = m.stats()
	assert.Equal(t, 2, fetches)
}

func TestCredentialsCacheCallerGivesUp(t *testing.T) {
	t.Parallel()
	m := newMetadataStandIn(t)
	m.delay = 300 * time.Millisecond
	cache, err := auth.NewCredentialsCache(m.provider(), auth.WithClock(func() time.Time { return m.expiresAt.Add(-3 * time.Hour) }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = cache.Credentials(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a caller stops waiting when its context ends")
	// The refresh it started goes on for the others.
	c, err := cache.Credentials(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "AKTEMP1", c.AccessKey)
	fetches, _ := m.stats()
	assert.Equal(t, 1, fetches)
}
