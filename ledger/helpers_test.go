package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/ledger"
)

// clock is a settable clock shared by the ledgers of one test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func testConfig() ledger.Config {
	cfg := ledger.DefaultConfig()
	cfg.ClaimStaleAfter = 5 * time.Minute
	return cfg
}

// mustOpen opens a ledger with the given owner and clock on js.
func mustOpen(tb testing.TB, js jetstream.JetStream, owner string, clk *clock) *ledger.Ledger {
	tb.Helper()
	l, err := ledger.Open(context.Background(), js, testConfig(), ledger.WithOwner(owner), ledger.WithClock(clk.Now))
	if err != nil {
		tb.Fatalf("ledger.Open: %v", err)
	}
	return l
}

// setup starts a server and opens one ledger owned by "a".
func setup(tb testing.TB) (*natstest.Server, *ledger.Ledger, *clock) {
	tb.Helper()
	s := natstest.Run(tb)
	clk := newClock()
	return s, mustOpen(tb, s.JetStream(), "a", clk), clk
}

func mustClaim(tb testing.TB, l *ledger.Ledger, ref ledger.RequestRef) ledger.ClaimResult {
	tb.Helper()
	res, err := l.ClaimRequest(context.Background(), ref)
	if err != nil {
		tb.Fatalf("ClaimRequest(%+v): %v", ref, err)
	}
	return res
}

func request(n int) ledger.RequestRef {
	return ledger.RequestRef{
		Source:   "urn:coldmove:test",
		ID:       fmt.Sprintf("req-%d", n),
		ServerID: fmt.Sprintf("6f0a2f3e-0000-4000-8000-%012d", n),
	}
}

// newJob returns a valid job record for request n, due at next.
func newJob(n int, next time.Time) ledger.Job {
	r := request(n)
	return ledger.Job{
		JobID:         fmt.Sprintf("ff808082%024x", n),
		RequestID:     r.ID,
		RequestSource: r.Source,
		RequestKey:    ledger.RequestKey(r.Source, r.ID),
		ProjectID:     "0605767d3d80d5762f4fc00c7b8a1234",
		Region:        "cn-north-4",
		ServerID:      r.ServerID,
		Target:        ledger.Target{DedicatedHostID: "c0ffee00-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		TraceParent:   "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		Deadline:      next.Add(time.Hour),
		NextPoll:      next,
	}
}

func mustRecordJob(tb testing.TB, l *ledger.Ledger, j ledger.Job) *ledger.Job {
	tb.Helper()
	got, err := l.RecordJob(context.Background(), j)
	if err != nil {
		tb.Fatalf("RecordJob(%s): %v", j.JobID, err)
	}
	return got
}
