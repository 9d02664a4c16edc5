package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store/redisstore"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// Why the store refuses an evicting policy: under volatile-lru (the default
// of most managed Redis) and memory pressure, Redis evicts a live replay
// key, and the replay is accepted. The store refuses to run there; with
// AcceptEvictionRisk it runs, and the replay gets in.
func TestEvictionAcceptsAReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t, "--maxmemory", "4mb", "--maxmemory-policy", "volatile-lru")
	c := redis.NewClient(srv.Options())
	t.Cleanup(func() { c.Close() })

	s := mustNew(t, c, redisstore.WithPrefix("evict:"))
	_, err := s.Add(ctx, "nonce", time.Hour)
	require.ErrorIs(t, err, redisstore.ErrEvictingPolicy, "the store ran on an evicting Redis")

	risky := mustNew(t, c, redisstore.WithPrefix("evict:"), redisstore.AcceptEvictionRisk())
	added, err := risky.Add(ctx, "nonce", time.Hour)
	require.NoError(t, err)
	require.True(t, added)
	// Other keys with a TTL (sessions, caches) fill the memory until Redis
	// evicts the nonce's key.
	filler := strings.Repeat("x", 1024)
	for batch := 0; c.Exists(ctx, "evict:replay:nonce").Val() == 1; batch++ {
		require.Less(t, batch, 200, "Redis never evicted the replay key")
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i := range 1000 {
				p.Set(ctx, fmt.Sprintf("cache:%d:%d", batch, i), filler, time.Hour)
			}
			return nil
		})
		require.NoError(t, err)
	}
	added, err = risky.Add(ctx, "nonce", time.Hour)
	require.NoError(t, err)
	assert.True(t, added, "the replay is accepted once Redis evicted the key: the risk AcceptEvictionRisk accepts")
}
