package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ledger"
)

// pendingJob returns the pending record of request n, due at deadline.
func pendingJob(n int, deadline time.Time) ledger.Job {
	j := newJob(n, deadline)
	j.JobID, j.Deadline = "", deadline
	return j
}

func TestPending_recordDueAtTheDeadlineAndDrop(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	c := mustClaim(t, l, request(1)).Claim
	deadline := clk.Now().Add(time.Hour)
	rec, err := l.RecordPending(ctx, pendingJob(1, deadline))
	if err != nil {
		t.Fatal(err)
	}
	if rec.RecordID() != ledger.PendingRecordID(c.RequestKey) || !rec.Pending || rec.Watch() || !rec.DueAt().Equal(deadline) {
		t.Fatalf("pending record %+v (id %s)", rec, rec.RecordID())
	}
	// Recording it again (a redelivery) finds it.
	if again, err := l.RecordPending(ctx, pendingJob(1, deadline.Add(time.Hour))); err != nil || again.Revision != rec.Revision {
		t.Errorf("RecordPending again: %+v, %v", again, err)
	}
	due, err := l.ListDue(ctx)
	if err != nil || due.Jobs != 1 || len(due.Due) != 0 {
		t.Fatalf("before the deadline: %+v, %v", due, err)
	}
	clk.Advance(time.Hour)
	if due, _ := l.ListDue(ctx); len(due.Due) != 1 || due.Due[0].JobID != "" || due.Due[0].RecordID != rec.RecordID() {
		t.Fatalf("at the deadline: %+v", due)
	}
	// A poller holds it: dropping leaves it to the poller.
	leased := mustLease(t, l, rec)
	if err := l.DropPending(ctx, c.RequestKey); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetJob(ctx, rec.RecordID()); err != nil {
		t.Fatalf("a leased pending record was dropped: %v", err)
	}
	if err := l.Reschedule(ctx, leased, clk.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := l.DropPending(ctx, c.RequestKey); err != nil {
		t.Fatal(err)
	}
	if _, err := l.GetJob(ctx, rec.RecordID()); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("pending record after DropPending: %v", err)
	}
	if err := l.DropPending(ctx, c.RequestKey); err != nil {
		t.Errorf("dropping again: %v", err)
	}
}

func TestCloseRequest(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	ctx := t.Context()
	claimed := mustClaim(t, l, request(1)).Claim
	submitting := mustClaim(t, l, request(2)).Claim
	if err := l.MarkSubmitting(ctx, submitting); err != nil {
		t.Fatal(err)
	}
	outcome := completedJSON(t, 1, "")
	// The wrong expected state says which state the claim is in.
	err := l.CloseRequest(ctx, claimed.RequestKey, ledger.StateSubmitting, outcome)
	se, ok := errors.AsType[*ledger.StateError](err)
	if !ok || se.State != ledger.StateClaimed || !errors.Is(err, ledger.ErrInvalidTransition) {
		t.Fatalf("CloseRequest from the wrong state: %v", err)
	}
	if err := l.CloseRequest(ctx, claimed.RequestKey, ledger.StateClaimed, outcome); err != nil {
		t.Fatal(err)
	}
	got, err := l.Claim(ctx, claimed.RequestKey)
	if err != nil || got.State != ledger.StateFinished || got.OutcomePublished || string(got.Outcome) != string(outcome) {
		t.Fatalf("closed claim %+v, %v", got, err)
	}
	// Its owner, still at work, cannot submit any more.
	if err := l.MarkSubmitting(ctx, claimed); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("the owner's MarkSubmitting after the close: %v, want ErrConflict", err)
	}
	if err := l.CloseRequest(ctx, submitting.RequestKey, ledger.StateSubmitting, completedJSON(t, 2, "")); err != nil {
		t.Errorf("close a submitting claim: %v", err)
	}
	if err := l.CloseRequest(ctx, request(9).Source+"x", ledger.StateClaimed, outcome); !errors.Is(err, ledger.ErrInvalidID) {
		t.Errorf("close with a bad key: %v", err)
	}
}

// A pending record without a claim (its handler stopped before claiming
// the request) is closed by creating the claim, finished; not when a claim
// appeared meanwhile, nor when the record is so old that its request's
// claim may have expired.
func TestCloseUnclaimed(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	deadline := clk.Now().Add(time.Hour)
	rec, err := l.RecordPending(ctx, pendingJob(1, deadline))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	outcome := timedOutJSON(t, 1, "")
	if err := l.CloseUnclaimed(ctx, rec, outcome); err != nil {
		t.Fatalf("CloseUnclaimed: %v", err)
	}
	c, err := l.Claim(ctx, rec.RequestKey)
	if err != nil || c.State != ledger.StateFinished || c.Owner != "" || c.OutcomePublished || string(c.Outcome) != string(outcome) ||
		c.ServerID != rec.ServerID || !c.Deadline.Equal(deadline) {
		t.Fatalf("claim %+v, %v", c, err)
	}
	// A delivery coming now finds the request finished.
	if res := mustClaim(t, l, request(1)); res.Status != ledger.ClaimFinished {
		t.Errorf("ClaimRequest after the close: %s", res.Status)
	}
	if err := l.CloseUnclaimed(ctx, rec, outcome); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("closing a claimed request: %v, want ErrConflict", err)
	}

	old, err := l.RecordPending(ctx, pendingJob(2, clk.Now().Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(testConfig().ClaimTTL)
	if err := l.CloseUnclaimed(ctx, old, timedOutJSON(t, 2, "")); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a record older than the claim TTL: %v, want ErrNotFound", err)
	}
	if _, err := l.Claim(ctx, old.RequestKey); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("claim of the stale record: %v, want none", err)
	}
	if err := l.CloseUnclaimed(ctx, &ledger.Job{RequestKey: rec.RequestKey}, outcome); err == nil {
		t.Error("CloseUnclaimed of a record that is not pending succeeded")
	}
}
