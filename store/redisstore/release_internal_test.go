package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
	"github.com/isvkit/koogallery/store/redisstore/redistest"
)

// A write taken back after WAIT gave up is taken back only while the key
// still holds its token: after a failover lost it, the key may hold another
// caller's claim or replay key, which must survive (deleting it would let a
// third caller win the claim, or a replay in).
func TestReleaseOwnTakesBackOnlyItsOwnWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := redistest.Start(t)
	c := redis.NewClient(srv.Options())
	t.Cleanup(func() { c.Close() })
	s, err := New(c, WithPrefix("release-own:"))
	require.NoError(t, err)

	mine, theirs := string(claimTag)+token(), string(claimTag)+token()
	require.NoError(t, c.Set(ctx, "k-theirs", theirs, time.Minute).Err())
	s.releaseOwn(ctx, "k-theirs", mine)
	v, err := c.Get(ctx, "k-theirs").Result()
	require.NoError(t, err)
	assert.Equal(t, theirs, v, "another caller's claim was deleted")

	require.NoError(t, c.Set(ctx, "k-mine", mine, time.Minute).Err())
	s.releaseOwn(ctx, "k-mine", mine)
	assert.ErrorIs(t, c.Get(ctx, "k-mine").Err(), redis.Nil, "its own write was not taken back")

	// A record completed over the claim is not a claim of this call.
	rec := encode(&store.Record{InstanceID: "i-1"})
	require.NoError(t, c.Set(ctx, "k-rec", rec, time.Minute).Err())
	s.releaseOwn(ctx, "k-rec", mine)
	v, err = c.Get(ctx, "k-rec").Result()
	require.NoError(t, err)
	assert.Equal(t, rec, v)
}
