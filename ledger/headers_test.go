package ledger_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ledger"
)

// A scan reads whose server each record follows and the token of its last
// look from headers, and keeps them through every write; a pending record
// names no server.
func TestScan_serverHeaders(t *testing.T) {
	_, l, clk := setup(t)
	ctx := t.Context()
	rec := mustRecordJob(t, l, newJob(1, clk.Now().Add(time.Minute)))
	pend := newJob(2, clk.Now())
	pend.JobID = ""
	if _, err := l.RecordPending(ctx, pend); err != nil {
		t.Fatal(err)
	}

	byID := func() map[string]ledger.JobRef {
		t.Helper()
		s, err := l.ListDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]ledger.JobRef{}
		for _, r := range append(s.Due, s.Later...) {
			m[r.RecordID] = r
		}
		return m
	}
	refs := byID()
	got := refs[rec.RecordID()]
	if got.ServerID != rec.ServerID || got.ProjectID != rec.ProjectID || got.Region != rec.Region || got.Seen != "" {
		t.Fatalf("job ref = %+v, want the server, project and region of %+v and no seen token", got, rec)
	}
	if p := refs[ledger.PendingRecordID(pend.RequestKey)]; p.ServerID != "" || p.ProjectID != "" {
		t.Fatalf("pending ref = %+v, want no server", p)
	}

	clk.Advance(time.Minute)
	j := mustLease(t, l, rec)
	j.Seen = "a1b2c3d4e5f60718"
	if err := l.Reschedule(ctx, j, clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got = byID()[rec.RecordID()]
	if got.Seen != j.Seen || got.ServerID != rec.ServerID || got.Revision != j.Revision {
		t.Fatalf("after reschedule ref = %+v, want seen %q at revision %d", got, j.Seen, j.Revision)
	}
	if g, err := l.GetJob(ctx, rec.RecordID()); err != nil || g.Seen != j.Seen {
		t.Fatalf("GetJob = %+v, %v; want seen %q", g, err, j.Seen)
	}
}

// A seen token a header could not carry is refused before anything is
// written.
func TestReschedule_badSeen(t *testing.T) {
	_, l, clk := setup(t)
	rec := mustRecordJob(t, l, newJob(1, clk.Now()))
	j := mustLease(t, l, rec)
	for _, bad := range []string{"a b", "x\r\nNats-Rollup: all", strings.Repeat("a", ledger.MaxSeen+1), "é"} {
		j.Seen = bad
		if err := l.Reschedule(t.Context(), j, clk.Now()); !errors.Is(err, ledger.ErrInvalidID) {
			t.Errorf("Reschedule with seen %q: %v, want ErrInvalidID", bad, err)
		}
	}
	if g, err := l.GetJob(t.Context(), rec.RecordID()); err != nil || g.Revision != j.Revision {
		t.Fatalf("GetJob = %+v, %v; want the leased record unchanged", g, err)
	}
}

// LeaseEarly takes a job before it is due, but never from a poller that
// holds its lease, and never at a revision it was not listed with.
func TestLeaseEarly(t *testing.T) {
	s, l, clk := setup(t)
	ctx := t.Context()
	rec := mustRecordJob(t, l, newJob(1, clk.Now().Add(time.Hour)))
	ref := ledger.JobRef{RecordID: rec.RecordID(), Revision: rec.Revision}
	if _, err := l.Lease(ctx, ref, time.Minute); !errors.Is(err, ledger.ErrNotDue) {
		t.Fatalf("Lease of a job not due: %v, want ErrNotDue", err)
	}
	j, err := l.LeaseEarly(ctx, ref, time.Minute)
	if err != nil {
		t.Fatalf("LeaseEarly: %v", err)
	}
	other := mustOpen(t, s.JetStream(), "b", clk)
	held := ledger.JobRef{RecordID: j.RecordID(), Revision: j.Revision}
	if _, err := other.LeaseEarly(ctx, held, time.Minute); !errors.Is(err, ledger.ErrNotDue) {
		t.Fatalf("LeaseEarly of a job leased by another poller: %v, want ErrNotDue", err)
	}
	if _, err := other.LeaseEarly(ctx, ref, time.Minute); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Fatalf("LeaseEarly at a stale revision: %v, want ErrLeaseLost", err)
	}
	clk.Advance(2 * time.Minute) // the lease ran out
	if _, err := other.LeaseEarly(ctx, held, time.Minute); err != nil {
		t.Fatalf("LeaseEarly after the lease ran out: %v", err)
	}
}
