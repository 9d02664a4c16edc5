package idempotency

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type ctxKey struct{}

// The lease context behaves as context.WithTimeout(context.WithoutCancel(
// parent), d) does, whether or not anything waited on it before it ended.
func TestLeaseContextIsWithTimeoutWithoutCancel(t *testing.T) {
	t.Parallel()
	for _, wait := range []bool{false, true} {
		parent, cancelParent := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "v"))
		before := time.Now()
		c := newLeaseContext(parent, time.Hour)
		deadline, ok := c.Deadline()
		require.True(t, ok)
		assert.WithinDuration(t, before.Add(time.Hour), deadline, time.Second)
		assert.Equal(t, "v", c.Value(ctxKey{}), "wait %v", wait)
		if wait {
			assert.NotNil(t, c.Done())
		}
		cancelParent()
		assert.NoError(t, c.Err(), "wait %v: the parent's cancellation does not reach the operation", wait)
		assert.NoError(t, context.Cause(c), "wait %v", wait)
		c.end()
		assert.ErrorIs(t, c.Err(), context.Canceled, "wait %v", wait)
		assert.ErrorIs(t, context.Cause(c), context.Canceled, "wait %v", wait)
		select {
		case <-c.Done():
		default:
			t.Fatalf("wait %v: Done not closed after end", wait)
		}
		assert.Equal(t, "v", c.Value(ctxKey{}), "wait %v", wait)
	}
}

func TestLeaseContextDeadline(t *testing.T) {
	t.Parallel()
	c := newLeaseContext(context.Background(), 20*time.Millisecond)
	defer c.end()
	assert.NoError(t, c.Err())
	time.Sleep(30 * time.Millisecond)
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded, "before anything waited")
	<-c.Done()
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)

	c2 := newLeaseContext(context.Background(), 20*time.Millisecond)
	defer c2.end()
	select {
	case <-c2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed at the deadline")
	}
	assert.ErrorIs(t, c2.Err(), context.DeadlineExceeded)
	assert.ErrorIs(t, context.Cause(c2), context.DeadlineExceeded)
}

// Contexts derived from the lease context end with it, as children of a
// cancelCtx do: without a goroutine each.
// Not parallel: it counts the process's goroutines, which parallel tests
// would change under it.
func TestLeaseContextChildren(t *testing.T) {
	c := newLeaseContext(context.Background(), time.Hour)
	before := runtime.NumGoroutine()
	var children []context.Context
	for range 100 {
		child, cancel := context.WithCancel(c)
		defer cancel()
		children = append(children, child)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before+10, "a goroutine per derived context")
	called := make(chan struct{})
	context.AfterFunc(c, func() { close(called) })
	timed, cancel := context.WithTimeout(c, 2*time.Hour)
	defer cancel()
	d, _ := timed.Deadline()
	dl, _ := c.Deadline()
	assert.Equal(t, dl, d, "the earlier deadline wins")

	c.end()
	for _, child := range children {
		<-child.Done()
		assert.ErrorIs(t, child.Err(), context.Canceled)
	}
	<-timed.Done()
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("AfterFunc not called when the lease context ended")
	}
}

func TestLeaseContextConcurrentUse(t *testing.T) {
	t.Parallel()
	for range 50 {
		c := newLeaseContext(context.Background(), time.Hour)
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					<-c.Done()
				}
				_ = c.Err()
				_ = c.Value(ctxKey{})
			}()
		}
		c.end()
		wg.Wait()
		assert.ErrorIs(t, c.Err(), context.Canceled)
	}
}
