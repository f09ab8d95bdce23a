package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// migration is how long a simulated migration takes with the default
// job timings (2s queued, 40s migrating, 10s finishing).
const migration = 52 * time.Second

func TestTick_completedToDedicatedHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submit(submission{})
	p, _ := e.poller("poll-1")
	e.sim.Advance(migration)

	got := mustTick(t, t.Context(), p)
	want := Summary{Jobs: 1, Due: 1, Leased: 1, Polled: 1, Completed: 1, ListCalls: 1, Listed: 1}
	if diff := cmp.Diff(want, got, ignoreDuration); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	out := e.only()
	if out.Event.Type() != events.TypeCompleted || out.Subject != "coldmove.placement.completed."+r.ServerID {
		t.Errorf("published %s on %s", out.Event.Type(), out.Subject)
	}
	if out.Event.ID() != events.OutcomeID(events.TypeCompleted, r.JobID, r.Key) {
		t.Errorf("event id %s is not the deterministic outcome id", out.Event.ID())
	}
	c := data[events.Completed](t, out.Event)
	wantData := events.Completed{Correlation: events.Correlation{
		RequestID: r.ID, RequestSource: r.Source, ServerID: r.ServerID, ProjectID: e.sim.ProjectID(),
		Region: testRegion, Target: &r.Target, JobID: r.JobID,
	}}
	if diff := cmp.Diff(wantData, c); diff != "" {
		t.Errorf("completed data (-want +got):\n%s", diff)
	}
	if tp := out.Event.Extensions()["traceparent"]; tp != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("traceparent = %v", tp)
	}
	e.checkFinished(r, out)
	if n := e.sim.Calls(ecstest.OpShowJob); n != 1 {
		t.Errorf("ShowJob calls = %d, want 1", n)
	}
	// The placement is verified on the list answer of the tick.
	if n, l := e.sim.Calls(ecstest.OpShowServer), e.sim.Calls(ecstest.OpListServersDetails); n != 0 || l != 1 {
		t.Errorf("ShowServer calls = %d, list calls %d; want 0 and 1 (the list verifies)", n, l)
	}
}

// ignoreDuration leaves the measured time out of summary comparisons.
var ignoreDuration = cmp.Transformer("noDuration", func(s Summary) Summary { s.DurationMS = 0; return s })

func TestTick_completedToPublicPool(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	from := e.sim.AddDedicatedHost(ecstest.HostSpec{})
	r := e.submit(submission{from: from, target: ledger.Target{PublicPool: true}})
	p, _ := e.poller("poll-1")
	e.sim.Advance(migration)

	if got := mustTick(t, t.Context(), p); got.Completed != 1 {
		t.Fatalf("summary %+v, want one completed", got)
	}
	out := e.only()
	c := data[events.Completed](t, out.Event)
	if !c.Target.PublicPool || c.JobID != r.JobID {
		t.Errorf("completed data = %+v", c)
	}
	e.checkFinished(r, out)
}

func TestTick_runningIsRescheduledOnTheSchedule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: 10 * time.Second, Migrating: time.Hour}))
	r := e.submit(submission{})
	p, _ := e.poller("poll-1", perJob)
	sch := DefaultSchedule()

	for attempt, status := range []string{"INIT", "RUNNING", "RUNNING", "RUNNING"} {
		now := e.clock.Now()
		got := mustTick(t, t.Context(), p)
		if want := (Summary{Jobs: 1, Due: 1, Leased: 1, Polled: 1, Rescheduled: 1}); cmp.Diff(want, got, ignoreDuration) != "" {
			t.Fatalf("poll %d: summary %+v, want %+v", attempt, got, want)
		}
		j := e.job(r)
		d := sch.Poll(attempt)
		if j.LastStatus != status || j.Attempts != attempt+1 || j.Lease != nil {
			t.Errorf("poll %d: job status %q, attempts %d, lease %+v; want %s, %d, none", attempt, j.LastStatus, j.Attempts, j.Lease, status, attempt+1)
		}
		if j.NextPoll.Before(now.Add(d)) || !j.NextPoll.Before(now.Add(d+d/5)) {
			t.Errorf("poll %d: next poll in %s, want %s plus at most a fifth", attempt, j.NextPoll.Sub(now), d)
		}
		if again := mustTick(t, t.Context(), p); again.Due != 0 || again.Leased != 0 {
			t.Errorf("poll %d: job due again at once: %+v", attempt, again)
		}
		e.clock.Set(j.NextPoll)
	}
	if out := e.outcomes(); len(out) != 0 {
		t.Errorf("published %d events for a running job", len(out))
	}
}

func TestTick_jobFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	if err := e.sim.FailMigrations(srv, "Ecs.0319", "no NUMA node can hold the flavor"); err != nil {
		t.Fatal(err)
	}
	r := e.submit(submission{server: srv})
	p, _ := e.poller("poll-1")
	e.sim.Advance(migration)

	if got := mustTick(t, t.Context(), p); got.Failed != 1 || got.Completed != 0 {
		t.Fatalf("summary %+v, want one failed", got)
	}
	out := e.only()
	f := data[events.Failed](t, out.Event)
	want := events.Failure{Reason: events.FailJobFailed, ErrorCode: "Ecs.0319", FailReason: "no NUMA node can hold the flavor",
		Message: "job " + r.JobID + " ended in FAIL: Ecs.0319: no NUMA node can hold the flavor"}
	if diff := cmp.Diff(want, f.Failure); diff != "" {
		t.Errorf("failure (-want +got):\n%s", diff)
	}
	if out.Subject != "coldmove.placement.failed."+r.ServerID || f.JobID != r.JobID {
		t.Errorf("published on %s for job %s", out.Subject, f.JobID)
	}
	e.checkFinished(r, out)
}

func TestTick_placementMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	wanted := ledger.Target{DedicatedHostID: e.sim.AddDedicatedHost(ecstest.HostSpec{})}
	actual := e.sim.AddDedicatedHost(ecstest.HostSpec{})
	// The job moves the server to actual; the record says wanted.
	r := e.submit(submission{target: ledger.Target{DedicatedHostID: actual}, recordTarget: &wanted})
	p, _ := e.poller("poll-1")
	e.sim.Advance(migration)

	if got := mustTick(t, t.Context(), p); got.Failed != 1 {
		t.Fatalf("summary %+v, want one failed", got)
	}
	out := e.only()
	f := data[events.Failed](t, out.Event)
	if f.Reason != events.FailPlacementMismatch || f.ObservedHostID != actual || f.Target.DedicatedHostID != wanted.DedicatedHostID {
		t.Errorf("failure = %+v, target %v", f.Failure, f.Target)
	}
	e.checkFinished(r, out)
}

func TestTick_deadlinePassedIsTimedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Migrating: 3 * time.Hour}))
	r := e.submit(submission{deadline: 10 * time.Minute})
	p, _ := e.poller("poll-1")

	// Polls on the schedule never pass the deadline: the last one falls on it.
	var polls int
	for {
		s := mustTick(t, t.Context(), p)
		if s.TimedOut == 1 {
			break
		}
		if s.Rescheduled != 1 || polls > 20 {
			t.Fatalf("poll %d: %+v", polls, s)
		}
		j := e.job(r)
		if j.NextPoll.After(r.Deadline) {
			t.Fatalf("poll %d: next poll %s is after the deadline %s", polls, j.NextPoll, r.Deadline)
		}
		e.clock.Set(j.NextPoll)
		polls++
	}
	if !e.clock.Now().Equal(r.Deadline) {
		t.Errorf("timed out at %s, deadline %s", e.clock.Now(), r.Deadline)
	}
	out := e.only()
	to := data[events.TimedOut](t, out.Event)
	if to.LastStatus != "RUNNING" || !to.Deadline.Equal(r.Deadline) || to.JobID != r.JobID {
		t.Errorf("timedout data = %+v", to)
	}
	e.checkFinished(r, out)
}
