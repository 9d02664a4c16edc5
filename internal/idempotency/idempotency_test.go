package idempotency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
)

type rec struct {
	ID      string
	Pending bool
}

func newGroup(store Store[rec]) *Group[rec] {
	return &Group[rec]{
		Store: store,
		Lease: time.Minute,
		Keep:  time.Hour,
		Wait:  time.Second,
		Final: func(r *rec) bool { return !r.Pending },
	}
}

func TestDoConcurrentDuplicatesRunOnce(t *testing.T) {
	t.Parallel()
	g := newGroup(NewMemory[rec](10))
	var runs atomic.Int64
	release := make(chan struct{})
	op := func(context.Context, *rec) (*rec, error) {
		n := runs.Add(1)
		<-release
		return &rec{ID: "i-" + strconv.FormatInt(n, 10)}, nil
	}
	const n = 1000
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := g.Do(context.Background(), "k", op)
			if assert.NoError(t, err) {
				got[i] = r.ID
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let them pile up behind the first
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), runs.Load())
	for i := range got {
		assert.Equal(t, "i-1", got[i])
	}
	// Later calls replay the record.
	r, err := g.Do(context.Background(), "k", op)
	require.NoError(t, err)
	assert.Equal(t, "i-1", r.ID)
	assert.Equal(t, int64(1), runs.Load())
}

func TestDoFailuresAreNotRecorded(t *testing.T) {
	t.Parallel()
	store := NewMemory[rec](10)
	g := newGroup(store)
	boom := errors.New("boom")
	_, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, store.Len(), "claim released")

	_, err = g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return nil, nil })
	assert.ErrorIs(t, err, errNoRecord)
	assert.Zero(t, store.Len())

	r, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return &rec{ID: "ok"}, nil })
	require.NoError(t, err)
	assert.Equal(t, "ok", r.ID)
}

func TestDoPanicReleasesAndWakesWaiters(t *testing.T) {
	t.Parallel()
	store := NewMemory[rec](10)
	g := newGroup(store)
	started := make(chan struct{})
	waiterErr := make(chan error, 1)
	go func() {
		<-started
		_, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
			t.Error("a waiter must not run op")
			return nil, nil
		})
		waiterErr <- err
	}()
	assert.PanicsWithValue(t, "provider bug", func() {
		_, _ = g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
			close(started)
			time.Sleep(100 * time.Millisecond) // the waiter joins meanwhile
			panic("provider bug")
		})
	}, "the panic reaches the caller")
	select {
	case err := <-waiterErr:
		assert.ErrorIs(t, err, errAborted)
	case <-time.After(5 * time.Second):
		t.Fatal("waiter never woke")
	}
	assert.Zero(t, store.Len(), "claim released on panic")
	r, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return &rec{ID: "retry"}, nil })
	require.NoError(t, err)
	assert.Equal(t, "retry", r.ID)
}

func TestDoPendingIsRecheckedNotRestarted(t *testing.T) {
	t.Parallel()
	g := newGroup(NewMemory[rec](10))
	var prevs []*rec
	step := 0
	op := func(_ context.Context, prev *rec) (*rec, error) {
		prevs = append(prevs, prev)
		step++
		switch step {
		case 1:
			return &rec{ID: "i-1", Pending: true}, nil
		case 2:
			return nil, errors.New("status lookup failed")
		case 3:
			return &rec{ID: "i-1", Pending: true}, nil
		default:
			return &rec{ID: "i-1"}, nil
		}
	}
	ctx := context.Background()
	r, err := g.Do(ctx, "k", op)
	require.NoError(t, err)
	assert.Equal(t, rec{ID: "i-1", Pending: true}, *r)

	_, err = g.Do(ctx, "k", op) // a failed re-check keeps the pending record
	require.Error(t, err)
	r, err = g.Do(ctx, "k", op) // still pending
	require.NoError(t, err)
	assert.True(t, r.Pending)
	r, err = g.Do(ctx, "k", op) // now done: recorded as final
	require.NoError(t, err)
	assert.Equal(t, rec{ID: "i-1"}, *r)
	r, err = g.Do(ctx, "k", op) // replayed, op not called
	require.NoError(t, err)
	assert.Equal(t, rec{ID: "i-1"}, *r)

	require.Len(t, prevs, 4)
	assert.Nil(t, prevs[0], "first run has no previous record")
	for _, p := range prevs[1:] {
		assert.Equal(t, &rec{ID: "i-1", Pending: true}, p, "re-checks get the pending record")
	}
}

func TestDoAcrossProcessesSharingAStore(t *testing.T) {
	t.Parallel()
	store := NewMemory[rec](10)
	a, b := newGroup(store), newGroup(store) // two replicas
	inA := make(chan struct{})
	release := make(chan struct{})
	done := make(chan *rec, 1)
	go func() {
		r, err := a.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
			close(inA)
			<-release
			return &rec{ID: "from-a"}, nil
		})
		assert.NoError(t, err)
		done <- r
	}()
	<-inA
	time.AfterFunc(50*time.Millisecond, func() { close(release) })
	r, err := b.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
		t.Error("replica b must not run op while a holds the claim")
		return &rec{ID: "from-b"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "from-a", r.ID, "b waited for a's answer")
	assert.Equal(t, "from-a", (<-done).ID)
}

func TestDoGivesUpWaitingForAForeignClaim(t *testing.T) {
	t.Parallel()
	store := NewMemory[rec](10)
	_, claimed, err := store.Claim(context.Background(), "k", time.Hour) // a replica that hangs
	require.NoError(t, err)
	require.True(t, claimed)
	g := newGroup(store)
	g.Wait = 50 * time.Millisecond
	start := time.Now()
	_, err = g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
		t.Error("must not run while claimed elsewhere")
		return nil, nil
	})
	assert.ErrorIs(t, err, ErrInProgress)
	assert.Less(t, time.Since(start), time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.Wait = time.Hour
	_, err = g.Do(ctx, "k", nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDoDetachesOperationFromCaller(t *testing.T) {
	t.Parallel()
	g := newGroup(NewMemory[rec](10))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := g.Do(ctx, "k", func(opCtx context.Context, _ *rec) (*rec, error) {
		cancel() // KooGallery hangs up mid-provisioning
		deadline, ok := opCtx.Deadline()
		assert.True(t, ok)
		assert.WithinDuration(t, time.Now().Add(g.Lease*4/5), deadline, 5*time.Second)
		assert.NoError(t, opCtx.Err(), "the operation carries on")
		return &rec{ID: "i-1"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "i-1", r.ID)
	r, err = g.Do(context.Background(), "k", nil)
	require.NoError(t, err)
	assert.Equal(t, "i-1", r.ID, "recorded for the retry")
}

type failingStore struct {
	Store[rec]
	claimErr, completeErr error
}

func (f failingStore) Claim(ctx context.Context, key string, lease time.Duration) (*rec, bool, error) {
	if f.claimErr != nil {
		return nil, false, f.claimErr
	}
	return f.Store.Claim(ctx, key, lease)
}

func (f failingStore) Complete(context.Context, string, *rec, time.Duration) error {
	return f.completeErr
}

func TestDoStoreFailures(t *testing.T) {
	t.Parallel()
	down := errors.New("redis: connection refused")
	g := newGroup(failingStore{Store: NewMemory[rec](10), claimErr: down})
	_, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
		t.Error("without a claim the operation must not run")
		return nil, nil
	})
	assert.ErrorIs(t, err, down)

	var logs bytes.Buffer
	g = newGroup(failingStore{Store: NewMemory[rec](10), completeErr: down})
	g.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return &rec{ID: "i-1"}, nil })
	require.NoError(t, err, "the work happened; its answer stands")
	assert.Equal(t, "i-1", r.ID)
	assert.Contains(t, logs.String(), "connection refused")
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1000, 0)
	m := NewMemory[rec](2)
	m.now = func() time.Time { return now }

	_, claimed, _ := m.Claim(ctx, "a", time.Minute)
	assert.True(t, claimed)
	r, claimed, _ := m.Claim(ctx, "a", time.Minute)
	assert.False(t, claimed)
	assert.Nil(t, r, "claimed, no record yet")

	now = now.Add(time.Minute)
	_, claimed, _ = m.Claim(ctx, "a", time.Minute)
	assert.True(t, claimed, "a lapsed lease can be claimed again")

	require.NoError(t, m.Complete(ctx, "a", &rec{ID: "A"}, time.Hour))
	require.NoError(t, m.Release(ctx, "a"))
	r, claimed, _ = m.Claim(ctx, "a", time.Minute)
	assert.False(t, claimed, "release leaves records alone")
	require.NotNil(t, r)
	r.ID = "mutated"
	r, _, _ = m.Claim(ctx, "a", time.Minute)
	assert.Equal(t, "A", r.ID, "callers get copies")

	require.NoError(t, m.Complete(ctx, "b", &rec{ID: "B"}, 2*time.Hour))
	_, _, err := m.Claim(ctx, "c", time.Minute)
	require.ErrorIs(t, err, store.ErrFull, "full, nothing expired: no key is forgotten")
	assert.ErrorIs(t, m.Complete(ctx, "c", &rec{ID: "C"}, time.Hour), store.ErrFull)
	r, claimed, _ = m.Claim(ctx, "a", time.Minute)
	assert.False(t, claimed, "a is still recorded")
	assert.Equal(t, "A", r.ID)

	now = now.Add(time.Hour)
	_, claimed, err = m.Claim(ctx, "c", time.Minute)
	require.NoError(t, err)
	assert.True(t, claimed, "a expired and made room")
	assert.Equal(t, 2, m.Len(), "b and the claim on c")
	require.NoError(t, m.Complete(ctx, "c", &rec{ID: "C"}, time.Hour), "completing a claim never fails")
}

// A Group over a full store refuses to run the operation, and says why.
func TestGroupFullStoreRunsNothing(t *testing.T) {
	t.Parallel()
	g := &Group[rec]{Store: NewMemory[rec](1), Lease: time.Minute, Keep: time.Hour, Wait: time.Second,
		Final: func(*rec) bool { return true }}
	ran := 0
	op := func(context.Context, *rec) (*rec, error) { ran++; return &rec{ID: "x"}, nil }
	_, err := g.Do(context.Background(), "k1", op)
	require.NoError(t, err)
	_, err = g.Do(context.Background(), "k2", op)
	assert.ErrorIs(t, err, ErrStore)
	assert.ErrorIs(t, err, store.ErrFull)
	r, err := g.Do(context.Background(), "k1", op)
	require.NoError(t, err)
	assert.Equal(t, "x", r.ID)
	assert.Equal(t, 1, ran)
}

// BenchmarkMemoryAtBound reports the heap a full memory store holds
// (heap-MiB, B/key) at the handlers' default bounds: 65,536 served-call keys
// (the V1 and kit replay guard) and 100,000 at-most-once records. Run it
// with -benchtime 1x.
func BenchmarkMemoryAtBound(b *testing.B) {
	for _, tc := range []struct {
		name string
		n    int
		key  func(i int) string
		rec  store.Record
	}{
		{"guard65536", 1 << 16, func(i int) string { return fmt.Sprintf("kit2/tenantSync/%064x", i) }, store.Record{}},
		{"records100000", 100_000, func(i int) string { return fmt.Sprintf("newInstance/CS%016d/CS%016d-000001", i, i) },
			store.Record{InstanceID: "inst-0123456789abcdef"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				m := NewMemory[store.Record](tc.n)
				for i := range tc.n {
					if err := m.Complete(context.Background(), tc.key(i), &tc.rec, time.Hour); err != nil {
						b.Fatal(err)
					}
				}
				if _, _, err := m.Claim(context.Background(), "one more", time.Minute); !errors.Is(err, store.ErrFull) {
					b.Fatal("a full store accepted one more")
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				grew := float64(after.HeapInuse - before.HeapInuse)
				b.ReportMetric(grew/(1<<20), "heap-MiB")
				b.ReportMetric(grew/float64(tc.n), "B/key")
				runtime.KeepAlive(m)
			}
		})
	}
}
