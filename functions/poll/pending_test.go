package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// claimPending does what migrate does before it sends anything: record
// the pending record, due at the deadline, claim the request and lock the
// server. then says how far it got: "unclaimed" (crashed before
// claiming), "released" (trouble, given back), "claimed" (its owner
// crashed), "submitting" (crashed mid-call), "submitted" (the call made, a
// job record of its own).
func (e *env) claimPending(then string) (request, *ledger.Claim) {
	e.t.Helper()
	ctx := context.Background()
	n := e.seq.Add(1)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	host := e.sim.AddDedicatedHost(ecstest.HostSpec{})
	r := request{Source: "urn:coldmove:test", ID: fmt.Sprintf("pend-%d", n), ServerID: srv,
		Target: ledger.Target{DedicatedHostID: host}, Deadline: e.clock.Now().Add(time.Hour)}
	r.Key = events.RequestKey(r.Source, r.ID)
	if _, err := e.migrate.RecordPending(ctx, ledger.Job{RequestID: r.ID, RequestSource: r.Source, ProjectID: e.sim.ProjectID(),
		Region: testRegion, ServerID: srv, Target: r.Target, Deadline: r.Deadline}); err != nil {
		e.t.Fatal(err)
	}
	if then == "unclaimed" {
		return r, nil
	}
	res, err := e.migrate.ClaimRequest(ctx, ledger.RequestRef{Source: r.Source, ID: r.ID, ServerID: srv, Deadline: r.Deadline})
	if err != nil {
		e.t.Fatal(err)
	}
	c := res.Claim
	if _, err := e.migrate.AcquireLock(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	switch then {
	case "released":
		err = e.migrate.ReleaseUnsent(ctx, c, "api_unavailable: ShowServer: 503 Service Unavailable")
	case "submitting":
		err = e.migrate.MarkSubmitting(ctx, c)
	case "submitted":
		if err = e.migrate.MarkSubmitting(ctx, c); err == nil {
			r.JobID = "ff80808288d41e1b018990260955686a"
			err = e.migrate.MarkSubmittedUnknown(ctx, c)
		}
		if err == nil {
			_, err = e.migrate.RecordJob(ctx, ledger.Job{RequestID: r.ID, RequestSource: r.Source, ProjectID: e.sim.ProjectID(),
				Region: testRegion, ServerID: srv, Target: r.Target, Deadline: r.Deadline, NextPoll: r.Deadline.Add(time.Hour)})
			r.JobID = ""
		}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return r, c
}

// A request whose handling never got its call submitted — trouble on every
// delivery, then no delivery again (the queue gave up, the message went to
// a dead-letter queue), or its handler crashed — ends at its deadline:
// rejected deadline_exceeded with its last error when nothing was sent,
// timedout when the call may have been sent. Nothing ends earlier.
func TestTick_pendingRequestsEndAtTheirDeadline(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		then   string
		want   string
		reason events.RejectReason
		says   string
	}{
		"given back after trouble": {then: "released", want: events.TypeRejected, reason: events.RejectDeadlineExceeded, says: "503 Service Unavailable"},
		"owner crashed":            {then: "claimed", want: events.TypeRejected, reason: events.RejectDeadlineExceeded},
		"crashed before claiming":  {then: "unclaimed", want: events.TypeRejected, reason: events.RejectDeadlineExceeded, says: "never claimed"},
		"crashed during the call":  {then: "submitting", want: events.TypeTimedOut},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r, owner := e.claimPending(tc.then)
			p, _ := e.poller("poll-1")
			if got := mustTick(t, t.Context(), p); got.Due != 0 || len(e.outcomes()) != 0 {
				t.Fatalf("before the deadline: %+v", got)
			}
			e.clock.Set(r.Deadline)
			got := mustTick(t, t.Context(), p)
			if got.Leased != 1 || got.Errors != 0 {
				t.Fatalf("at the deadline: %+v", got)
			}
			out := e.only()
			if out.Event.Type() != tc.want {
				t.Fatalf("outcome %s, want %s", out.Event.Type(), tc.want)
			}
			if tc.want == events.TypeRejected {
				rj := data[events.Rejected](t, out.Event)
				if rj.Reason != tc.reason || !strings.Contains(rj.Message, tc.says) || rj.ServerID != r.ServerID {
					t.Errorf("rejected %+v", rj)
				}
			}
			snap := e.Snapshot()
			if c := snap.Claim(r.Source, r.ID); c == nil || c.State != ledger.StateFinished || !c.OutcomePublished {
				t.Errorf("claim %+v, want finished and published", c)
			}
			if len(snap.Jobs) != 0 || snap.Lock(r.ServerID) != nil {
				t.Errorf("left behind: %d records, lock %+v", len(snap.Jobs), snap.Lock(r.ServerID))
			}
			// An owner still at work can submit nothing any more.
			if tc.then == "claimed" {
				if err := e.migrate.MarkSubmitting(t.Context(), owner); !errors.Is(err, ledger.ErrConflict) {
					t.Errorf("the owner's MarkSubmitting after the close: %v", err)
				}
			}
			// A later tick publishes nothing more.
			e.clock.Advance(time.Hour)
			mustTick(t, t.Context(), p)
			if n := len(e.outcomes()); n != 1 {
				t.Errorf("%d outcomes after another tick", n)
			}
		})
	}
}

// The pending record of a request that moved on goes without an outcome:
// a submitted request keeps its own job record and its server lock.
func TestTick_pendingRecordOfASubmittedRequestGoesQuietly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, _ := e.claimPending("submitted")
	p, _ := e.poller("poll-1", perJob) // the request's own record is not due
	e.clock.Set(r.Deadline)
	if got := mustTick(t, t.Context(), p); got.Errors != 0 || got.Leased < 1 {
		t.Fatalf("tick %+v", got)
	}
	if out := e.outcomes(); len(out) != 0 {
		t.Fatalf("published %d events", len(out))
	}
	snap := e.Snapshot()
	if snap.Job(ledger.PendingRecordID(r.Key)) != nil || snap.Job(ledger.WatchRecordID(r.Key)) == nil || snap.Lock(r.ServerID) == nil {
		t.Errorf("records %+v, lock %+v: want the watch job and the lock kept, the pending record gone", snap.Jobs, snap.Lock(r.ServerID))
	}
}

// The pending record of a request without a claim that is older than the
// claims' TTL goes without an outcome: its request may have finished and
// its claim expired since.
func TestTick_stalePendingRecordWithoutAClaimGoesQuietly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r, _ := e.claimPending("unclaimed")
	p, _ := e.poller("poll-1")
	e.clock.Set(r.Deadline.Add(e.cfg.Ledger.ClaimTTL))
	if got := mustTick(t, t.Context(), p); got.Errors != 0 || got.Leased != 1 {
		t.Fatalf("tick %+v", got)
	}
	if out := e.outcomes(); len(out) != 0 {
		t.Fatalf("published %d events", len(out))
	}
	if snap := e.Snapshot(); len(snap.Jobs) != 0 || len(snap.Claims) != 0 {
		t.Errorf("left behind: records %+v, claims %+v", snap.Jobs, snap.Claims)
	}
}
