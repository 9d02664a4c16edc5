package idempotency

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/store"
)

type rec = store.Record

func newGroup(st Store[rec]) *Group[rec] {
	return &Group[rec]{
		Store: st,
		Lease: time.Minute,
		Keep:  time.Hour,
		Wait:  time.Second,
		Final: func(r *rec) bool { return !r.Pending },
	}
}

func TestDoConcurrentDuplicatesRunOnce(t *testing.T) {
	t.Parallel()
	g := newGroup(store.NewMemory(10))
	var runs atomic.Int64
	release := make(chan struct{})
	op := func(context.Context, *rec) (*rec, error) {
		n := runs.Add(1)
		<-release
		return &rec{InstanceID: "i-" + strconv.FormatInt(n, 10)}, nil
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
				got[i] = r.InstanceID
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
	assert.Equal(t, "i-1", r.InstanceID)
	assert.Equal(t, int64(1), runs.Load())
}

func TestDoFailuresAreNotRecorded(t *testing.T) {
	t.Parallel()
	st := store.NewMemory(10)
	g := newGroup(st)
	boom := errors.New("boom")
	_, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return nil, boom })
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, st.Len(), "claim released")

	_, err = g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return nil, nil })
	assert.ErrorIs(t, err, errNoRecord)
	assert.Zero(t, st.Len())

	r, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return &rec{InstanceID: "ok"}, nil })
	require.NoError(t, err)
	assert.Equal(t, "ok", r.InstanceID)
}

func TestDoPanicReleasesAndWakesWaiters(t *testing.T) {
	t.Parallel()
	st := store.NewMemory(10)
	g := newGroup(st)
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
	assert.Zero(t, st.Len(), "claim released on panic")
	r, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return &rec{InstanceID: "retry"}, nil })
	require.NoError(t, err)
	assert.Equal(t, "retry", r.InstanceID)
}

func TestDoPendingIsRecheckedNotRestarted(t *testing.T) {
	t.Parallel()
	g := newGroup(store.NewMemory(10))
	var prevs []*rec
	step := 0
	op := func(_ context.Context, prev *rec) (*rec, error) {
		prevs = append(prevs, prev)
		step++
		switch step {
		case 1:
			return &rec{InstanceID: "i-1", Pending: true}, nil
		case 2:
			return nil, errors.New("status lookup failed")
		case 3:
			return &rec{InstanceID: "i-1", Pending: true}, nil
		default:
			return &rec{InstanceID: "i-1"}, nil
		}
	}
	ctx := context.Background()
	r, err := g.Do(ctx, "k", op)
	require.NoError(t, err)
	assert.Equal(t, rec{InstanceID: "i-1", Pending: true}, *r)

	_, err = g.Do(ctx, "k", op) // a failed re-check keeps the pending record
	require.Error(t, err)
	r, err = g.Do(ctx, "k", op) // still pending
	require.NoError(t, err)
	assert.True(t, r.Pending)
	r, err = g.Do(ctx, "k", op) // now done: recorded as final
	require.NoError(t, err)
	assert.Equal(t, rec{InstanceID: "i-1"}, *r)
	r, err = g.Do(ctx, "k", op) // replayed, op not called
	require.NoError(t, err)
	assert.Equal(t, rec{InstanceID: "i-1"}, *r)

	require.Len(t, prevs, 4)
	assert.Nil(t, prevs[0], "first run has no previous record")
	for _, p := range prevs[1:] {
		assert.Equal(t, &rec{InstanceID: "i-1", Pending: true}, p, "re-checks get the pending record")
	}
}

func TestDoAcrossProcessesSharingAStore(t *testing.T) {
	t.Parallel()
	st := store.NewMemory(10)
	a, b := newGroup(st), newGroup(st) // two replicas
	inA := make(chan struct{})
	release := make(chan struct{})
	done := make(chan *rec, 1)
	go func() {
		r, err := a.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
			close(inA)
			<-release
			return &rec{InstanceID: "from-a"}, nil
		})
		assert.NoError(t, err)
		done <- r
	}()
	<-inA
	time.AfterFunc(50*time.Millisecond, func() { close(release) })
	r, err := b.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
		t.Error("replica b must not run op while a holds the claim")
		return &rec{InstanceID: "from-b"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "from-a", r.InstanceID, "b waited for a's answer")
	assert.Equal(t, "from-a", (<-done).InstanceID)
}

func TestDoGivesUpWaitingForAForeignClaim(t *testing.T) {
	t.Parallel()
	st := store.NewMemory(10)
	_, claimed, err := st.Claim(context.Background(), "k", time.Hour) // a replica that hangs
	require.NoError(t, err)
	require.True(t, claimed)
	g := newGroup(st)
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

// A claim whose holder died is taken over once its lease runs out, even
// when the lease is shorter than Wait; the operation then gets 4/5 of the
// lease from its own claim, not what the wait left of it.
func TestDoTakesOverAnExpiredClaimWithAShortLease(t *testing.T) {
	t.Parallel()
	st := store.NewMemory(10)
	const lease = time.Second
	_, claimed, err := st.Claim(context.Background(), "k", lease) // a replica that dies now
	require.NoError(t, err)
	require.True(t, claimed)
	g := newGroup(st)
	g.Lease, g.Wait = lease, 3*time.Second
	start := time.Now()
	r, err := g.Do(context.Background(), "k", func(ctx context.Context, _ *rec) (*rec, error) {
		deadline, ok := ctx.Deadline()
		assert.True(t, ok)
		assert.Greater(t, time.Until(deadline), lease/2, "the operation's time is counted from its claim")
		return &rec{InstanceID: "taken-over"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "taken-over", r.InstanceID)
	assert.GreaterOrEqual(t, time.Since(start), lease*9/10, "not before the lease ran out")
}

func TestDoDetachesOperationFromCaller(t *testing.T) {
	t.Parallel()
	g := newGroup(store.NewMemory(10))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := g.Do(ctx, "k", func(opCtx context.Context, _ *rec) (*rec, error) {
		cancel() // KooGallery hangs up mid-provisioning
		deadline, ok := opCtx.Deadline()
		assert.True(t, ok)
		assert.WithinDuration(t, time.Now().Add(g.Lease*4/5), deadline, 5*time.Second)
		assert.NoError(t, opCtx.Err(), "the operation carries on")
		return &rec{InstanceID: "i-1"}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "i-1", r.InstanceID)
	r, err = g.Do(context.Background(), "k", nil)
	require.NoError(t, err)
	assert.Equal(t, "i-1", r.InstanceID, "recorded for the retry")
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
	g := newGroup(failingStore{Store: store.NewMemory(10), claimErr: down})
	_, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) {
		t.Error("without a claim the operation must not run")
		return nil, nil
	})
	assert.ErrorIs(t, err, down)

	var logs bytes.Buffer
	g = newGroup(failingStore{Store: store.NewMemory(10), completeErr: down})
	g.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r, err := g.Do(context.Background(), "k", func(context.Context, *rec) (*rec, error) { return &rec{InstanceID: "i-1"}, nil })
	require.NoError(t, err, "the work happened; its answer stands")
	assert.Equal(t, "i-1", r.InstanceID)
	assert.Contains(t, logs.String(), "connection refused")
}

// A Group over a full store refuses to run the operation, and says why.
func TestGroupFullStoreRunsNothing(t *testing.T) {
	t.Parallel()
	g := &Group[rec]{Store: store.NewMemory(1), Lease: time.Minute, Keep: time.Hour, Wait: time.Second,
		Final: func(*rec) bool { return true }}
	ran := 0
	op := func(context.Context, *rec) (*rec, error) { ran++; return &rec{InstanceID: "x"}, nil }
	_, err := g.Do(context.Background(), "k1", op)
	require.NoError(t, err)
	_, err = g.Do(context.Background(), "k2", op)
	assert.ErrorIs(t, err, ErrStore)
	assert.ErrorIs(t, err, store.ErrFull)
	r, err := g.Do(context.Background(), "k1", op)
	require.NoError(t, err)
	assert.Equal(t, "x", r.InstanceID)
	assert.Equal(t, 1, ran)
}
