package main

import (
	"log/slog"
	"sync"
	"time"
)

// Summary counts what one tick did. It is the Lambda invocation's result
// and the tick's log line.
type Summary struct {
	// Jobs is how many job records the ledger holds; Due how many of them
	// were due.
	Jobs int `json:"jobs"`
	Due  int `json:"due"`
	// Leased counts the due jobs this tick took; LeaseLost those another
	// poller took first (or that were no longer due).
	Leased    int `json:"leased"`
	LeaseLost int `json:"lease_lost"`
	// Polled counts the leased jobs asked about at ECS.
	Polled int `json:"polled"`
	// Completed, Failed and TimedOut count the outcomes decided and
	// acknowledged by JetStream in this tick.
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	TimedOut  int `json:"timed_out"`
	// Republished counts outcomes decided by an earlier tick that did not
	// finish them (a crash, NATS trouble), published again and finished.
	Republished int `json:"republished"`
	// Rescheduled counts jobs given a next poll time: still running,
	// throttled, or after a transient failure.
	Rescheduled int `json:"rescheduled"`
	// Throttled counts jobs whose ECS call was throttled or whose project
	// was backing off after throttling.
	Throttled int `json:"throttled"`
	// Deferred counts due jobs left for the next tick because the budget
	// ran out: its time, or the calls the request rate pays for in it.
	Deferred int `json:"deferred"`
	// ListCalls counts the ListServersDetails calls of bulk observation,
	// Listed the servers their answers described or said are gone, and
	// Early the jobs taken before they were due because their server
	// changed.
	ListCalls int `json:"list_calls"`
	Listed    int `json:"listed"`
	Early     int `json:"early"`
	// Errors counts failures: ECS answers that are not about the job
	// (5xx, network, credentials), ledger and NATS trouble. None of them
	// turns into an outcome.
	Errors int `json:"errors"`
	// DurationMS is the tick's wall time in milliseconds.
	DurationMS int64 `json:"duration_ms"`
}

// LogValue logs the summary as one group of attributes.
func (s Summary) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("jobs", s.Jobs), slog.Int("due", s.Due),
		slog.Int("leased", s.Leased), slog.Int("lease_lost", s.LeaseLost),
		slog.Int("polled", s.Polled),
		slog.Int("completed", s.Completed), slog.Int("failed", s.Failed), slog.Int("timed_out", s.TimedOut),
		slog.Int("republished", s.Republished), slog.Int("rescheduled", s.Rescheduled),
		slog.Int("throttled", s.Throttled), slog.Int("deferred", s.Deferred),
		slog.Int("list_calls", s.ListCalls), slog.Int("listed", s.Listed), slog.Int("early", s.Early),
		slog.Int("errors", s.Errors), slog.Int64("duration_ms", s.DurationMS),
	)
}

// Duration returns the tick's wall time.
func (s Summary) Duration() time.Duration { return time.Duration(s.DurationMS) * time.Millisecond }

// tally adds up the results of a tick's workers.
type tally struct {
	mu sync.Mutex
	s  Summary
}

func (t *tally) add(f func(*Summary)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f(&t.s)
}
