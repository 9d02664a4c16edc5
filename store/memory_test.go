package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
)

var t0 = time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC)

// The conformance suites run against the memory stores in the tests of
// koogallerytest/storetest (memory_test.go): importing storetest here would
// rebuild it, koogallerytest and everything they import that uses store, for
// this package's internal test.

// clock is a settable clock for the bound tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(t time.Time) *clock { return &clock{now: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestMemoryBoundNeverEvictsLive(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	m := store.NewMemory(3, store.WithClock(clk.Now))

	_, ok, err := m.Claim(ctx, "a", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = m.Claim(ctx, "b", time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, m.Complete(ctx, "c", &store.Record{InstanceID: "c"}, 2*time.Hour))

	// Full of live entries, claims included: refuse, for Claim and for a
	// Complete of a key the store does not hold.
	_, ok, err = m.Claim(ctx, "d", time.Minute)
	assert.ErrorIs(t, err, store.ErrFull)
	assert.False(t, ok)
	assert.ErrorIs(t, m.Complete(ctx, "d", &store.Record{}, time.Hour), store.ErrFull)

	// Held keys keep working at the bound.
	require.NoError(t, m.Complete(ctx, "b", &store.Record{InstanceID: "b", Pending: true}, time.Hour))
	rec, ok, err := m.Claim(ctx, "c", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, &store.Record{InstanceID: "c"}, rec)
	rec, ok, err = m.Claim(ctx, "a", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "a live claim was evicted")
	assert.Nil(t, rec)

	// The expired claim on a makes room; b and c stay.
	clk.Advance(time.Minute)
	_, ok, err = m.Claim(ctx, "d", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 3, m.Len())
	rec, _, err = m.Claim(ctx, "b", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, &store.Record{InstanceID: "b", Pending: true}, rec)
	rec, _, err = m.Claim(ctx, "c", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, &store.Record{InstanceID: "c"}, rec)

	// A released claim makes room too.
	require.NoError(t, m.Release(ctx, "d"))
	_, ok, err = m.Claim(ctx, "e", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
}

// At the bound the entry that has expired goes, not the oldest one.
func TestMemoryDropsExpiredNotOldest(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	m := store.NewMemory(3, store.WithClock(clk.Now))
	require.NoError(t, m.Complete(ctx, "old", &store.Record{InstanceID: "old"}, time.Hour))
	clk.Advance(time.Second)
	require.NoError(t, m.Complete(ctx, "short", &store.Record{InstanceID: "short"}, time.Minute))
	clk.Advance(time.Second)
	require.NoError(t, m.Complete(ctx, "new", &store.Record{InstanceID: "new"}, time.Hour))
	clk.Advance(2 * time.Minute)
	_, ok, err := m.Claim(ctx, "next", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	for _, k := range []string{"old", "new"} {
		rec, _, err := m.Claim(ctx, k, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, &store.Record{InstanceID: k}, rec, "live record %s evicted", k)
	}
	_, ok, err = m.Claim(ctx, "short", time.Minute)
	require.ErrorIs(t, err, store.ErrFull, "the expired record should be gone and the store full again")
	assert.False(t, ok)
}

// A flood of new keys at the bound forgets nothing.
func TestMemoryFloodAtBound(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	const n = 1000
	m := store.NewMemory(n, store.WithClock(clk.Now))
	c := store.NewMemoryReplayCache(n, store.WithClock(clk.Now))
	for i := range n {
		require.NoError(t, m.Complete(ctx, fmt.Sprint("r", i), &store.Record{InstanceID: fmt.Sprint(i)}, time.Hour))
		added, err := c.Add(ctx, fmt.Sprint("n", i), time.Minute)
		require.NoError(t, err)
		require.True(t, added)
	}
	for i := range 10 * n {
		clk.Advance(time.Millisecond) // still inside every keep and ttl
		_, _, err := m.Claim(ctx, fmt.Sprint("flood", i), time.Minute)
		require.ErrorIs(t, err, store.ErrFull)
		_, err = c.Add(ctx, fmt.Sprint("flood", i), time.Minute)
		require.ErrorIs(t, err, store.ErrFull)
	}
	for i := range n {
		rec, ok, err := m.Claim(ctx, fmt.Sprint("r", i), time.Minute)
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, &store.Record{InstanceID: fmt.Sprint(i)}, rec)
		added, err := c.Add(ctx, fmt.Sprint("n", i), time.Minute)
		require.NoError(t, err)
		require.False(t, added, "nonce %d forgotten at the bound: a replay would be accepted", i)
	}
	// Once the nonces' ttl runs out, new keys take their places.
	clk.Advance(time.Minute)
	added, err := c.Add(ctx, "later", time.Minute)
	require.NoError(t, err)
	assert.True(t, added)
}

func TestMemoryReplayCacheBound(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	c := store.NewMemoryReplayCache(2, store.WithClock(clk.Now))
	for _, k := range []string{"a", "b"} {
		added, err := c.Add(ctx, k, time.Minute)
		require.NoError(t, err)
		require.True(t, added)
	}
	_, err := c.Add(ctx, "c", time.Minute)
	require.ErrorIs(t, err, store.ErrFull)
	// Keys already held are answered at the bound.
	added, err := c.Add(ctx, "a", time.Minute)
	require.NoError(t, err)
	assert.False(t, added)

	clk.Advance(time.Minute - time.Nanosecond)
	added, err = c.Add(ctx, "a", time.Minute)
	require.NoError(t, err)
	assert.False(t, added, "a key was forgotten before its ttl ran out")
	clk.Advance(time.Nanosecond)
	added, err = c.Add(ctx, "c", time.Minute)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = c.Add(ctx, "a", time.Minute)
	require.NoError(t, err)
	assert.True(t, added, "the expired key a is new again")
	assert.Equal(t, 2, c.Len())
}

// The injected clock decides expiry; the wall clock does not.
func TestMemoryWithClock(t *testing.T) {
	ctx := context.Background()
	clk := newClock(t0)
	m := store.NewMemory(10, store.WithClock(clk.Now))
	require.NoError(t, m.Complete(ctx, "k", &store.Record{InstanceID: "i"}, 24*time.Hour))
	_, ok, err := m.Claim(ctx, "lease", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	clk.Advance(time.Minute - time.Nanosecond)
	_, ok, err = m.Claim(ctx, "lease", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "claim taken over before its lease ran out")
	clk.Advance(time.Nanosecond)
	_, ok, err = m.Claim(ctx, "lease", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "claim not taken over when its lease ran out")

	clk.Advance(24*time.Hour - 2*time.Minute)
	rec, ok, err := m.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
	assert.NotNil(t, rec)
	clk.Advance(time.Minute)
	rec, ok, err = m.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Nil(t, rec)

	// A clock that goes backwards does not expire anything.
	clk.Advance(-48 * time.Hour)
	_, ok, err = m.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestMemoryRefusesBadArguments(t *testing.T) {
	ctx := context.Background()
	m := store.NewMemory(10)
	for _, d := range []time.Duration{0, -time.Second} {
		_, ok, err := m.Claim(ctx, "k", d)
		assert.Error(t, err, "lease %v", d)
		assert.False(t, ok)
		assert.Error(t, m.Complete(ctx, "k", &store.Record{}, d), "keep %v", d)
		_, err = store.NewMemoryReplayCache(10).Add(ctx, "k", d)
		assert.Error(t, err, "ttl %v", d)
	}
	assert.Error(t, m.Complete(ctx, "k", nil, time.Hour))
	assert.Equal(t, 0, m.Len())
	// The longest durations saturate instead of wrapping into the past.
	_, ok, err := m.Claim(ctx, "k", time.Duration(1<<63-1))
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = m.Claim(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok)
}

// The handlers call these on every callback: no allocation beyond the
// record a Claim returns.
func TestMemoryAllocations(t *testing.T) {
	ctx := context.Background()
	var tick time.Duration
	clock := func() time.Time { return t0.Add(tick) }
	const n = 4096
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("newInstance/ORDER%014d/LINE%014d", i, i)
	}
	m := store.NewMemory(n/2, store.WithClock(clock))
	c := store.NewMemoryReplayCache(n/2, store.WithClock(clock))
	rec := &store.Record{InstanceID: "instance-0123456789"}
	i := 0
	round := func() {
		tick += time.Second
		k := keys[i%n]
		i++
		if _, ok, err := m.Claim(ctx, k, time.Minute); err != nil || !ok {
			t.Fatalf("Claim(%s) = %v, %v", k, ok, err)
		}
		if err := m.Complete(ctx, k, rec, n/4*time.Second); err != nil {
			t.Fatal(err)
		}
		if added, err := c.Add(ctx, k, n/4*time.Second); err != nil || !added {
			t.Fatalf("Add(%s) = %v, %v", k, added, err)
		}
	}
	for range 4 * n { // grow the map, slab and heap to their steady size
		round()
	}
	assert.Zero(t, testing.AllocsPerRun(2*n, round), "allocations per Claim+Complete+Add of a new key")

	held := keys[(i-1)%n]
	got := testing.AllocsPerRun(1000, func() {
		if r, _, _ := m.Claim(ctx, held, time.Minute); r == nil {
			t.Fatal("no record")
		}
		if added, _ := c.Add(ctx, held, time.Minute); added {
			t.Fatal("replay accepted")
		}
	})
	assert.LessOrEqual(t, got, 1.0, "allocations per Claim returning a record and Add of a seen key")
}

func TestMemoryErrFullIsSentinel(t *testing.T) {
	m := store.NewMemory(1)
	_, _, err := m.Claim(context.Background(), "a", time.Hour)
	require.NoError(t, err)
	_, _, err = m.Claim(context.Background(), "b", time.Hour)
	assert.True(t, errors.Is(err, store.ErrFull))
}
