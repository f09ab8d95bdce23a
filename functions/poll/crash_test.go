package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// crashAfter runs a tick's steps on the one due job by hand and stops
// ("crashes") after the named step: "record" (SetOutcome), "publish"
// (the PubAck) or "finish" (FinishRequest). It returns the decided
// event's id.
func crashAfter(t *testing.T, e *env, step string) string {
	t.Helper()
	ctx := t.Context()
	p, led := e.poller("poll-crashing")
	sched, err := led.ListDue(ctx)
	if err != nil || len(sched.Due) != 1 {
		t.Fatalf("ListDue = %+v, %v", sched, err)
	}
	j, err := led.Lease(ctx, sched.Due[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := p.outcome(j, p.decide(ctx, j, sight{}), e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := led.SetOutcome(ctx, j, mustStructured(t, ev)); err != nil {
		t.Fatal(err)
	}
	if step == "record" {
		return ev.ID()
	}
	recorded, err := events.ParseStructured(j.Outcome)
	if err != nil {
		t.Fatal(err)
	}
	if ack, err := e.bus.Publish(ctx, recorded); err != nil || ack.Duplicate {
		t.Fatalf("Publish = %+v, %v", ack, err)
	}
	if step == "publish" {
		return ev.ID()
	}
	if err := led.FinishRequest(ctx, j.RequestKey, j.Outcome); err != nil {
		t.Fatal(err)
	}
	return ev.ID()
}

func TestTick_crashRecovery(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"after recording the outcome": "record",
		"between publish and delete":  "publish",
		"after finishing the claim":   "finish",
	}
	for name, step := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.submit(submission{})
			e.sim.Advance(migration)
			id := crashAfter(t, e, step)

			// A fresh poller finds the job once the dead one's lease ends.
			p, _ := e.poller("poll-fresh")
			if s := mustTick(t, t.Context(), p); s.Due != 0 {
				t.Fatalf("job due while leased: %+v", s)
			}
			e.clock.Advance(time.Minute)
			got := mustTick(t, t.Context(), p)
			want := Summary{Jobs: 1, Due: 1, Leased: 1, Republished: 1, ListCalls: 1, Listed: 1}
			if diff := cmp.Diff(want, got, ignoreDuration); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			out := e.only() // no duplicate on the stream
			if out.Event.ID() != id || out.Event.Type() != events.TypeCompleted {
				t.Errorf("stream holds %s %s, want completed %s", out.Event.Type(), out.Event.ID(), id)
			}
			e.checkFinished(r, out)
			if s := mustTick(t, t.Context(), p); s.Jobs != 0 {
				t.Errorf("records left: %+v", s)
			}
		})
	}
}

func TestTick_publishFailureKeepsTheRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submit(submission{})
	e.sim.Advance(migration)
	// A bus expecting another stream: JetStream refuses every publish.
	cfg := e.cfg.Bus
	cfg.Stream = "ELSEWHERE"
	broken, err := bus.New(e.nats.Conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.pollerWith("poll-1", broken)
	got := mustTick(t, t.Context(), p)
	if want := (Summary{Jobs: 1, Due: 1, Leased: 1, Polled: 1, Rescheduled: 1, Errors: 1, ListCalls: 1, Listed: 1}); cmp.Diff(want, got, ignoreDuration) != "" {
		t.Fatalf("summary %+v, want %+v", got, want)
	}
	if out := e.outcomes(); len(out) != 0 {
		t.Fatalf("%d events on the stream", len(out))
	}
	j := e.job(r)
	if len(j.Outcome) == 0 {
		t.Fatal("the decided outcome is not kept in the record")
	}
	snap := e.Snapshot()
	if c := snap.Claim(r.Source, r.ID); c == nil || c.State != ledger.StateSubmitted {
		t.Fatalf("claim = %+v; want it still submitted", c)
	}
	if snap.Lock(r.ServerID) == nil {
		t.Fatal("lock released before the outcome was acknowledged")
	}

	// NATS is fine again: the recorded outcome is delivered, unchanged.
	e.clock.Set(j.NextPoll)
	e.sim.Advance(time.Hour) // whatever ECS says now does not matter
	good, _ := e.poller("poll-2")
	if got := mustTick(t, t.Context(), good); got.Republished != 1 || got.Polled != 0 {
		t.Fatalf("summary %+v, want the recorded outcome re-published without polling", got)
	}
	out := e.only()
	rec, _ := events.ParseStructured(j.Outcome)
	if out.Event.ID() != rec.ID() || !out.Event.Time().Equal(rec.Time()) || string(out.Event.Data()) != string(rec.Data()) {
		t.Errorf("published %s at %s, recorded %s at %s", out.Event.ID(), out.Event.Time(), rec.ID(), rec.Time())
	}
	e.checkFinished(r, out)
}

func TestTick_claimFinishedElsewhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submit(submission{})
	e.sim.Advance(migration)
	// Another outcome finished the request first (the first one wins).
	other, err := events.NewTimedOut(events.Origin{RequestID: r.ID, RequestSource: r.Source, ServerID: r.ServerID,
		ProjectID: e.sim.ProjectID(), Target: &r.Target}, r.JobID, r.Deadline, "RUNNING", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.migrate.FinishRequest(t.Context(), r.Key, mustStructured(t, other)); err != nil {
		t.Fatal(err)
	}
	p, _ := e.poller("poll-1")
	got := mustTick(t, t.Context(), p)
	if got.Completed != 1 || got.Errors != 1 {
		t.Errorf("summary %+v, want the outcome published, the refusal counted", got)
	}
	if n := len(e.jobs()); n != 0 {
		t.Errorf("%d records left; an acknowledged outcome of a finished request must not keep its record", n)
	}
}
