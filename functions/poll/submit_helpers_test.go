package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// request is one submitted request and what the test needs to follow it.
type request struct {
	Source, ID string
	ServerID   string
	Target     ledger.Target
	JobID      string // "" for a watch job
	Deadline   time.Time
	Key        string
}

// submission says how to submit a request.
type submission struct {
	// server is the server to move; "" creates a stopped one in the
	// public pool (or on from, when set).
	server string
	from   string
	// target is where to move it; the zero target means a new dedicated
	// host.
	target ledger.Target
	// recordTarget, when set, is the target written into the job record
	// instead of target (to make a placement mismatch).
	recordTarget *ledger.Target
	// jobID, when set, is recorded instead of calling MigrateServer.
	jobID string
	// watch records a watch job: the call was made but its answer lost.
	watch bool
	// noCall skips MigrateServer (with watch: the call never arrived).
	noCall   bool
	deadline time.Duration // from now; default 1h
	// project is the server's project; "" is the simulator's default.
	project string
	// migrating is the new server's migration time (ecstest
	// ServerSpec.Migrating); zero is the simulator's.
	migrating time.Duration
	// firstLook is when the job record is first due, after now, as migrate
	// sets it; zero makes it due at once.
	firstLook time.Duration
}

// submit does what migrate does for a request: claim, lock, mark, call
// MigrateServer (unless told otherwise), mark submitted and record the
// job, due now. The test fails on an error.
func (e *env) submit(s submission) request {
	e.t.Helper()
	r, err := e.trySubmit(s)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// trySubmit is submit returning its error; it is safe to call from any
// goroutine.
func (e *env) trySubmit(s submission) (request, error) {
	ctx := context.Background()
	n := e.seq.Add(1)
	var err error
	if s.project == "" {
		s.project = e.sim.ProjectID()
	}
	if s.target == (ledger.Target{}) {
		h, err := e.sim.CreateDedicatedHost(ecstest.HostSpec{ProjectID: s.project})
		if err != nil {
			return request{}, err
		}
		s.target = ledger.Target{DedicatedHostID: h}
	}
	if s.server == "" {
		s.server, err = e.sim.CreateServer(ecstest.ServerSpec{ProjectID: s.project, DedicatedHostID: s.from, Migrating: s.migrating})
		if err != nil {
			return request{}, err
		}
	}
	if s.deadline == 0 {
		s.deadline = time.Hour
	}
	now := e.clock.Now()
	r := request{Source: "urn:coldmove:test", ID: fmt.Sprintf("req-%d", n), ServerID: s.server,
		Target: s.target, Deadline: now.Add(s.deadline)}
	r.Key = events.RequestKey(r.Source, r.ID)
	res, err := e.migrate.ClaimRequest(ctx, ledger.RequestRef{Source: r.Source, ID: r.ID, ServerID: r.ServerID})
	if err != nil {
		return r, err
	}
	c := res.Claim
	if _, err := e.migrate.AcquireLock(ctx, c); err != nil {
		return r, err
	}
	if err := e.migrate.MarkSubmitting(ctx, c); err != nil {
		return r, err
	}
	r.JobID = s.jobID
	if !s.noCall && s.jobID == "" {
		r.JobID, err = e.sim.Client().MigrateServer(ctx, s.project, s.server, ecsTarget(s.target))
		if err != nil {
			return r, fmt.Errorf("MigrateServer: %w", err)
		}
	}
	origin := events.Origin{RequestID: r.ID, RequestSource: r.Source, ServerID: r.ServerID,
		ProjectID: s.project, Region: testRegion, Target: &r.Target,
		TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", TraceState: "vendor=coldmove"}
	if s.watch {
		r.JobID = ""
		err = e.migrate.MarkSubmittedUnknown(ctx, c)
	} else {
		acc, aerr := events.NewAccepted(origin, r.JobID, r.Deadline, now)
		if aerr != nil {
			return r, aerr
		}
		raw, aerr := events.Structured(acc)
		if aerr != nil {
			return r, aerr
		}
		err = e.migrate.MarkSubmitted(ctx, c, r.JobID, raw)
	}
	if err != nil {
		return r, err
	}
	target := s.target
	if s.recordTarget != nil {
		target = *s.recordTarget
	}
	_, err = e.migrate.RecordJob(ctx, ledger.Job{
		JobID: r.JobID, RequestID: r.ID, RequestSource: r.Source, ProjectID: s.project,
		Region: testRegion, ServerID: r.ServerID, Target: target,
		TraceParent: origin.TraceParent, TraceState: origin.TraceState, Deadline: r.Deadline,
		NextPoll: now.Add(s.firstLook),
	})
	return r, err
}

func mustStructured(tb testing.TB, e event.Event) []byte {
	tb.Helper()
	b, err := events.Structured(e)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ecsTarget converts a ledger target for MigrateServer.
func ecsTarget(t ledger.Target) ecsclient.Target {
	return ecsclient.Target{DedicatedHostID: t.DedicatedHostID}
}
