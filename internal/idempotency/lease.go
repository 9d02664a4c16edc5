package idempotency

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// leaseContext is the context an operation runs with:
// context.WithTimeout(context.WithoutCancel(parent), d), made on demand.
// It carries parent's values and none of its cancellation, has the
// deadline, and ends when the operation returns (end). Most operations never
// wait on their context, so the timer and the channel that WithTimeout
// makes at once (five allocations, two clock readings and a timer-heap
// insertion) are made only when Done is first called: before that, Err
// compares the deadline with the monotonic clock, which is what the timer
// would have decided.
//
// A context derived from it (WithCancel, WithTimeout, AfterFunc) calls Done
// first, so it gets the real context's cancellation like any other child:
// no goroutine per derived context.
type leaseContext struct {
	base     context.Context // context.WithoutCancel(parent)
	deadline time.Time       // carries the monotonic clock reading
	real     atomic.Pointer[context.Context]
	mu       sync.Mutex // guards ended and cancel, and making real
	ended    bool
	cancel   context.CancelFunc
}

func newLeaseContext(parent context.Context, d time.Duration) *leaseContext {
	return &leaseContext{base: context.WithoutCancel(parent), deadline: time.Now().Add(d)}
}

// make returns the real context, making it if need be.
func (c *leaseContext) make() context.Context {
	if r := c.real.Load(); r != nil {
		return *r
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.real.Load(); r != nil {
		return *r
	}
	r, cancel := context.WithDeadline(c.base, c.deadline)
	if c.ended {
		cancel()
	}
	c.cancel = cancel
	c.real.Store(&r)
	return r
}

// end ends the context, as WithTimeout's cancel function does.
func (c *leaseContext) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ended = true
	if c.cancel != nil {
		c.cancel()
	}
}

func (c *leaseContext) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *leaseContext) Done() <-chan struct{} { return c.make().Done() }

func (c *leaseContext) Err() error {
	if r := c.real.Load(); r != nil {
		return (*r).Err()
	}
	c.mu.Lock()
	ended := c.ended
	c.mu.Unlock()
	switch {
	case ended:
		return context.Canceled
	case time.Until(c.deadline) <= 0:
		return context.DeadlineExceeded
	}
	return nil
}

// Value returns base's values. Until the real context exists that includes
// answering context.Cause's internal lookup with nil (WithoutCancel does),
// so that Cause falls back to Err.
func (c *leaseContext) Value(key any) any {
	if r := c.real.Load(); r != nil {
		return (*r).Value(key)
	}
	return c.base.Value(key)
}

func (c *leaseContext) String() string { return "idempotency.leaseContext" }
