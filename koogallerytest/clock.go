package koogallerytest

import (
	"sync"
	"time"
)

// Clock is a settable clock for tests, safe for concurrent use. Give the
// same Clock to the handler under test and to the Sender, so that the
// handler's freshness window and the calls' timestamps read one time:
//
//	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
//	h := saas.NewHandler(key, p, callback.WithClock(clk.Now))
//	market := koogallerytest.NewSender(key, koogallerytest.WithClock(clk.Now))
//	clk.Advance(2 * time.Minute) // the next call's timestamp and the window move together
//
// A test that pins one side only passes today and fails on a later date.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads t until it is set or advanced.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time. Pass the method value (clk.Now) wherever an
// option takes a clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock by d (backwards if d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
