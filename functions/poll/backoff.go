package main

import (
	"hash/fnv"
	"time"
)

// Schedule says when a job that is not finished is looked at again.
//
// A running job is next polled after First, then after twice as long at
// each poll, up to Max: with the defaults 15s, 30s, 1m, 2m, 4m, then every
// 5m. A cold migration takes from about a minute (cloud disks) to tens of
// minutes (large local disks), so the first looks come soon and a long
// migration costs a few calls an hour. Retry is the delay after a
// transient failure (an ECS 5xx, a network error, NATS trouble) and
// Throttled the delay after the project was throttled. Every delay gets a
// deterministic jitter of up to a fifth of it, derived from the job, so
// that jobs submitted together spread out; and no job is scheduled past
// its deadline, so that a timeout is noticed when it happens.
//
// With bulk observation, a job whose server the list shows busy is looked
// at when the list shows its server settled, and otherwise only after
// Backstop: a net under a list answer that never shows the change (the
// server back in the state of the last look within one second).
type Schedule struct {
	First, Max       time.Duration
	Retry, Throttled time.Duration
	Backstop         time.Duration
}

// DefaultSchedule returns the schedule poll uses.
func DefaultSchedule() Schedule {
	return Schedule{
		First: 15 * time.Second, Max: 5 * time.Minute, Retry: 30 * time.Second, Throttled: 20 * time.Second,
		Backstop: 30 * time.Minute,
	}
}

// Poll returns the delay before the next poll of a running job that was
// polled attempts times before.
func (s Schedule) Poll(attempts int) time.Duration {
	d := s.First
	for range max(attempts, 0) {
		if d >= s.Max/2 {
			return s.Max
		}
		d *= 2
	}
	return min(d, s.Max)
}

// next returns when a job is next due after a delay of d from now: d plus
// the job's jitter, but not after the deadline (and never before now).
func next(now, deadline time.Time, d time.Duration, recordID string, attempts int) time.Time {
	t := now.Add(d + jitter(d, recordID, attempts))
	if !deadline.IsZero() && t.After(deadline) && deadline.After(now) {
		return deadline
	}
	return t
}

// jitter returns a delay in [0, d/5) derived from the job and its attempt
// count, so that it is the same on every run.
func jitter(d time.Duration, recordID string, attempts int) time.Duration {
	span := int64(d / 5)
	if span <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(recordID))
	h.Write([]byte{byte(attempts), byte(attempts >> 8)})
	return time.Duration(h.Sum64() % uint64(span))
}
