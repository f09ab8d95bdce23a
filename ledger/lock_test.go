package ledger_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ledger"
)

// sameServer returns request n retargeted at request 1's server.
func sameServer(n int) ledger.RequestRef {
	r := request(n)
	r.ServerID = request(1).ServerID
	return r
}

func TestAcquireLock(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	ctx := t.Context()
	a := mustClaim(t, l, sameServer(1)).Claim
	b := mustClaim(t, l, sameServer(2)).Claim

	lk, err := l.AcquireLock(ctx, a)
	if err != nil {
		t.Fatalf("AcquireLock(a): %v", err)
	}
	want := &ledger.Lock{Revision: lk.Revision, ServerID: a.ServerID, RequestKey: a.RequestKey, RequestID: a.RequestID,
		Source: a.Source, Owner: "a", Acquired: newClock().Now()}
	if diff := cmp.Diff(want, lk); diff != "" {
		t.Errorf("lock (-want +got):\n%s", diff)
	}

	again, err := l.AcquireLock(ctx, a)
	if err != nil {
		t.Fatalf("AcquireLock(a) again: %v", err)
	}
	if diff := cmp.Diff(lk, again); diff != "" {
		t.Errorf("re-acquire by the same request changed the lock (-first +again):\n%s", diff)
	}

	_, err = l.AcquireLock(ctx, b)
	if !errors.Is(err, ledger.ErrLocked) {
		t.Fatalf("AcquireLock(b): %v, want ErrLocked", err)
	}
	var locked *ledger.LockedError
	if !errors.As(err, &locked) {
		t.Fatalf("AcquireLock(b) error %T is not a *LockedError", err)
	}
	if diff := cmp.Diff(*lk, locked.Holder); diff != "" {
		t.Errorf("LockedError.Holder (-want +got):\n%s", diff)
	}
	if locked.HolderState != ledger.StateClaimed {
		t.Errorf("LockedError.HolderState = %q, want claimed", locked.HolderState)
	}
	if !strings.Contains(err.Error(), a.RequestID) {
		t.Errorf("LockedError %q does not name the holding request %s", err, a.RequestID)
	}

	if err := l.ReleaseLock(ctx, lk); err != nil {
		t.Fatalf("ReleaseLock: %v", err)
	}
	if err := l.ReleaseLock(ctx, lk); err != nil {
		t.Errorf("ReleaseLock of a released lock: %v, want nil", err)
	}
	if _, err := l.GetLock(ctx, a.ServerID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetLock after release: %v, want ErrNotFound", err)
	}
	lb, err := l.AcquireLock(ctx, b)
	if err != nil {
		t.Fatalf("AcquireLock(b) after release: %v", err)
	}
	// a's old lock value must not release b's lock.
	if err := l.ReleaseLock(ctx, lk); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("ReleaseLock with a stale revision: %v, want ErrConflict", err)
	}
	if got, err := l.GetLock(ctx, b.ServerID); err != nil || got.RequestKey != b.RequestKey || got.Revision != lb.Revision {
		t.Errorf("b's lock after a stale release: %+v, %v; want b's lock intact", got, err)
	}
	if _, err := l.GetLock(ctx, "bad id"); !errors.Is(err, ledger.ErrInvalidID) {
		t.Errorf("GetLock(bad id): %v, want ErrInvalidID", err)
	}
}

func TestAcquireLock_parallelOneWinner(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	const n = 10
	claims := make([]*ledger.Claim, n)
	for i := range claims {
		claims[i] = mustClaim(t, l, sameServer(i+1)).Claim
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = l.AcquireLock(t.Context(), claims[i]) })
	}
	wg.Wait()
	won, locked := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ledger.ErrLocked):
			locked++
		default:
			t.Errorf("AcquireLock %d: %v", i, err)
		}
	}
	if won != 1 || locked != n-1 {
		t.Errorf("won %d, locked %d; want 1, %d", won, locked, n-1)
	}
}

func TestAcquireLock_recoversOrphans(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// holder moves the holding claim (which already holds the lock)
		// into the state under test.
		holder       func(t *testing.T, l *ledger.Ledger, c *ledger.Claim)
		wantTakeover bool
		// wantState is LockedError.HolderState when there is no takeover.
		wantState ledger.ClaimState
	}{
		"holder in progress": {
			holder:       func(*testing.T, *ledger.Ledger, *ledger.Claim) {},
			wantTakeover: false,
			wantState:    ledger.StateClaimed,
		},
		"holder submitting": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := l.MarkSubmitting(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			},
			wantTakeover: false,
			wantState:    ledger.StateSubmitting,
		},
		"holder submitted": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := submit(t, l, c, "job1"); err != nil {
					t.Fatal(err)
				}
			},
			wantTakeover: false,
			wantState:    ledger.StateSubmitted,
		},
		"holder submitted with an unknown job": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := submitUnknown(t, l, c); err != nil {
					t.Fatal(err)
				}
			},
			wantTakeover: false,
			wantState:    ledger.StateSubmitted,
		},
		"holder finished without a job (rejected)": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := l.FinishClaim(t.Context(), c, []byte(`{}`)); err != nil {
					t.Fatal(err)
				}
			},
			wantTakeover: true,
		},
		"holder finished with its job still tracked": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				submitAndFinish(t, l, c, true)
			},
			wantTakeover: false,
			wantState:    ledger.StateFinished,
		},
		"holder finished and its job removed": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				submitAndFinish(t, l, c, false)
			},
			wantTakeover: true,
		},
		"holder finished with its watch job still tracked": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				watchAndFinish(t, l, c, true, true)
			},
			wantTakeover: false,
			wantState:    ledger.StateFinished,
		},
		"holder finished and its watch job removed": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				watchAndFinish(t, l, c, true, false)
			},
			wantTakeover: true,
		},
		"holder finished from submitting, its watch job still tracked": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				watchAndFinish(t, l, c, false, true)
			},
			wantTakeover: false,
			wantState:    ledger.StateFinished,
		},
		"holder gave its claim back": {
			holder: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := l.ReleaseUnsent(t.Context(), c, "throttled"); err != nil {
					t.Fatal(err)
				}
			},
			wantTakeover: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, l, _ := setup(t)
			a := mustClaim(t, l, sameServer(1)).Claim
			if _, err := l.AcquireLock(t.Context(), a); err != nil {
				t.Fatalf("AcquireLock(a): %v", err)
			}
			tc.holder(t, l, a)
			b := mustClaim(t, l, sameServer(2)).Claim
			lk, err := l.AcquireLock(t.Context(), b)
			if tc.wantTakeover {
				if err != nil {
					t.Fatalf("AcquireLock(b): %v, want a takeover", err)
				}
				if lk.RequestKey != b.RequestKey {
					t.Errorf("lock holder %s, want b's request", lk.RequestID)
				}
				return
			}
			locked, ok := errors.AsType[*ledger.LockedError](err)
			if !ok {
				t.Fatalf("AcquireLock(b): %v, want a *LockedError", err)
			}
			if locked.HolderState != tc.wantState {
				t.Errorf("HolderState = %q, want %q", locked.HolderState, tc.wantState)
			}
			if !strings.Contains(err.Error(), "("+string(tc.wantState)+")") {
				t.Errorf("error %q does not say the holder's state %s", err, tc.wantState)
			}
		})
	}
}

// submitAndFinish takes claim c through submission with a job record and
// finishes it; unless keepJob, it then removes the job but puts the lock
// back, as a crash between the two steps of Remove would leave it.
func submitAndFinish(t *testing.T, l *ledger.Ledger, c *ledger.Claim, keepJob bool) {
	t.Helper()
	ctx := t.Context()
	j := newJob(1, newClock().Now())
	j.RequestID, j.RequestKey, j.ServerID = c.RequestID, c.RequestKey, c.ServerID
	if err := l.MarkSubmitting(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkSubmitted(ctx, c, j.JobID, acceptedJSON(t, 1, j.JobID)); err != nil {
		t.Fatal(err)
	}
	rec := mustRecordJob(t, l, j)
	if err := l.FinishClaim(ctx, c, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if keepJob {
		return
	}
	leased, err := l.Lease(ctx, ledger.JobRef{JobID: rec.JobID, Revision: rec.Revision}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, leased); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcquireLock(ctx, c); err != nil { // the lock "left behind"
		t.Fatal(err)
	}
}

// watchAndFinish records a watch job for claim c (marked submitted with an
// unknown job first if marked) and finishes the request as poll does;
// unless keepJob, it then removes the job but puts the lock back, as a
// crash between the two steps of Remove would leave it.
func watchAndFinish(t *testing.T, l *ledger.Ledger, c *ledger.Claim, marked, keepJob bool) {
	t.Helper()
	ctx := t.Context()
	if err := l.MarkSubmitting(ctx, c); err != nil {
		t.Fatal(err)
	}
	if marked {
		if err := l.MarkSubmittedUnknown(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	j := newWatchJob(1, newClock().Now())
	j.RequestID, j.RequestKey, j.ServerID = c.RequestID, c.RequestKey, c.ServerID
	rec := mustRecordJob(t, l, j)
	if err := l.FinishRequest(ctx, c.RequestKey, watchOutcomeJSON(1, "dev.coldmove.placement.completed")); err != nil {
		t.Fatal(err)
	}
	if keepJob {
		return
	}
	leased, err := l.Lease(ctx, ledger.JobRef{RecordID: rec.RecordID(), Revision: rec.Revision}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, leased); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AcquireLock(ctx, c); err != nil { // the lock "left behind"
		t.Fatal(err)
	}
}

func TestAcquireLock_invalidServer(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	c := &ledger.Claim{RequestKey: "x", ServerID: "a>b"}
	if _, err := l.AcquireLock(t.Context(), c); !errors.Is(err, ledger.ErrInvalidID) {
		t.Errorf("AcquireLock with server %q: %v, want ErrInvalidID", c.ServerID, err)
	}
	if err := l.ReleaseLock(t.Context(), &ledger.Lock{ServerID: "*"}); !errors.Is(err, ledger.ErrInvalidID) {
		t.Errorf("ReleaseLock with server *: %v, want ErrInvalidID", err)
	}
}

// A server id in upper case names the same server as in lower case: the two
// spellings share one lock.
func TestAcquireLock_caseOfServerID(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	lower := request(1)
	upper := request(2)
	upper.ServerID = strings.ToUpper(lower.ServerID)
	if _, err := l.AcquireLock(t.Context(), mustClaim(t, l, lower).Claim); err != nil {
		t.Fatal(err)
	}
	_, err := l.AcquireLock(t.Context(), mustClaim(t, l, upper).Claim)
	if !errors.Is(err, ledger.ErrLocked) {
		t.Fatalf("AcquireLock(%s) = %v, want ErrLocked: both spellings name one server", upper.ServerID, err)
	}
}

// ReleaseLeftLock frees the lock a finished request left behind, and only
// that: not while the request is at work or still has its job record, not
// another request's lock.
func TestReleaseLeftLock(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	ctx := t.Context()
	lockOf := func(c *ledger.Claim) *ledger.Lock {
		t.Helper()
		snap, err := l.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return snap.Lock(c.ServerID)
	}

	a := mustClaim(t, l, sameServer(1)).Claim
	if _, err := l.AcquireLock(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := l.ReleaseLeftLock(ctx, a); err != nil || lockOf(a) == nil {
		t.Fatalf("request at work: ReleaseLeftLock = %v, lock %+v; want it kept", err, lockOf(a))
	}
	submitAndFinish(t, l, a, true)
	if err := l.ReleaseLeftLock(ctx, a); err != nil || lockOf(a) == nil {
		t.Fatalf("finished with its job record left: ReleaseLeftLock = %v, lock %+v; want it kept", err, lockOf(a))
	}

	b := mustClaim(t, l, request(2)).Claim
	if _, err := l.AcquireLock(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := l.FinishClaim(ctx, b, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	other := mustClaim(t, l, ledger.RequestRef{Source: "urn:coldmove:test", ID: "req-other", ServerID: b.ServerID}).Claim
	if err := l.ReleaseLeftLock(ctx, other); err != nil || lockOf(b) == nil {
		t.Fatalf("another request's lock: ReleaseLeftLock = %v, lock %+v; want it kept", err, lockOf(b))
	}
	if err := l.ReleaseLeftLock(ctx, b); err != nil || lockOf(b) != nil {
		t.Fatalf("finished, nothing left: ReleaseLeftLock = %v, lock %+v; want it released", err, lockOf(b))
	}
	if err := l.ReleaseLeftLock(ctx, b); err != nil {
		t.Errorf("no lock: ReleaseLeftLock = %v", err)
	}
}
