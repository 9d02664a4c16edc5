// Package idempotency runs an operation at most once per key, across
// concurrent callers in one process (they wait for the first and share its
// answer) and across processes that share a Store (an atomic claim).
//
// A key's life: absent → claimed (an operation runs; the claim is a lease
// that expires if its holder dies) → recorded. A failed or panicking
// operation releases the claim, so the next attempt runs it again: failures
// are never recorded. A record is either final, and replayed as is, or not
// final (an asynchronous start, such as a Pending newInstance), and then the
// next attempt calls the operation again with the record, to learn how the
// started work is going without starting it twice.
package idempotency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Store keeps claims and records. Claim must be atomic across every process
// sharing the store: of all callers racing on an absent (or expired) key,
// exactly one gets claimed == true.
//
//   - Claim: if key is absent or expired, record it as claimed until lease
//     runs out and return (nil, true, nil). If key is claimed, return
//     (nil, false, nil). If key holds a record, return (record, false, nil).
//   - Complete: store r under key for keep, replacing a claim or an earlier
//     record.
//   - Release: delete key if it is (still) a claim; leave a record alone.
type Store[R any] interface {
	Claim(ctx context.Context, key string, lease time.Duration) (existing *R, claimed bool, err error)
	Complete(ctx context.Context, key string, r *R, keep time.Duration) error
	Release(ctx context.Context, key string) error
}

// ErrStore reports that the Store could not be consulted: full (it wraps
// store.ErrFull then) or failing. The operation did not run.
var ErrStore = errors.New("idempotency: store unavailable")

// ErrInProgress reports that another process holds the key's claim and did
// not finish within Group.Wait.
var ErrInProgress = errors.New("idempotency: operation in progress elsewhere")

// Op performs the operation. prev is nil on the first run, or the non-final
// record of an earlier run. It returns the record to keep.
type Op[R any] func(ctx context.Context, prev *R) (*R, error)

// Group runs operations at most once per key. Set the exported fields before
// first use; the zero Group is not usable.
type Group[R any] struct {
	Store Store[R]
	// Lease is how long a claim lives. The operation's context is detached
	// from the caller's cancellation (the work continues when the caller
	// hangs up, so a retry can replay it) and ends at 4/5 of Lease, leaving
	// time to record the result before the claim could be taken over.
	Lease time.Duration
	// Keep is how long records are kept.
	Keep time.Duration
	// Wait bounds how long Do polls a claim held by another process.
	Wait time.Duration
	// Final reports whether a record is final.
	Final func(*R) bool
	// Logger receives store failures that cannot be returned.
	Logger *slog.Logger

	mu    sync.Mutex
	calls map[string]*call[R]
}

type call[R any] struct {
	done chan struct{} // made by the first caller that waits, under Group.mu
	rec  *R
	err  error
}

var errAborted = errors.New("idempotency: operation panicked")

// Do returns the record for key, running op only if no final record exists
// and no other caller is running it. Concurrent callers in this process wait
// for the one running op and get its answer, error included.
func (g *Group[R]) Do(ctx context.Context, key string, op Op[R]) (*R, error) {
	g.mu.Lock()
	if c, ok := g.calls[key]; ok {
		if c.done == nil {
			c.done = make(chan struct{})
		}
		done := c.done
		g.mu.Unlock()
		select {
		case <-done:
			return c.rec, c.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if g.calls == nil {
		g.calls = make(map[string]*call[R])
	}
	c := &call[R]{err: errAborted}
	g.calls[key] = c
	g.mu.Unlock()

	defer func() {
		// Runs on panic too: waiters then see errAborted. Once the call is
		// out of the map no caller can start waiting on it.
		g.mu.Lock()
		delete(g.calls, key)
		done := c.done
		g.mu.Unlock()
		if done != nil {
			close(done)
		}
	}()
	c.rec, c.err = g.run(ctx, key, op)
	return c.rec, c.err
}

func (g *Group[R]) run(ctx context.Context, key string, op Op[R]) (*R, error) {
	var deadline time.Time // of waiting for a foreign claim, from the first wait
	backoff := 10 * time.Millisecond
	for {
		// Each claim gets its own context, started before the claim and so
		// before its lease: the operation that follows a won claim ends at
		// 4/5 of that lease, however long the polling before it took.
		if rec, done, err := g.attempt(ctx, key, op); done {
			return rec, err
		}
		// Claimed by another process: poll until it records an answer,
		// releases (we claim next time), or its lease runs out.
		now := time.Now()
		if deadline.IsZero() {
			deadline = now.Add(g.Wait)
		}
		if now.Add(backoff).After(deadline) {
			return nil, ErrInProgress
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// attempt claims key once, under a context of its own that ends at 4/5 of
// the lease, and runs op or returns what is recorded; done is false when
// another process holds the claim. (A function of its own, so that its
// deferred end is not a defer in run's loop, which would allocate.)
func (g *Group[R]) attempt(ctx context.Context, key string, op Op[R]) (_ *R, done bool, _ error) {
	opCtx := newLeaseContext(ctx, g.Lease*4/5)
	defer opCtx.end()
	prev, claimed, err := g.Store.Claim(opCtx, key, g.Lease)
	switch {
	case err != nil:
		return nil, true, fmt.Errorf("idempotency: claim %s: %w: %w", key, ErrStore, err)
	case claimed:
		rec, err := g.first(opCtx, key, op)
		return rec, true, err
	case prev != nil && g.Final(prev):
		return prev, true, nil
	case prev != nil:
		rec, err := g.recheck(opCtx, key, prev, op)
		return rec, true, err
	}
	return nil, false, nil
}

// releaseTimeout bounds giving a claim back after a failure, which happens
// before the answer is written: well inside KooGallery's 5 s, whatever the
// Store. A release that does not finish leaves the claim to its lease.
const releaseTimeout = 2 * time.Second

var errNoRecord = errors.New("idempotency: operation returned neither a record nor an error")

func (g *Group[R]) first(ctx context.Context, key string, op Op[R]) (_ *R, err error) {
	recorded := false
	defer func() {
		if recorded {
			return
		}
		// Failure or panic: give the key back so that a retry runs op again.
		// The context may have run out with op; use a short fresh one.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if rerr := g.Store.Release(rctx, key); rerr != nil {
			g.storeFailed(ctx, "release", key, rerr)
		}
	}()
	rec, err := op(ctx, nil)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, errNoRecord
	}
	recorded = true
	g.complete(ctx, key, rec)
	return rec, nil
}

func (g *Group[R]) recheck(ctx context.Context, key string, prev *R, op Op[R]) (*R, error) {
	rec, err := op(ctx, prev)
	if err != nil {
		return nil, err // prev stays recorded
	}
	if rec == nil {
		return nil, errNoRecord
	}
	if g.Final(rec) {
		g.complete(ctx, key, rec)
	}
	return rec, nil
}

// complete records rec. The operation has happened, so its answer is
// returned even if recording fails; the claim then lapses with its lease and
// a later retry may run op again, which the log makes visible.
func (g *Group[R]) complete(ctx context.Context, key string, rec *R) {
	if err := g.Store.Complete(ctx, key, rec, g.Keep); err != nil {
		g.storeFailed(ctx, "complete", key, err)
	}
}

func (g *Group[R]) storeFailed(ctx context.Context, op, key string, err error) {
	if g.Logger == nil {
		return
	}
	g.Logger.LogAttrs(ctx, slog.LevelError, "koogallery: idempotency store failed",
		slog.String("op", op), slog.String("key", key), slog.Any("error", err))
}
