package callback

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
)

func TestParseMillis(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1795768200123", 1795768200123, true},
		{"0", 0, true},
		{"999999999999999999", 999999999999999999, true},
		{"9999999999999999999", 0, false}, // 19 digits: refused before it can overflow
		{"", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1.5", 0, false},
		{" 1", 0, false},
		{"1795768200123 ", 0, false},
		{"01795768200123", 0, false}, // the same instant, not the signed text
		{"00", 0, false},
		{"0000000000000", 0, false},
	} {
		got, ok := parseMillis(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

func TestFresh(t *testing.T) {
	t.Parallel()
	const now = int64(1_795_768_200_123)
	skew := 5 * time.Second
	limit := (Window + skew).Milliseconds()
	for _, tt := range []struct {
		name string
		ts   int64
		want bool
	}{
		{"now", now, true},
		{"past edge", now - limit, true},
		{"past edge + 1ms", now - limit - 1, false},
		{"future edge", now + limit, true},
		{"future edge + 1ms", now + limit + 1, false},
		{"seconds instead of ms", now / 1000, false},
		{"zero", 0, false},
	} {
		assert.Equal(t, tt.want, fresh(tt.ts, now, skew), tt.name)
	}
	assert.False(t, fresh(now-Window.Milliseconds()-1, now, 0), "no skew: 60 s exactly")
	assert.True(t, fresh(now-Window.Milliseconds(), now, 0))
}

func TestNonceCacheReplay(t *testing.T) {
	t.Parallel()
	c := newNonceCache(10)
	assert.True(t, mustAdd(t, c, "a", 100, 0))
	assert.False(t, mustAdd(t, c, "a", 100, 50), "replay within expiry")
	assert.False(t, mustAdd(t, c, "a", 100, 100), "expiry is inclusive")
	assert.True(t, mustAdd(t, c, "b", 100, 50))
	assert.True(t, mustAdd(t, c, "a", 300, 101), "forgotten after expiry")
	assert.False(t, mustAdd(t, c, "a", 300, 200), "and remembered again")
}

// The boundary between the cache and the freshness window: a nonce is
// remembered up to and including the last instant its timestamp is fresh, so
// a replay is refused by one or the other at every instant.
func TestReplayBoundary(t *testing.T) {
	t.Parallel()
	const ts = int64(1_000_000_000_000)
	skew := 2 * time.Second
	c := newNonceCache(10)
	key := "n"
	require.True(t, fresh(ts, ts, skew))
	require.True(t, mustAdd(t, c, key, nonceExpiry(ts, skew), ts))

	last := ts + (Window + skew).Milliseconds()
	for now := last - 3; now <= last+3; now++ {
		refusedByWindow := !fresh(ts, now, skew)
		refusedByCache := !refusedByWindow && !mustAdd(t, c, key, nonceExpiry(ts, skew), now)
		assert.True(t, refusedByWindow || refusedByCache, "replay accepted at now=ts+%dms", now-ts)
		assert.Equal(t, now > last, refusedByWindow, "window at now=ts+%dms", now-ts)
	}
}

func TestNonceCacheRefusesWhenFull(t *testing.T) {
	t.Parallel()
	c := newNonceCache(3)
	for i := range 3 {
		require.True(t, mustAdd(t, c, strconv.Itoa(i), 1000, 0))
	}
	added, err := c.Add("3", 1000, 0)
	assert.ErrorIs(t, err, store.ErrFull, "full, nothing expired: refused")
	assert.False(t, added)
	assert.Equal(t, 3, c.Len())
	assert.False(t, mustAdd(t, c, "0", 1000, 0), "the oldest is still remembered")
	assert.True(t, mustAdd(t, c, "3", 2000, 1001), "once the oldest expire there is room")
}

func mustAdd(t *testing.T, c *nonceCache, key string, expires, now int64) bool {
	t.Helper()
	added, err := c.Add(key, expires, now)
	require.NoError(t, err)
	return added
}

func TestNonceCacheDropsExpired(t *testing.T) {
	t.Parallel()
	c := newNonceCache(100)
	for i := range 50 {
		require.True(t, mustAdd(t, c, strconv.Itoa(i), int64(2*i), 0)) // expiries 0, 2, …, 98
	}
	require.True(t, mustAdd(t, c, "late", 1000, 60))
	assert.Equal(t, 20+1, c.Len(), "the 30 entries that expired before now=60 are gone")
}

// A key re-added after expiry while its first entry is still queued must
// survive the first entry's eviction.
func TestNonceCacheReaddedKeySurvivesOldEntry(t *testing.T) {
	t.Parallel()
	c := newNonceCache(100)
	require.True(t, mustAdd(t, c, "long", 1000, 0)) // keeps the queue head alive
	require.True(t, mustAdd(t, c, "k", 10, 0))
	require.True(t, mustAdd(t, c, "k", 1000, 20), "expired, so new again")
	c.mu.Lock()
	c.dropHead() // "long"
	c.dropHead() // the first "k" entry
	c.mu.Unlock()
	assert.False(t, mustAdd(t, c, "k", 1000, 30), "the second k must still be remembered")
}

func TestNonceCacheBoundedUnderChurn(t *testing.T) {
	t.Parallel()
	c := newNonceCache(64)
	for i := range 10_000 {
		require.True(t, mustAdd(t, c, strconv.Itoa(i), int64(i)+32, int64(i)))
		require.LessOrEqual(t, c.Len(), 64)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.LessOrEqual(t, len(c.queue), 64+2*1024+1, "consumed queue prefix is reclaimed")
}

func TestNonceCacheConcurrent(t *testing.T) {
	t.Parallel()
	c := newNonceCache(1 << 12)
	var accepted atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				if mustAdd(t, c, strconv.Itoa(i), 1000, 0) {
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(500), accepted.Load(), "each nonce is accepted exactly once")
}
