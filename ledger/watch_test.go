package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
	"github.com/coldmove/coldmove/ledger"
)

// TestWatchJob_lifecycle follows a request whose migrate answer was lost:
// migrate marks the claim submitted with an unknown job and records a
// watch job; poll finds it due, leases it, decides and stores the outcome,
// finishes the request and removes the job with the server lock.
func TestWatchJob_lifecycle(t *testing.T) {
	t.Parallel()
	s, migrate, clk := setup(t)
	ctx := t.Context()
	c := mustClaim(t, migrate, request(1)).Claim
	if _, err := migrate.AcquireLock(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := submitUnknown(t, migrate, c); err != nil {
		t.Fatal(err)
	}
	rec := mustRecordJob(t, migrate, newWatchJob(1, clk.Now()))
	wantID := ledger.WatchRecordID(c.RequestKey)
	if rec.RecordID() != wantID || !rec.Watch() || rec.JobID != "" {
		t.Fatalf("watch job: RecordID %q, Watch %v, JobID %q; want %q, true, empty", rec.RecordID(), rec.Watch(), rec.JobID, wantID)
	}
	if !ids.Job.Valid(wantID) {
		t.Fatalf("WatchRecordID %q is not a valid id", wantID)
	}
	// Recording it again (migrate retrying after a crash) finds it.
	clk.Advance(time.Second)
	if again := mustRecordJob(t, migrate, newWatchJob(1, clk.Now())); again.Revision != rec.Revision {
		t.Errorf("re-recording the watch job gave revision %d, want the stored %d", again.Revision, rec.Revision)
	}
	if _, err := migrate.KeyValue().Get(ctx, "job."+wantID); err != nil {
		t.Errorf("watch job not stored under job.%s: %v", wantID, err)
	}

	// A job with an id runs alongside; both are due.
	other := mustRecordJob(t, migrate, newJob(2, clk.Now().Add(-time.Minute)))
	poll := mustOpen(t, s.JetStream(), "poller", clk)
	sched, err := poll.ListDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Schedule{Jobs: 2, Due: []ledger.JobRef{
		{RecordID: other.JobID, JobID: other.JobID, Revision: other.Revision, DueAt: other.NextPoll,
			ServerID: other.ServerID, ProjectID: other.ProjectID, Region: other.Region},
		{RecordID: wantID, Revision: rec.Revision, DueAt: rec.NextPoll,
			ServerID: rec.ServerID, ProjectID: rec.ProjectID, Region: rec.Region},
	}, Later: []ledger.JobRef{}}
	if diff := cmp.Diff(want, sched, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Fatalf("ListDue (-want +got):\n%s", diff)
	}

	j, err := poll.Lease(ctx, sched.Due[1], time.Minute)
	if err != nil {
		t.Fatalf("Lease of the watch job: %v", err)
	}
	got, err := poll.GetJob(ctx, wantID)
	if err != nil {
		t.Fatalf("GetJob(%s): %v", wantID, err)
	}
	if diff := cmp.Diff(got, j); diff != "" {
		t.Errorf("leased watch job differs from the stored one (-stored +leased):\n%s", diff)
	}

	// Not done yet: the server is still resizing.
	j.LastStatus = "RESIZE"
	clk.Advance(time.Second)
	if err := poll.Reschedule(ctx, j, clk.Now()); err != nil {
		t.Fatalf("Reschedule of the watch job: %v", err)
	}
	sched, err = poll.ListDue(ctx)
	if err != nil || len(sched.Due) != 2 || sched.Due[1].RecordID != wantID || sched.Due[1].Revision != j.Revision {
		t.Fatalf("ListDue after rescheduling = %+v, %v; want the watch job due at revision %d", sched, err, j.Revision)
	}
	if j, err = poll.Lease(ctx, sched.Due[1], time.Minute); err != nil {
		t.Fatal(err)
	}

	// Done: decide the outcome, publish (not part of the ledger), finish
	// the request, remove the job.
	outcome := watchOutcomeJSON(1, events.TypeCompleted)
	if err := poll.SetOutcome(ctx, j, outcome); err != nil {
		t.Fatalf("SetOutcome: %v", err)
	}
	if err := poll.FinishRequest(ctx, j.RequestKey, j.Outcome); err != nil {
		t.Fatalf("FinishRequest: %v", err)
	}
	if err := poll.Remove(ctx, j); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := poll.GetJob(ctx, wantID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetJob after Remove: %v, want ErrNotFound", err)
	}
	if _, err := poll.GetLock(ctx, c.ServerID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetLock after Remove: %v, want ErrNotFound", err)
	}
	if sched, err := poll.ListDue(ctx); err != nil || sched.Jobs != 1 {
		t.Errorf("ListDue after Remove = %+v, %v; want only the other job", sched, err)
	}
	dup := mustClaim(t, migrate, request(1))
	if dup.Status != ledger.ClaimFinished || string(dup.Claim.Outcome) != string(outcome) || !dup.Claim.JobUnknown {
		t.Errorf("duplicate: %v, outcome %s, JobUnknown %v; want finished with %s and JobUnknown", dup.Status, dup.Claim.Outcome, dup.Claim.JobUnknown, outcome)
	}
}

func TestGetJob_invalidRecordID(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	for _, id := range []string{"", "watch-a.b", "job>", "*"} {
		if _, err := l.GetJob(t.Context(), id); !errors.Is(err, ledger.ErrInvalidID) {
			t.Errorf("GetJob(%q): %v, want ErrInvalidID", id, err)
		}
	}
}
