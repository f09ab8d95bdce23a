package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/events"
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
	return mustOpenConfig(tb, js, testConfig(), owner, clk)
}

// mustOpenConfig opens a ledger with cfg, the given owner and clock on js.
func mustOpenConfig(tb testing.TB, js jetstream.JetStream, cfg ledger.Config, owner string, clk *clock) *ledger.Ledger {
	tb.Helper()
	l, err := ledger.Open(context.Background(), js, cfg, ledger.WithOwner(owner), ledger.WithClock(clk.Now))
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

// origin returns the origin of request n's outcome events.
func origin(n int) events.Origin {
	r := request(n)
	return events.Origin{RequestID: r.ID, RequestSource: r.Source, ServerID: r.ServerID,
		ProjectID: "0605767d3d80d5762f4fc00c7b8a1234", Region: "cn-north-4",
		Target: events.HostTarget("c0ffee00-1c2d-4e5f-8a9b-0c1d2e3f4a5b")}
}

// mustStructured returns e in structured JSON, as migrate and poll record
// events.
func mustStructured(tb testing.TB, e event.Event, err error) []byte {
	tb.Helper()
	if err != nil {
		tb.Fatalf("build event: %v", err)
	}
	b, err := events.Structured(e)
	if err != nil {
		tb.Fatalf("events.Structured: %v", err)
	}
	return b
}

// acceptedJSON returns request n's accepted event for jobID.
func acceptedJSON(tb testing.TB, n int, jobID string) []byte {
	tb.Helper()
	at := newClock().Now()
	e, err := events.NewAccepted(origin(n), jobID, at.Add(time.Hour), at)
	return mustStructured(tb, e, err)
}

// completedJSON returns request n's completed event for jobID.
func completedJSON(tb testing.TB, n int, jobID string) []byte {
	tb.Helper()
	e, err := events.NewCompleted(origin(n), jobID, false, newClock().Now().Add(10*time.Minute))
	return mustStructured(tb, e, err)
}

// timedOutJSON returns request n's timedout event for jobID.
func timedOutJSON(tb testing.TB, n int, jobID string) []byte {
	tb.Helper()
	at := newClock().Now().Add(time.Hour)
	e, err := events.NewTimedOut(origin(n), jobID, at, "RUNNING", at)
	return mustStructured(tb, e, err)
}

// submit moves claim c from claimed or submitting to submitted with
// jobID and its accepted event.
func submit(tb testing.TB, l *ledger.Ledger, c *ledger.Claim, jobID string) error {
	tb.Helper()
	if c.State == ledger.StateClaimed {
		if err := l.MarkSubmitting(tb.Context(), c); err != nil {
			return err
		}
	}
	return l.MarkSubmitted(tb.Context(), c, jobID, acceptedJSON(tb, 1, jobID))
}

// submitUnknown moves claim c from claimed or submitting to submitted with
// an unknown job.
func submitUnknown(tb testing.TB, l *ledger.Ledger, c *ledger.Claim) error {
	tb.Helper()
	if c.State == ledger.StateClaimed {
		if err := l.MarkSubmitting(tb.Context(), c); err != nil {
			return err
		}
	}
	return l.MarkSubmittedUnknown(tb.Context(), c)
}

// newWatchJob returns request n's watch job (no job id), due at next.
func newWatchJob(n int, next time.Time) ledger.Job {
	j := newJob(n, next)
	j.JobID = ""
	return j
}

// watchOutcomeJSON returns a terminal event for request n's watch job, in
// structured JSON as poll would record it.
func watchOutcomeJSON(n int, eventType string) []byte {
	r := request(n)
	return fmt.Appendf(nil, `{"specversion":"1.0","id":"%s","source":"urn:coldmove:poll","type":"%s",`+
		`"subject":"%s","datacontenttype":"application/json","data":{"request_id":"%s","request_source":"%s","server_id":"%s"}}`,
		events.OutcomeID(eventType, "", ledger.RequestKey(r.Source, r.ID)), eventType, r.ServerID, r.ID, r.Source, r.ServerID)
}

// mustLease leases the job record rec for a minute.
func mustLease(tb testing.TB, l *ledger.Ledger, rec *ledger.Job) *ledger.Job {
	tb.Helper()
	j, err := l.Lease(tb.Context(), ledger.JobRef{RecordID: rec.RecordID(), Revision: rec.Revision}, time.Minute)
	if err != nil {
		tb.Fatalf("Lease(%s): %v", rec.RecordID(), err)
	}
	return j
}
