package main

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/store/pgstore/pgtest"
	"github.com/isvkit/koogallery/store/redisstore"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// replica is one seller-server process: its own provider (instances in
// memory) and its own connection to the state the environment names.
func replica(t *testing.T, cfg config) (*state, *httptest.Server) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	st, err := openState(context.Background(), cfg, log)
	require.NoError(t, err)
	t.Cleanup(st.close)
	mux, err := newMux(cfg, newProvider(cfg.publicURL, nil, log), st, log)
	require.NoError(t, err)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return st, srv
}

// The store is chosen from KOOGALLERY_REDIS_URL or KOOGALLERY_DATABASE_URL,
// memory by default; two replicas sharing Redis or PostgreSQL provision an
// order line once and refuse each other's replays, two on memory do not.
func TestStateFromEnv(t *testing.T) {
	for _, tc := range []struct {
		kind   string
		env    func(t *testing.T)
		shared bool
	}{
		{"memory", func(*testing.T) {}, false},
		{"redis", func(t *testing.T) { t.Setenv("KOOGALLERY_REDIS_URL", "redis://"+redistest.Start(t).Addr+"/0") }, true},
		{"postgres", func(t *testing.T) { t.Setenv("KOOGALLERY_DATABASE_URL", pgtest.URL(t)) }, true},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Setenv("KOOGALLERY_REDIS_URL", "")
			t.Setenv("KOOGALLERY_DATABASE_URL", "")
			t.Setenv("HUAWEICLOUD_SDK_AK", "")
			t.Setenv("KOOGALLERY_ACCESS_KEY", "ak-1")
			t.Setenv("KOOGALLERY_V1_KEY", "v1-1")
			t.Setenv("KOOGALLERY_KIT_KEY", "kit-1")
			tc.env(t)
			cfg, err := configFromEnv(slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			stA, a := replica(t, cfg)
			_, b := replica(t, cfg)
			assert.Equal(t, tc.kind, stA.kind)
			assert.Equal(t, tc.shared, stA.replay != nil, "a shared store is the replay cache too")

			ctx := context.Background()
			market := koogallerytest.NewSender("ak-1")
			newInstance := func(srv *httptest.Server, biz string) string {
				res, err := market.Send(ctx, srv.URL+"/isv/produce", map[string]string{"activity": "newInstance",
					"orderId": "O1", "orderLineId": "O1-000001", "businessId": biz, "testFlag": "0"})
				require.NoError(t, err)
				require.Equal(t, "000000", res.ResultCode, res.ResultMsg)
				return res.InstanceID
			}
			first := newInstance(a, "biz-a")
			second := newInstance(b, "biz-b") // KooGallery re-sends, and the load balancer picks the other replica
			if tc.shared {
				assert.Equal(t, first, second, "provisioned once")
			} else {
				assert.NotEqual(t, first, second, "memory: each replica provisions on its own")
			}

			// A replay of an accepted call, to the other replica: the
			// notification, the licence and the kit V2, whose nonces the
			// replicas share or not.
			for _, c := range []struct {
				path string
				kit  bool
				body any
			}{
				{"/isv/order", false, map[string]string{"activity": "orderNotify", "orderId": "O1", "orderLineId": "O1-000001", "testFlag": "1"}},
				{"/isv/license", false, map[string]string{"activity": "releaseLicenseCode", "license": "L1", "testFlag": "1"}},
				{"/isv/produce/produceAPI/v2/tenantSync", true, map[string]any{"tenantId": "t", "tenantCode": "c", "name": "n", "domainName": "d", "flag": 1}},
			} {
				sender := market
				sign := sender.Sign
				if c.kit {
					sender = koogallerytest.NewSender("kit-1")
					sign = sender.SignKit
				}
				call, err := sign(a.URL+c.path, c.body)
				require.NoError(t, err)
				res, err := call.Send(ctx)
				require.NoError(t, err)
				require.Equal(t, "000000", res.ResultCode, "%s: %s", c.path, res.ResultMsg)
				call.URL = strings.Replace(call.URL, a.URL, b.URL, 1)
				res, err = call.Send(ctx)
				require.NoError(t, err)
				if tc.shared {
					assert.Equal(t, "000001", res.ResultCode, "%s: a replay to another replica is refused", c.path)
				} else {
					assert.Equal(t, "000000", res.ResultCode, "%s: memory: the other replica never saw the nonce", c.path)
				}
			}
		})
	}
}

func TestStateConfigErrors(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	t.Setenv("KOOGALLERY_ACCESS_KEY", "ak-1")
	t.Setenv("KOOGALLERY_REDIS_URL", "redis://127.0.0.1:1")
	t.Setenv("KOOGALLERY_DATABASE_URL", "postgres://127.0.0.1:1/db")
	_, err := configFromEnv(log)
	assert.ErrorContains(t, err, "not both")

	ctx := context.Background()
	for _, cfg := range []config{
		{redisURL: "ftp://:s3cret-pass@127.0.0.1:6379"},
		{redisURL: "redis://:s3cret-pass@127.0.0.1:1/0"}, // nothing listens there
		{databaseURL: "postgres://user:s3cret-pass@127.0.0.1:1/db?connect_timeout=1"},
		{databaseURL: "postgres://user:s3cret-pass@127.0.0.1:1/db?sslmode=bogus"},
	} {
		st, err := openState(ctx, cfg, log)
		if !assert.Error(t, err, "%+v", cfg) {
			st.close()
			continue
		}
		assert.NotContains(t, err.Error(), "s3cret-pass", "the password leaked")
		want := "KOOGALLERY_REDIS_URL"
		if cfg.databaseURL != "" {
			want = "KOOGALLERY_DATABASE_URL"
		}
		assert.ErrorContains(t, err, want)
	}
}

// substrings4 returns every substring of s of 4 bytes or more.
func substrings4(s string) []string {
	var subs []string
	for i := range len(s) {
		for j := i + 4; j <= len(s); j++ {
			subs = append(subs, s[i:j])
		}
	}
	return subs
}

// A store URL that does not parse as its author meant (a password with an
// unencoded "/", "#", "%", "@", "?", a bad port, scheme or host) is refused
// with an error that names the variable, and neither the error nor a log
// line holds the password, or any 4 bytes of it: URL parsers quote the URL,
// or the piece of the password they took for a port.
func TestStoreURLErrorsNeverQuoteThePassword(t *testing.T) {
	type urlCase struct{ name, url, password string }
	var cases []urlCase
	for _, c := range []string{"/", "#", "%", "@", "?"} {
		for _, pw := range []string{c + "Qz7Vk9mWp4", "Qz7Vk" + c + "9mWp4", "Qz7Vk9mWp4" + c, "12" + c + "Qz7Vk9mWp4", "Qz7" + c + "Vk9" + c + "mWp4"} {
			for _, u := range []string{
				"redis://:" + pw + "@127.0.0.1:1/0",
				"redis://default:" + pw + "@127.0.0.1:1/0",
				"rediss://user:" + pw + "@localhost:1",
				"postgres://user:" + pw + "@127.0.0.1:1/db?connect_timeout=1",
				"postgresql://user:" + pw + "@localhost:1/db",
			} {
				cases = append(cases, urlCase{"unencoded " + c, u, pw})
			}
		}
	}
	const pw = "Qz7Vk9mWp4"
	for _, u := range []struct{ name, redis, pg string }{
		{"bad port", "redis://:" + pw + "@127.0.0.1:99999/0", "postgres://u:" + pw + "@127.0.0.1:99999/db"},
		{"port not a number", "redis://:" + pw + "@127.0.0.1:x1/0", "postgres://u:" + pw + "@127.0.0.1:x1/db"},
		{"bad scheme", "ftp://:" + pw + "@127.0.0.1:6379/0", "mysql://u:" + pw + "@127.0.0.1:5432/db"},
		{"no scheme", ":" + pw + "@127.0.0.1:6379/0", "u:" + pw + "@127.0.0.1:5432/db"},
		{"no //", "redis::" + pw + "@127.0.0.1:6379/0", "postgres:u:" + pw + "@127.0.0.1:5432/db"},
		{"empty host", "redis://:" + pw + "@/0", "postgres://u:" + pw + "@/db"},
		{"empty host with port", "redis://:" + pw + "@:6379/0", "postgres://u:" + pw + "@:5432/db"},
		{"bad database", "redis://:" + pw + "@127.0.0.1:1/x" + pw, ""},
		{"control character", "redis://:" + pw + "\n@127.0.0.1:1/0", "postgres://u:" + pw + "\n@127.0.0.1:1/db"},
		{"space in host", "redis://:" + pw + "@127.0 0.1:1/0", "postgres://u:" + pw + "@127.0 0.1:1/db"},
		{"bad option", "redis://:" + pw + "@127.0.0.1:1/0?bogus=" + pw, "postgres://u:" + pw + "@127.0.0.1:1/db?sslmode=" + pw},
		{"password option", "", "postgres://u@127.0.0.1:1/db?sslmode=bogus&password=" + pw},
	} {
		if u.redis != "" {
			cases = append(cases, urlCase{u.name, u.redis, pw})
		}
		if u.pg != "" {
			cases = append(cases, urlCase{u.name, u.pg, pw})
		}
	}

	for _, tc := range cases {
		variable := "KOOGALLERY_REDIS_URL"
		if !strings.HasPrefix(tc.url, "redis") && !strings.HasPrefix(tc.url, "ftp") && !strings.HasPrefix(tc.url, ":") {
			variable = "KOOGALLERY_DATABASE_URL"
		}
		t.Run(tc.name+"/"+variable, func(t *testing.T) {
			t.Setenv("KOOGALLERY_ACCESS_KEY", "ak-1")
			t.Setenv("HUAWEICLOUD_SDK_AK", "")
			t.Setenv("KOOGALLERY_REDIS_URL", "")
			t.Setenv("KOOGALLERY_DATABASE_URL", "")
			t.Setenv(variable, tc.url)
			var logs strings.Builder
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg, err := configFromEnv(log)
			if err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				var st *state
				st, err = openState(ctx, cfg, log)
				if err == nil {
					st.close()
				}
			}
			require.Error(t, err, "a malformed or unreachable URL was accepted")
			t.Log(err)
			text := err.Error() + "\n" + logs.String()
			assert.Contains(t, err.Error(), variable, "the error names the variable")
			for _, sub := range substrings4(tc.password) {
				if !assert.NotContains(t, text, sub, "a piece of the password leaked") {
					t.Logf("%s", text)
					break
				}
			}
		})
	}
}

// The server refuses to start on a Redis that may evict keys, saying what
// to set, unless told to accept the risk; it warns when persistence is off.
func TestRedisEvictionRefusedAtStart(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "volatile-lru")
	t.Setenv("KOOGALLERY_ACCESS_KEY", "ak-1")
	t.Setenv("HUAWEICLOUD_SDK_AK", "")
	t.Setenv("KOOGALLERY_DATABASE_URL", "")
	t.Setenv("KOOGALLERY_REDIS_URL", "redis://"+srv.Addr+"/0")
	var logs strings.Builder
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	cfg, err := configFromEnv(log)
	require.NoError(t, err)
	_, err = openState(context.Background(), cfg, log)
	require.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
	assert.ErrorContains(t, err, "KOOGALLERY_REDIS_URL: ")
	assert.ErrorContains(t, err, "maxmemory-policy volatile-lru")
	assert.ErrorContains(t, err, "set maxmemory-policy noeviction")
	assert.ErrorContains(t, err, "KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK=1")

	t.Setenv("KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK", "1")
	cfg, err = configFromEnv(log)
	require.NoError(t, err)
	st, err := openState(context.Background(), cfg, log)
	require.NoError(t, err)
	st.close()
	assert.Contains(t, logs.String(), "maxmemory-policy volatile-lru", "the accepted risk is logged")
	assert.Contains(t, logs.String(), "persistence off", "redistest runs without persistence")

	t.Setenv("KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK", "yes")
	_, err = configFromEnv(log)
	assert.ErrorContains(t, err, "KOOGALLERY_REDIS_ACCEPT_EVICTION_RISK")
}
