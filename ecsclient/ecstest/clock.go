package ecstest

import (
	"sync"
	"time"
)

// Clock tells the simulator what time it is. The model clock drives job
// progress, job times and retention; the gateway clock drives the signature
// skew check and the rate limit.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
}

// WallClock is the [Clock] of the real world: [time.Now].
type WallClock struct{}

// Now returns [time.Now].
func (WallClock) Now() time.Time { return time.Now() }

// ManualClock is a [Clock] that moves only when told to, so tests decide
// exactly when jobs progress. It is safe for concurrent use.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a [ManualClock] that starts at start.
func NewManualClock(start time.Time) *ManualClock {
	return &ManualClock{now: start}
}

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (backward when d is negative) and
// returns the new time.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

var (
	_ Clock = WallClock{}
	_ Clock = (*ManualClock)(nil)
)
