package ledger_test

import (
	"testing"
)

func TestSnapshot(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	empty, err := l.Snapshot(ctx)
	if err != nil || len(empty.Claims)+len(empty.Locks)+len(empty.Jobs) != 0 {
		t.Fatalf("Snapshot of an empty ledger = %+v, %v", empty, err)
	}
	r := request(1)
	c := mustClaim(t, l, r).Claim
	if _, err := l.AcquireLock(ctx, c); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, l, request(2))
	j := mustRecordJob(t, l, newJob(1, clk.Now()))

	s, err := l.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Claims) != 2 || len(s.Locks) != 1 || len(s.Jobs) != 1 {
		t.Fatalf("snapshot holds %d claims, %d locks, %d jobs; want 2, 1, 1", len(s.Claims), len(s.Locks), len(s.Jobs))
	}
	if got := s.Claim(r.Source, r.ID); got == nil || got.Revision != c.Revision || got.ServerID != r.ServerID {
		t.Errorf("Claim = %+v, want the stored claim %+v", got, c)
	}
	if got := s.Lock(r.ServerID); got == nil || got.RequestKey != c.RequestKey {
		t.Errorf("Lock = %+v", got)
	}
	if got := s.Job(j.RecordID()); got == nil || got.Revision != j.Revision || got.JobID != j.JobID {
		t.Errorf("Job = %+v, want %+v", got, j)
	}
	if s.Claim("urn:none", "x") != nil || s.Lock(request(3).ServerID) != nil || s.Job("none") != nil {
		t.Error("lookups of absent records found something")
	}
}
