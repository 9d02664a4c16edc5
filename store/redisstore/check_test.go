package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/redisstore"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// Every key the store writes has a TTL, so any policy but noeviction lets
// Redis evict live claims, records and replay keys: the store refuses such
// a Redis, names the setting to change, and runs on it only when the
// seller accepts the risk.
func TestCheckServerRefusesEvictingPolicies(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{"noeviction", "volatile-lru", "allkeys-lru", "volatile-ttl"} {
		t.Run(policy, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv := redistest.Start(t, "--maxmemory-policy", policy)
			c := redis.NewClient(srv.Options())
			t.Cleanup(func() { c.Close() })

			r, err := redisstore.CheckServer(ctx, c)
			require.NotNil(t, r)
			require.Len(t, r.Servers, 1)
			assert.Equal(t, policy, r.Servers[0].MaxmemoryPolicy)
			assert.Equal(t, srv.Addr, r.Servers[0].Addr)
			s := mustNew(t, c, redisstore.WithPrefix(uniquePrefix(t)))
			_, _, openErr := redisstore.Open(ctx, c)
			if policy == "noeviction" {
				require.NoError(t, err)
				require.NoError(t, openErr)
				assert.False(t, r.Servers[0].Evicts())
				_, ok, err := s.Claim(ctx, "k", time.Minute)
				require.NoError(t, err)
				assert.True(t, ok)
				return
			}
			for _, err := range []error{err, openErr} {
				require.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
				assert.ErrorContains(t, err, "maxmemory-policy "+policy)
				assert.ErrorContains(t, err, "set maxmemory-policy noeviction")
				assert.ErrorContains(t, err, "AcceptEvictionRisk")
				assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "), err.Error())
			}
			// New checks before its first write, and writes nothing.
			_, ok, err := s.Claim(ctx, "k", time.Minute)
			assert.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
			assert.False(t, ok)
			added, err := s.Add(ctx, "n", time.Minute)
			assert.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
			assert.False(t, added)
			assert.ErrorIs(t, s.Complete(ctx, "k", &store.Record{InstanceID: "i"}, time.Minute), redisstore.ErrEvictingPolicy)
			assert.Zero(t, c.DBSize(ctx).Val(), "a refused store wrote keys")

			// The seller may accept the risk: warned, not refused.
			r, err = redisstore.CheckServer(ctx, c, redisstore.AcceptEvictionRisk())
			require.NoError(t, err)
			require.NotEmpty(t, r.Warnings)
			assert.Contains(t, strings.Join(r.Warnings, "\n"), "maxmemory-policy "+policy)
			_, r, err = redisstore.Open(ctx, c, redisstore.AcceptEvictionRisk())
			require.NoError(t, err)
			assert.Contains(t, strings.Join(r.Warnings, "\n"), "AcceptEvictionRisk")
			risky := mustNew(t, c, redisstore.WithPrefix(uniquePrefix(t)), redisstore.AcceptEvictionRisk())
			_, ok, err = risky.Claim(ctx, "k", time.Minute)
			require.NoError(t, err)
			assert.True(t, ok)

			// A failed check is not remembered: once Redis is fixed, the
			// same store works.
			require.NoError(t, c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err())
			_, ok, err = s.Claim(ctx, "k2", time.Minute)
			require.NoError(t, err)
			assert.True(t, ok)
		})
	}
}

// Persistence off (no AOF, no RDB save points) is warned about; AOF or
// snapshots are not.
func TestCheckServerWarnsWithoutPersistence(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		warn bool
	}{
		{"off", nil, true}, // redistest's default: --save "" --appendonly no
		{"aof", []string{"--appendonly", "yes"}, false},
		{"rdb", []string{"--save", "3600 1"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := redis.NewClient(redistest.Start(t, tc.args...).Options())
			t.Cleanup(func() { c.Close() })
			s, r, err := redisstore.Open(ctx, c)
			require.NoError(t, err)
			require.NotNil(t, s)
			if !tc.warn {
				assert.Empty(t, r.Warnings)
				return
			}
			require.Len(t, r.Warnings, 1)
			assert.Contains(t, r.Warnings[0], "persistence off")
			assert.Contains(t, r.Warnings[0], "appendonly yes")
			assert.False(t, r.Servers[0].AOF)
			assert.True(t, r.Servers[0].SaveKnown)
		})
	}
}

// On a Cluster every master is checked: one evicting master is enough to
// refuse. Through Sentinel the master is.
func TestCheckServerTopologies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("sentinel", func(t *testing.T) {
		r, err := redisstore.CheckServer(ctx, topology(t, "sentinel"))
		require.NoError(t, err)
		require.Len(t, r.Servers, 1)
		assert.Equal(t, "noeviction", r.Servers[0].MaxmemoryPolicy)
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartCluster(t)
		c := redis.NewClusterClient(cl.ClusterOptions())
		t.Cleanup(func() { c.Close() })
		r, err := redisstore.CheckServer(ctx, c)
		require.NoError(t, err)
		assert.Len(t, r.Servers, 3)

		node := redis.NewClient(cl.Nodes[1].Options())
		t.Cleanup(func() { node.Close() })
		require.NoError(t, node.ConfigSet(ctx, "maxmemory-policy", "volatile-lru").Err())
		_, err = redisstore.CheckServer(ctx, c)
		require.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
		assert.ErrorContains(t, err, cl.Nodes[1].Addr+" has maxmemory-policy volatile-lru")
		for _, n := range []int{0, 2} {
			assert.NotContains(t, err.Error(), cl.Nodes[n].Addr)
		}
		_, _, err = redisstore.Open(ctx, c)
		assert.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
	})
}

// A Redis that does not answer fails the check, naming it.
func TestCheckServerUnreachable(t *testing.T) {
	t.Parallel()
	opts := &redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	_, err := redisstore.CheckServer(context.Background(), c)
	require.Error(t, err)
	assert.NotErrorIs(t, err, redisstore.ErrEvictingPolicy)
	assert.ErrorContains(t, err, "redisstore: check: INFO memory of 127.0.0.1:1")
}

// A Redis user that may not run INFO cannot show its policy: refused, with
// what to allow, unless the risk is accepted.
func TestCheckServerWithoutINFO(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	admin := redis.NewClient(srv.Options())
	t.Cleanup(func() { admin.Close() })
	require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", "store", "on", ">store-pw", "~*", "+@all", "-info", "-config").Err())
	opts := srv.Options()
	opts.Username, opts.Password = "store", "store-pw"
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })

	r, err := redisstore.CheckServer(ctx, c)
	require.ErrorIs(t, err, redisstore.ErrEvictingPolicy)
	assert.ErrorContains(t, err, "refused INFO")
	assert.ErrorContains(t, err, "+info")
	assert.ErrorContains(t, err, "set maxmemory-policy noeviction")
	require.Len(t, r.Servers, 1)
	assert.Contains(t, r.Servers[0].InfoRefused, "NOPERM")

	r, err = redisstore.CheckServer(ctx, c, redisstore.AcceptEvictionRisk())
	require.NoError(t, err)
	assert.Len(t, r.Warnings, 2, "policy and persistence unknown: %q", r.Warnings)
	s := mustNew(t, c, redisstore.WithPrefix(uniquePrefix(t)), redisstore.AcceptEvictionRisk())
	_, ok, err := s.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
}

// A Redis whose AOF is on but CONFIG is disabled needs no CONFIG: nothing
// is warned. Without AOF and without CONFIG, the warning says the
// snapshots could not be read.
func TestCheckServerWithoutCONFIG(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, aof := range []string{"yes", "no"} {
		srv := redistest.Start(t, "--appendonly", aof, "--rename-command", "CONFIG", "")
		c := redis.NewClient(srv.Options())
		t.Cleanup(func() { c.Close() })
		r, err := redisstore.CheckServer(ctx, c)
		require.NoError(t, err, "appendonly %s", aof)
		assert.Equal(t, "noeviction", r.Servers[0].MaxmemoryPolicy)
		assert.False(t, r.Servers[0].SaveKnown)
		if aof == "yes" {
			assert.True(t, r.Servers[0].AOF)
			assert.Empty(t, r.Warnings)
		} else {
			require.Len(t, r.Warnings, 1)
			assert.Contains(t, r.Warnings[0], "could not be read")
		}
	}
}
