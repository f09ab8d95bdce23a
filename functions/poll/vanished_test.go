package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// unknownJob is a job id the simulator never issued.
const unknownJob = "ff80808288d41e1b018990260955686a"

// goneServer is a server id the simulator does not know.
const goneServer = "0b7f3c2e-5d41-4e8a-9c1f-2a6b8d9e0f13"

func TestTick_jobPurgedByRetention(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithRetention(time.Hour))
	r := e.submit(submission{})
	p, _ := e.poller("poll-1")
	// The poller was away: the job ended and was purged since.
	e.sim.Advance(migration + 2*time.Hour)
	if _, ok := e.sim.Job(r.JobID); ok {
		t.Fatal("the simulator still shows the job")
	}

	if got := mustTick(t, t.Context(), p); got.Completed != 1 {
		t.Fatalf("summary %+v, want one completed", got)
	}
	out := e.only()
	c := data[events.Completed](t, out.Event)
	if c.JobID != r.JobID || c.AlreadyInPlace {
		t.Errorf("completed data = %+v", c)
	}
	e.checkFinished(r, out)
}

func TestTick_jobNotKnown(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sub        func(e *env) submission
		wantType   string
		wantReason events.FailReason
		wantInMsg  string
	}{
		"server idle elsewhere": {
			sub: func(e *env) submission {
				return submission{jobID: unknownJob}
			},
			wantType: events.TypeFailed, wantReason: events.FailJobNotFound,
			wantInMsg: "SHUTOFF, in the public pool, not settled on dedicated host",
		},
		"server still moving": {
			sub: func(e *env) submission {
				// A migration moves the server, but the record names a job
				// id ECS never issued.
				srv := e.sim.AddServer(ecstest.ServerSpec{})
				target := ledger.Target{DedicatedHostID: e.sim.AddDedicatedHost(ecstest.HostSpec{})}
				if _, err := e.sim.Client().MigrateServer(context.Background(), e.sim.ProjectID(), srv, ecsTarget(target)); err != nil {
					e.t.Fatal(err)
				}
				return submission{server: srv, target: target, jobID: unknownJob}
			},
			wantType: events.TypeFailed, wantReason: events.FailJobNotFound,
			wantInMsg: "RESIZE (resize_prep)",
		},
		"server settled on the target": {
			sub: func(e *env) submission {
				h := e.sim.AddDedicatedHost(ecstest.HostSpec{})
				srv := e.sim.AddServer(ecstest.ServerSpec{DedicatedHostID: h})
				return submission{server: srv, target: ledger.Target{DedicatedHostID: h}, jobID: unknownJob}
			},
			wantType: events.TypeCompleted,
		},
		"server gone": {
			sub: func(e *env) submission {
				return submission{server: goneServer, jobID: unknownJob}
			},
			wantType: events.TypeFailed, wantReason: events.FailServerNotFound,
			wantInMsg: "no longer exists",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.submit(tc.sub(e))
			p, _ := e.poller("poll-1", perJob)

			got := mustTick(t, t.Context(), p)
			if got.Completed+got.Failed != 1 {
				t.Fatalf("summary %+v, want one outcome", got)
			}
			out := e.only()
			if out.Event.Type() != tc.wantType {
				t.Fatalf("published %s, want %s", out.Event.Type(), tc.wantType)
			}
			if tc.wantType == events.TypeFailed {
				f := data[events.Failed](t, out.Event)
				if f.Reason != tc.wantReason || !strings.Contains(f.Message, tc.wantInMsg) || f.JobID != unknownJob {
					t.Errorf("failure = %+v, want reason %s and a message with %q", f.Failure, tc.wantReason, tc.wantInMsg)
				}
			}
			e.checkFinished(r, out)
		})
	}
}

func TestTick_serverGoneAfterSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// ShowJob answers SUCCESS, then the server lookup finds nothing: the
	// job is real, the record names a server the project does not have.
	other := e.sim.AddServer(ecstest.ServerSpec{})
	target := ledger.Target{DedicatedHostID: e.sim.AddDedicatedHost(ecstest.HostSpec{})}
	jobID, err := e.sim.Client().MigrateServer(t.Context(), e.sim.ProjectID(), other, ecsTarget(target))
	if err != nil {
		t.Fatal(err)
	}
	r := e.submit(submission{server: goneServer, target: target, jobID: jobID})
	p, _ := e.poller("poll-1")
	e.sim.Advance(migration)

	if got := mustTick(t, t.Context(), p); got.Failed != 1 {
		t.Fatalf("summary %+v, want one failed", got)
	}
	out := e.only()
	if f := data[events.Failed](t, out.Event); f.Reason != events.FailServerNotFound || f.JobID != jobID {
		t.Errorf("failure = %+v", f)
	}
	e.checkFinished(r, out)
}
