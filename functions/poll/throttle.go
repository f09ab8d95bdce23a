package main

import (
	"sync"
	"time"
)

// backoff remembers the projects the API throttled and until when their
// jobs are left alone. It is safe for concurrent use.
type backoff struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func newBackoff() *backoff { return &backoff{until: map[string]time.Time{}} }

// hold makes project wait until t (a later hold wins).
func (b *backoff) hold(project string, t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.After(b.until[project]) {
		b.until[project] = t
	}
}

// held reports until when project waits, if it still does at now. Holds
// that have passed are forgotten.
func (b *backoff) held(project string, now time.Time) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.until[project]
	if !ok {
		return time.Time{}, false
	}
	if !t.After(now) {
		delete(b.until, project)
		return time.Time{}, false
	}
	return t, true
}
