package callback

import (
	"context"
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

// The boundary between the replay cache and the freshness window: a nonce
// is remembered, with the ttl the handler gives the default store, up to and
// including the last instant its timestamp is fresh, so a replay is refused
// by one or the other at every instant.
func TestReplayBoundary(t *testing.T) {
	t.Parallel()
	const ts = int64(1_000_000_000_000)
	skew := 2 * time.Second
	now := ts
	c := store.NewMemoryReplayCache(10, store.WithClock(func() time.Time { return time.UnixMilli(now) }))
	ttl := func() time.Duration { return time.Duration(nonceExpiry(ts, skew)-now+1) * time.Millisecond } // as Handler computes it
	add := func() bool {
		added, err := c.Add(context.Background(), "n", ttl())
		require.NoError(t, err)
		return added
	}
	require.True(t, fresh(ts, now, skew))
	require.True(t, add())

	last := ts + (Window + skew).Milliseconds()
	for now = last - 3; now <= last+3; now++ {
		refusedByWindow := !fresh(ts, now, skew)
		refusedByCache := !refusedByWindow && !add()
		assert.True(t, refusedByWindow || refusedByCache, "replay accepted at now=ts+%dms", now-ts)
		assert.Equal(t, now > last, refusedByWindow, "window at now=ts+%dms", now-ts)
	}
}
