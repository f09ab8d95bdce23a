package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ledger"
)

// TestSetOutcome stores a pending outcome under a lease; the poller then
// crashes before publishing is confirmed, and the next poller finds the
// same bytes once the lease expires.
func TestSetOutcome(t *testing.T) {
	t.Parallel()
	s, first, clk := setup(t)
	ctx := t.Context()
	rec := mustRecordJob(t, first, newJob(1, clk.Now()))
	j, err := first.Lease(ctx, ledger.JobRef{RecordID: rec.RecordID(), Revision: rec.Revision}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	leased := *j
	clk.Advance(time.Second)
	outcome := completedJSON(t, 1, j.JobID)
	if err := first.SetOutcome(ctx, j, outcome); err != nil {
		t.Fatalf("SetOutcome: %v", err)
	}
	want := leased
	want.Revision, want.Outcome, want.Updated = j.Revision, outcome, clk.Now()
	if diff := cmp.Diff(&want, j); diff != "" {
		t.Errorf("job after SetOutcome (-want +got):\n%s", diff)
	}
	stored, err := first.GetJob(ctx, j.RecordID())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(j, stored); diff != "" {
		t.Errorf("stored job differs from the caller's (-caller +stored):\n%s", diff)
	}
	// The lease and the due time are kept: nobody else sees it due.
	if sched, err := first.ListDue(ctx); err != nil || len(sched.Due) != 0 {
		t.Errorf("ListDue while leased with an outcome = %+v, %v; want nothing due", sched, err)
	}
	refs, err := first.Scan(ctx)
	if err != nil || len(refs) != 1 || !refs[0].DueAt.Equal(leased.DueAt()) {
		t.Errorf("Scan = %+v, %v; want the job due at the lease's end %s", refs, err, leased.DueAt())
	}
	// The same outcome again is fine; another one is refused.
	if err := first.SetOutcome(ctx, j, outcome); err != nil {
		t.Errorf("SetOutcome again with the same event: %v", err)
	}
	if err := first.SetOutcome(ctx, j, timedOutJSON(t, 1, j.JobID)); !errors.Is(err, ledger.ErrInvalidTransition) {
		t.Errorf("SetOutcome with another event: %v, want ErrInvalidTransition", err)
	}

	// The first poller is gone; after its lease another one takes the job
	// and finds the outcome to re-publish.
	clk.Advance(time.Minute)
	second := mustOpen(t, s.JetStream(), "b", clk)
	sched, err := second.ListDue(ctx)
	if err != nil || len(sched.Due) != 1 {
		t.Fatalf("ListDue after the lease expired = %+v, %v; want the job", sched, err)
	}
	taken, err := second.Lease(ctx, sched.Due[0], time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if string(taken.Outcome) != string(outcome) {
		t.Errorf("taken-over job's Outcome = %s, want the stored bytes %s", taken.Outcome, outcome)
	}
	// Publishing failed (say): rescheduling keeps the outcome.
	if err := second.Reschedule(ctx, taken, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := second.GetJob(ctx, taken.RecordID()); err != nil || string(got.Outcome) != string(outcome) {
		t.Errorf("rescheduled job's Outcome = %s, %v; want %s", got.Outcome, err, outcome)
	}
	// The first poller's copy is stale now.
	if err := first.SetOutcome(ctx, j, outcome); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("SetOutcome by the expired holder: %v, want ErrLeaseLost", err)
	}
}

func TestSetOutcome_refused(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	other := mustOpen(t, s.JetStream(), "b", clk)
	tests := map[string]struct {
		// prepare returns the caller's copy of job record n.
		prepare func(t *testing.T, n int) *ledger.Job
		event   []byte
		want    error
	}{
		"not leased": {
			prepare: func(t *testing.T, n int) *ledger.Job { return mustRecordJob(t, l, newJob(n, clk.Now())) },
			event:   completedJSON(t, 1, "job1"),
			want:    ledger.ErrLeaseLost,
		},
		"leased by another poller": {
			prepare: func(t *testing.T, n int) *ledger.Job {
				rec := mustRecordJob(t, l, newJob(n, clk.Now()))
				j, err := other.Lease(ctx, ledger.JobRef{RecordID: rec.RecordID(), Revision: rec.Revision}, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				return j
			},
			event: completedJSON(t, 1, "job1"),
			want:  ledger.ErrLeaseLost,
		},
		"never read": {
			prepare: func(t *testing.T, n int) *ledger.Job {
				j := newJob(n, clk.Now())
				j.Lease = &ledger.JobLease{Owner: "a", Until: clk.Now().Add(time.Minute)}
				return &j
			},
			event: completedJSON(t, 1, "job1"),
			want:  ledger.ErrLeaseLost,
		},
		"stale revision": {
			prepare: func(t *testing.T, n int) *ledger.Job {
				j := mustLease(t, l, mustRecordJob(t, l, newWatchJob(n, clk.Now())))
				stale := *j
				if err := l.SetOutcome(ctx, j, watchOutcomeJSON(n, "dev.coldmove.placement.completed")); err != nil {
					t.Fatal(err)
				}
				return &stale
			},
			event: watchOutcomeJSON(1, "dev.coldmove.placement.timedout"),
			want:  ledger.ErrLeaseLost,
		},
		"not JSON": {
			prepare: func(t *testing.T, n int) *ledger.Job {
				return mustLease(t, l, mustRecordJob(t, l, newJob(n, clk.Now())))
			},
			event: []byte(`{"id":1,}`),
			want:  ledger.ErrNotJSON,
		},
		"empty": {
			prepare: func(t *testing.T, n int) *ledger.Job {
				return mustLease(t, l, mustRecordJob(t, l, newJob(n, clk.Now())))
			},
			want: ledger.ErrNotJSON,
		},
	}
	n := 0
	for name, tc := range tests {
		n++
		t.Run(name, func(t *testing.T) {
			j := tc.prepare(t, n)
			before := *j
			if err := l.SetOutcome(ctx, j, tc.event); !errors.Is(err, tc.want) {
				t.Fatalf("SetOutcome: %v, want %v", err, tc.want)
			}
			if diff := cmp.Diff(before, *j); diff != "" {
				t.Errorf("caller's job changed by a refused call (-before +after):\n%s", diff)
			}
		})
	}
}
