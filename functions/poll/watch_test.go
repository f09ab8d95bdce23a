package main

import (
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

func TestTick_watchJob(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sub submission
		// advance moves the simulated time before the tick.
		advance    time.Duration
		wantType   string // "" when the job is rescheduled
		wantReason events.FailReason
		wantStatus string // the job's LastStatus or the timedout's last_status
	}{
		"settled on the target": {
			sub: submission{watch: true}, advance: migration,
			wantType: events.TypeCompleted,
		},
		"still moving": {
			sub: submission{watch: true}, advance: 10 * time.Second,
			wantStatus: "server RESIZE (resize_migrating) in the public pool",
		},
		"call never arrived, deadline ahead": {
			sub: submission{watch: true, noCall: true}, advance: time.Minute,
			wantStatus: "server SHUTOFF in the public pool",
		},
		"call never arrived, deadline passed": {
			sub: submission{watch: true, noCall: true, deadline: 30 * time.Minute}, advance: 31 * time.Minute,
			wantType: events.TypeTimedOut, wantStatus: "server SHUTOFF in the public pool",
		},
		"server gone": {
			sub:      submission{watch: true, noCall: true, server: goneServer},
			wantType: events.TypeFailed, wantReason: events.FailServerNotFound,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.submit(tc.sub)
			p, _ := e.poller("poll-1")
			e.sim.Advance(tc.advance)

			got := mustTick(t, t.Context(), p)
			if n := e.sim.Calls(ecstest.OpShowJob); n != 0 {
				t.Errorf("ShowJob calls = %d; a watch job has no job to show", n)
			}
			if tc.wantType == "" {
				if got.Rescheduled != 1 || len(e.outcomes()) != 0 {
					t.Fatalf("summary %+v, want the job rescheduled and nothing published", got)
				}
				if j := e.job(r); j.LastStatus != tc.wantStatus {
					t.Errorf("last status = %q, want %q", j.LastStatus, tc.wantStatus)
				}
				return
			}
			out := e.only()
			if out.Event.Type() != tc.wantType {
				t.Fatalf("published %s, want %s", out.Event.Type(), tc.wantType)
			}
			if want := events.OutcomeID(tc.wantType, "", r.Key); out.Event.ID() != want {
				t.Errorf("event id %s, want %s (from the request key)", out.Event.ID(), want)
			}
			switch tc.wantType {
			case events.TypeCompleted:
				if c := data[events.Completed](t, out.Event); c.JobID != "" || c.AlreadyInPlace || c.Target.DedicatedHostID != r.Target.DedicatedHostID {
					t.Errorf("completed data = %+v", c)
				}
			case events.TypeFailed:
				if f := data[events.Failed](t, out.Event); f.Reason != tc.wantReason || f.JobID != "" {
					t.Errorf("failure = %+v", f)
				}
			case events.TypeTimedOut:
				if to := data[events.TimedOut](t, out.Event); to.LastStatus != tc.wantStatus || to.JobID != "" {
					t.Errorf("timedout data = %+v", to)
				}
			}
			e.checkFinished(r, out)
		})
	}
}

func TestTick_watchJobFollowsTheServerToTheEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	from := e.sim.AddDedicatedHost(ecstest.HostSpec{})
	r := e.submit(submission{watch: true, from: from, target: ledger.Target{PublicPool: true}})
	p, _ := e.poller("poll-1")

	var statuses []string
	for range 10 {
		s := mustTick(t, t.Context(), p)
		if s.Completed == 1 {
			break
		}
		j := e.job(r)
		statuses = append(statuses, j.LastStatus)
		e.clock.Set(j.NextPoll)
	}
	out := e.only()
	if out.Event.Type() != events.TypeCompleted {
		t.Fatalf("published %s after watching %q", out.Event.Type(), statuses)
	}
	if len(statuses) == 0 || statuses[0] != "server RESIZE (resize_prep) on dedicated host "+from {
		t.Errorf("statuses seen = %q", statuses)
	}
	e.checkFinished(r, out)
}
