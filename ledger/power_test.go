package ledger_test

import (
	"errors"
	"testing"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// A request with power steps has one record for all its calls, moved from
// call to call under the lease with Update.
func TestPowerRecord(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	j := newJob(1, clk.Now())
	j.JobID = "0stopjob0000000000000000000000001"
	j.Power = &ledger.PowerState{Stop: events.StopSoft, Restart: true, Call: ledger.CallStop, StopJobID: j.JobID}
	rec := mustRecordJob(t, l, j)
	if rec.RecordID() != ledger.PowerRecordID(rec.RequestKey) || rec.Watch() {
		t.Fatalf("record id %s, watch %v", rec.RecordID(), rec.Watch())
	}
	due, err := l.ListDue(ctx)
	if err != nil || len(due.Due) != 1 || due.Due[0].JobID != "" || due.Due[0].RecordID != rec.RecordID() {
		t.Fatalf("ListDue = %+v, %v", due, err)
	}
	leased := mustLease(t, l, rec)
	// The next call is recorded before it is sent…
	leased.Power.Next = ledger.CallMigrate
	if err := l.Update(ctx, leased); err != nil {
		t.Fatal(err)
	}
	// …then its job.
	leased.Power.Stopped, leased.Power.Call, leased.Power.Next = true, ledger.CallMigrate, ""
	leased.JobID, leased.Power.MoveJobID = "0movejob0000000000000000000000002", "0movejob0000000000000000000000002"
	if err := l.Update(ctx, leased); err != nil {
		t.Fatal(err)
	}
	got, err := l.GetJob(ctx, rec.RecordID())
	if err != nil || got.JobID != leased.JobID || got.Power.Call != ledger.CallMigrate || !got.Power.Stopped || got.Lease == nil {
		t.Fatalf("stored %+v (%+v), %v", got, got.Power, err)
	}
	// A stale copy cannot update.
	stale := *rec
	stale.Lease = leased.Lease
	if err := l.Update(ctx, &stale); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("stale Update: %v", err)
	}
	// A power job id cannot pose as one of the ledger's own records.
	leased.JobID = ledger.PowerRecordID(rec.RequestKey)
	if err := l.Update(ctx, leased); !errors.Is(err, ledger.ErrInvalidID) {
		t.Errorf("Update with a power record id as job id: %v", err)
	}
}
