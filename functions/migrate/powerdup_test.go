package main

import (
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// pollSide makes, for a request with power steps, the writes and calls the
// poll function makes, in its order (functions/poll, power.go): migrate's
// tests cannot run poll, which is a program of its own, so this is the
// mirror of poll's submitPowered, which does what migrate does. Each step
// stops where a duplicate of the request may arrive.
type pollSide struct {
	t   *testing.T
	e   *env
	led *ledger.Ledger
	key string
	j   *ledger.Job // the power record, as last leased or written
}

// lease takes the request's power record once it is due (the clock is
// moved on to it), as a tick leases it.
func (p *pollSide) lease() {
	p.t.Helper()
	ctx := p.t.Context()
	id := ledger.PowerRecordID(p.key)
	j, err := p.led.GetJob(ctx, id)
	if err != nil {
		p.t.Fatal(err)
	}
	if j.NextPoll.After(p.e.clock.Now()) {
		p.e.clock.Set(j.NextPoll)
	}
	sched, err := p.led.ListDue(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, ref := range sched.Due {
		if ref.RecordID == id {
			if p.j, err = p.led.Lease(ctx, ref, time.Minute); err != nil {
				p.t.Fatal(err)
			}
			return
		}
	}
	p.t.Fatalf("power record %s not due: %+v", id, sched)
}

// update writes the leased record as changed.
func (p *pollSide) update() {
	p.t.Helper()
	if err := p.led.Update(p.t.Context(), p.j); err != nil {
		p.t.Fatal(err)
	}
}

// reschedule ends the lease, the record due again after d.
func (p *pollSide) reschedule(d time.Duration) {
	p.t.Helper()
	if err := p.led.Reschedule(p.t.Context(), p.j, p.e.clock.Now().Add(d)); err != nil {
		p.t.Fatal(err)
	}
}

// origin is what the request's events copy from its record.
func (p *pollSide) origin() events.Origin {
	j := p.j
	target := j.Target
	return events.Origin{RequestID: j.RequestID, RequestSource: j.RequestSource, ServerID: j.ServerID,
		ProjectID: j.ProjectID, Region: j.Region, Target: &target, TraceParent: j.TraceParent, TraceState: j.TraceState,
		Power: j.Power.Outcome()}
}

// publish publishes an event the record announces.
func (p *pollSide) publish(ev event.Event, err error) {
	p.t.Helper()
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.e.bus.Publish(p.t.Context(), ev); err != nil {
		p.t.Fatal(err)
	}
}

// call makes the next call as poll does: named in the record first, then
// sent, then the record follows its job, then it is announced.
func (p *pollSide) call(c ledger.Call) {
	p.t.Helper()
	ctx, ps := p.t.Context(), p.j.Power
	ps.Next = c
	p.update()
	var jobID string
	var err error
	if c == ledger.CallMigrate {
		jobID, err = p.e.sim.Client().MigrateServer(ctx, p.j.ProjectID, p.j.ServerID, ecsclient.Target{DedicatedHostID: p.j.Target.DedicatedHostID})
	} else {
		jobID, err = p.e.sim.Client().BatchStartServers(ctx, p.j.ProjectID, []string{p.j.ServerID})
	}
	if err != nil {
		p.t.Fatal(err)
	}
	ps.Call, ps.Next, p.j.JobID = c, "", jobID
	if c == ledger.CallMigrate {
		ps.MoveJobID = jobID
	} else {
		ps.StartJobID = jobID
	}
	p.update()
	if c == ledger.CallMigrate {
		p.publish(events.NewAccepted(p.origin(), jobID, p.j.Deadline, p.e.clock.Now()))
	} else {
		p.publish(events.NewProgressed(p.origin(), events.StepStartSubmitted, jobID, p.e.clock.Now()))
	}
}

// A duplicate of a request with power steps, delivered to migrate while
// the request is in any of its phases — stopping, moving, starting,
// finishing and finished, with poll at work on it or not, the claim fresh
// or stale — answers from the claim: it publishes nothing, sends no call,
// and leaves the request's record as it is; the request still ends with
// one terminal event, and each of its steps announced once.
func TestHandle_powerDuplicateInEveryPhase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive})
	req := e.powerRequest(srv, map[string]any{"stop": "soft", "restart": true})
	parsed, err := events.Decode(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	if o := e.h.HandleMessage(ctx, nil, req); o.Status != StatusStopping {
		t.Fatalf("first delivery: %+v", o)
	}
	// The duplicates go to a handler that counts what it publishes: a
	// copy JetStream would drop within its duplicate window still counts,
	// as it would not be dropped after it (guarantee 6).
	pub := &countingPublisher{Publisher: e.bus}
	h := e.handlerWith(pub, nil, nil)
	p := &pollSide{t: t, e: e, led: e.Ledger("poll-side"), key: parsed.Key()}

	// dup delivers the request again and checks that nothing changed but
	// what it may: the claim's owner, after a takeover.
	dup := func(phase string) {
		t.Helper()
		before, calls, published := e.published(t), e.powerCalls(srv), pub.n.Load()
		snap := e.Snapshot()
		rec, claim := snap.Job(ledger.PowerRecordID(p.key)), snap.Claim(parsed.Source, parsed.ID)
		o := h.HandleMessage(ctx, nil, req)
		if o.Status != StatusDuplicate {
			t.Errorf("%s: duplicate answered %+v", phase, o)
		}
		if after := e.published(t); len(after) != len(before) || pub.n.Load() != published {
			t.Errorf("%s: the duplicate published %d events (%d new on the stream)", phase, pub.n.Load()-published, len(after)-len(before))
		}
		if got := e.powerCalls(srv); got != calls {
			t.Errorf("%s: calls (stop, migrate, start) %v, before the duplicate %v", phase, got, calls)
		}
		snap = e.Snapshot()
		if got := snap.Job(ledger.PowerRecordID(p.key)); (got == nil) != (rec == nil) ||
			got != nil && got.Revision != rec.Revision {
			t.Errorf("%s: the duplicate changed the power record: %+v, was %+v", phase, got, rec)
		}
		if got := snap.Claim(parsed.Source, parsed.ID); got.State != claim.State || got.JobID != claim.JobID ||
			got.AcceptedPublished != claim.AcceptedPublished || got.OutcomePublished != claim.OutcomePublished {
			t.Errorf("%s: the duplicate changed the claim: %+v, was %+v", phase, got, claim)
		}
	}

	dup("stopping, the stop running")
	e.sim.Advance(time.Minute) // the stop is done
	p.lease()
	dup("stopping, poll looking")
	ps := p.j.Power
	ps.Stopped, ps.Announce = true, []string{string(events.StepStopped)}
	ps.Next = ledger.CallMigrate
	p.update()
	dup("moving, the move named")
	p.publish(events.NewProgressed(p.origin(), events.StepStopped, ps.StopJobID, e.clock.Now()))
	ps.Announce = nil
	p.call(ledger.CallMigrate)
	dup("moving, the move announced")
	p.reschedule(10 * time.Second)
	dup("moving, the move running")

	e.sim.Advance(2 * time.Minute) // the move is done
	p.lease()
	p.j.Power.Move = &ledger.MoveResult{Type: events.TypeCompleted}
	p.call(ledger.CallStart)
	dup("starting, the start announced")
	p.reschedule(10 * time.Second)
	e.clock.Advance(ledger.DefaultConfig().ClaimStaleAfter) // the claim is stale: the next duplicate takes it over
	dup("starting, the claim stale")
	if c := e.Snapshot().Claim(parsed.Source, parsed.ID); c.Takeovers != 1 {
		t.Errorf("the duplicate of a stale claim did not take it over: %+v", c)
	}

	e.sim.Advance(time.Minute) // the start is done
	p.lease()
	p.j.Power.Restarted = true
	p.publish(events.NewProgressed(p.origin(), events.StepStarted, p.j.Power.StartJobID, e.clock.Now()))
	dup("finishing, started announced")
	done, err := events.NewCompleted(p.origin(), p.j.Power.MoveJobID, false, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := events.Structured(done)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.led.SetOutcome(ctx, p.j, raw); err != nil {
		t.Fatal(err)
	}
	dup("finishing, the outcome recorded")
	p.publish(events.ParseStructured(raw))
	dup("finishing, the outcome published")
	if err := p.led.FinishRequest(ctx, p.key, raw); err != nil {
		t.Fatal(err)
	}
	dup("finished, the record not yet removed")
	if err := p.led.Remove(ctx, p.j); err != nil {
		t.Fatal(err)
	}
	dup("finished")

	var got []string
	for _, ev := range e.published(t) {
		k := ev.Type()
		if ev.Type() == events.TypeProgressed {
			k += "/" + string(mustData[events.Progressed](t, ev).Step)
		}
		got = append(got, k)
	}
	want := []string{events.TypeProgressed + "/stop_submitted", events.TypeProgressed + "/stopped", events.TypeAccepted,
		events.TypeProgressed + "/start_submitted", events.TypeProgressed + "/started", events.TypeCompleted}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if calls := e.powerCalls(srv); calls != [3]int{1, 1, 1} {
		t.Errorf("calls (stop, migrate, start) = %v, want one each", calls)
	}
	snap := e.Snapshot()
	if c := snap.Claim(parsed.Source, parsed.ID); c == nil || c.State != ledger.StateFinished || !c.OutcomePublished {
		t.Errorf("claim %+v", c)
	}
	if len(snap.Jobs) != 0 || snap.Lock(srv) != nil {
		t.Errorf("left: records %v, lock %+v", snap.Jobs, snap.Lock(srv))
	}
}

// powerCalls returns the calls the simulator saw for the server: stops,
// migrations, starts.
func (e *env) powerCalls(srv string) [3]int {
	return [3]int{e.sim.StopCalls(srv), e.sim.MigrateCalls(srv), e.sim.StartCalls(srv)}
}
