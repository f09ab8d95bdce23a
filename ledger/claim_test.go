package ledger_test

import (
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

func TestRequestKey(t *testing.T) {
	t.Parallel()
	k := ledger.RequestKey("urn:a", "1")
	if want := events.RequestKey("urn:a", "1"); k != want {
		t.Errorf("RequestKey = %q, want events.RequestKey %q", k, want)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(k) {
		t.Errorf("RequestKey = %q, want 32 hex digits", k)
	}
	if ledger.RequestKey("ab", "c") == ledger.RequestKey("a", "bc") {
		t.Error(`RequestKey("ab","c") == RequestKey("a","bc")`)
	}
	// The claim is stored under req.<key>.
	_, l, _ := setup(t)
	c := mustClaim(t, l, ledger.RequestRef{Source: "urn:a", ID: "1", ServerID: request(1).ServerID}).Claim
	if c.RequestKey != k {
		t.Errorf("Claim.RequestKey = %q, want %q", c.RequestKey, k)
	}
	if _, err := l.KeyValue().Get(t.Context(), "req."+k); err != nil {
		t.Errorf("claim not stored under req.%s: %v", k, err)
	}
}

func TestClaimRequest_invalid(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	tests := map[string]ledger.RequestRef{
		"empty source":   {ID: "1", ServerID: request(1).ServerID},
		"empty id":       {Source: "urn:a", ServerID: request(1).ServerID},
		"bad server id":  {Source: "urn:a", ID: "1", ServerID: "s.1"},
		"not a uuid":     {Source: "urn:a", ID: "1", ServerID: "s1"},
		"empty server":   {Source: "urn:a", ID: "1"},
		"wildcard serve": {Source: "urn:a", ID: "1", ServerID: "*"},
	}
	for name, ref := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := l.ClaimRequest(t.Context(), ref)
			if !errors.Is(err, ledger.ErrInvalidID) {
				t.Errorf("ClaimRequest(%+v) error = %v, want ErrInvalidID", ref, err)
			}
		})
	}
}

func TestClaimRequest_parallelExactlyOneWinner(t *testing.T) {
	t.Parallel()
	s, _, clk := setup(t)
	const n = 20
	ledgers := make([]*ledger.Ledger, n)
	for i := range ledgers {
		ledgers[i] = mustOpen(t, s.JetStream(), fmt.Sprintf("owner-%d", i), clk)
	}
	results := make([]ledger.ClaimResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = ledgers[i].ClaimRequest(t.Context(), request(1))
		})
	}
	wg.Wait()
	counts := map[ledger.ClaimStatus]int{}
	var winner string
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("claimer %d: %v", i, errs[i])
		}
		counts[r.Status]++
		if r.Status == ledger.ClaimAcquired {
			winner = r.Claim.Owner
		}
	}
	if diff := cmp.Diff(map[ledger.ClaimStatus]int{ledger.ClaimAcquired: 1, ledger.ClaimInProgress: n - 1}, counts); diff != "" {
		t.Errorf("claim statuses (-want +got):\n%s", diff)
	}
	for i, r := range results {
		if r.Claim.Owner != winner {
			t.Errorf("claimer %d sees owner %q, want the winner %q", i, r.Claim.Owner, winner)
		}
	}
}

func TestClaim_lifecycleAndDuplicate(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	res := mustClaim(t, l, request(1))
	if res.Status != ledger.ClaimAcquired || res.MayHaveSubmitted() {
		t.Fatalf("first claim: status %v, MayHaveSubmitted %v; want acquired, false", res.Status, res.MayHaveSubmitted())
	}
	c := res.Claim
	clk.Advance(time.Second)
	if err := l.MarkSubmitting(ctx, c); err != nil {
		t.Fatalf("MarkSubmitting: %v", err)
	}
	const jobID = "ff80808288d41e1b018990260955686a"
	accepted := acceptedJSON(t, 1, jobID)
	if err := l.MarkSubmitted(ctx, c, jobID, accepted); err != nil {
		t.Fatalf("MarkSubmitted: %v", err)
	}
	if err := l.MarkSubmitted(ctx, c, jobID, accepted); err != nil {
		t.Fatalf("MarkSubmitted again with the same job and event: %v", err)
	}
	if string(c.Accepted) != string(accepted) {
		t.Errorf("Claim.Accepted = %s, want the accepted event byte for byte: %s", c.Accepted, accepted)
	}
	outcome := completedJSON(t, 1, jobID)
	if err := l.FinishClaim(ctx, c, outcome); err != nil {
		t.Fatalf("FinishClaim: %v", err)
	}

	// A duplicate delivery, seen by another instance.
	other := mustOpen(t, s.JetStream(), "b", clk)
	dup := mustClaim(t, other, request(1))
	if dup.Status != ledger.ClaimFinished {
		t.Fatalf("duplicate claim status = %v, want finished", dup.Status)
	}
	want := &ledger.Claim{
		Revision:   c.Revision,
		RequestKey: ledger.RequestKey(request(1).Source, request(1).ID),
		Source:     request(1).Source,
		RequestID:  request(1).ID,
		ServerID:   request(1).ServerID,
		State:      ledger.StateFinished,
		Owner:      "a",
		Call:       ledger.CallMigrate,
		JobID:      jobID,
		Accepted:   accepted,
		Outcome:    outcome,
		Created:    newClock().Now(),
		Updated:    newClock().Now().Add(time.Second),
	}
	if diff := cmp.Diff(want, dup.Claim); diff != "" {
		t.Errorf("finished claim (-want +got):\n%s", diff)
	}
	got, err := other.GetClaim(ctx, request(1).Source, request(1).ID)
	if err != nil {
		t.Fatalf("GetClaim: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetClaim (-want +got):\n%s", diff)
	}
	if _, err := l.GetClaim(ctx, "urn:nope", "x"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetClaim of an unknown request: %v, want ErrNotFound", err)
	}
}

func TestClaim_invalidTransitions(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	ctx := t.Context()
	tests := map[string]struct {
		prepare func(c *ledger.Claim) error
		act     func(c *ledger.Claim) error
		want    error
	}{
		"submitted from claimed": {
			act:  func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job1", acceptedJSON(t, 1, "job1")) },
			want: ledger.ErrInvalidTransition,
		},
		"submitted with a bad job id": {
			prepare: func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job.1", acceptedJSON(t, 1, "job1")) },
			want:    ledger.ErrInvalidID,
		},
		"submitted with a watch record id": {
			prepare: func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			act: func(c *ledger.Claim) error {
				id := ledger.WatchRecordID(c.RequestKey)
				return l.MarkSubmitted(ctx, c, id, acceptedJSON(t, 1, id))
			},
			want: ledger.ErrInvalidID,
		},
		"submitted without an accepted event": {
			prepare: func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job1", nil) },
			want:    ledger.ErrNotJSON,
		},
		"submitted with an accepted event that is not JSON": {
			prepare: func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job1", []byte(`{"id":`)) },
			want:    ledger.ErrNotJSON,
		},
		"submitted with an accepted event that is no object": {
			prepare: func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job1", []byte(`["x"]`)) },
			want:    ledger.ErrNotJSON,
		},
		"submitted twice with different jobs": {
			prepare: func(c *ledger.Claim) error { return submit(t, l, c, "job1") },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job2", acceptedJSON(t, 1, "job2")) },
			want:    ledger.ErrInvalidTransition,
		},
		"submitted twice with different accepted events": {
			prepare: func(c *ledger.Claim) error { return submit(t, l, c, "job1") },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job1", []byte(`{"id":"other"}`)) },
			want:    ledger.ErrInvalidTransition,
		},
		"submitted with a job after an unknown one": {
			prepare: func(c *ledger.Claim) error { return submitUnknown(t, l, c) },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitted(ctx, c, "job1", acceptedJSON(t, 1, "job1")) },
			want:    ledger.ErrInvalidTransition,
		},
		"unknown from claimed": {
			act:  func(c *ledger.Claim) error { return l.MarkSubmittedUnknown(ctx, c) },
			want: ledger.ErrInvalidTransition,
		},
		"unknown after submitted with a job": {
			prepare: func(c *ledger.Claim) error { return submit(t, l, c, "job1") },
			act:     func(c *ledger.Claim) error { return l.MarkSubmittedUnknown(ctx, c) },
			want:    ledger.ErrInvalidTransition,
		},
		"unknown after finished": {
			prepare: func(c *ledger.Claim) error { return l.FinishClaim(ctx, c, []byte(`{}`)) },
			act:     func(c *ledger.Claim) error { return l.MarkSubmittedUnknown(ctx, c) },
			want:    ledger.ErrInvalidTransition,
		},
		"unknown by someone else": {
			prepare: func(c *ledger.Claim) error {
				if err := l.MarkSubmitting(ctx, c); err != nil {
					return err
				}
				c.Owner = "b"
				return nil
			},
			act:  func(c *ledger.Claim) error { return l.MarkSubmittedUnknown(ctx, c) },
			want: ledger.ErrConflict,
		},
		"submitting after submitted": {
			prepare: func(c *ledger.Claim) error { return submit(t, l, c, "job1") },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			want:    ledger.ErrInvalidTransition,
		},
		"release unsent when submitted": {
			prepare: func(c *ledger.Claim) error { return submit(t, l, c, "job1") },
			act:     func(c *ledger.Claim) error { return l.ReleaseUnsent(ctx, c, "test") },
			want:    ledger.ErrInvalidTransition,
		},
		"release unsent when submitted with an unknown job": {
			prepare: func(c *ledger.Claim) error { return submitUnknown(t, l, c) },
			act:     func(c *ledger.Claim) error { return l.ReleaseUnsent(ctx, c, "test") },
			want:    ledger.ErrInvalidTransition,
		},
		"release unsent when finished": {
			prepare: func(c *ledger.Claim) error { return l.FinishClaim(ctx, c, []byte(`{}`)) },
			act:     func(c *ledger.Claim) error { return l.ReleaseUnsent(ctx, c, "test") },
			want:    ledger.ErrInvalidTransition,
		},
		"release unsent by someone else": {
			prepare: func(c *ledger.Claim) error { c.Owner = "b"; return nil },
			act:     func(c *ledger.Claim) error { return l.ReleaseUnsent(ctx, c, "test") },
			want:    ledger.ErrConflict,
		},
		"release unsent at a stale revision": {
			prepare: func(c *ledger.Claim) error {
				stale := *c
				if err := l.MarkSubmitting(ctx, c); err != nil {
					return err
				}
				*c = stale
				return nil
			},
			act:  func(c *ledger.Claim) error { return l.ReleaseUnsent(ctx, c, "test") },
			want: ledger.ErrConflict,
		},
		"finish twice": {
			prepare: func(c *ledger.Claim) error { return l.FinishClaim(ctx, c, []byte(`{}`)) },
			act:     func(c *ledger.Claim) error { return l.FinishClaim(ctx, c, []byte(`{}`)) },
			want:    ledger.ErrInvalidTransition,
		},
		"finish with an outcome that is not JSON": {
			act:  func(c *ledger.Claim) error { return l.FinishClaim(ctx, c, []byte("not json")) },
			want: ledger.ErrNotJSON,
		},
		"stale revision": {
			prepare: func(c *ledger.Claim) error { c.Revision--; return nil },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			want:    ledger.ErrConflict,
		},
		"someone else's claim": {
			prepare: func(c *ledger.Claim) error { c.Owner = "b"; return nil },
			act:     func(c *ledger.Claim) error { return l.MarkSubmitting(ctx, c) },
			want:    ledger.ErrConflict,
		},
	}
	n := 100
	for name, tc := range tests {
		n++
		c := mustClaim(t, l, request(n)).Claim
		t.Run(name, func(t *testing.T) {
			if tc.prepare != nil {
				if err := tc.prepare(c); err != nil {
					t.Fatalf("prepare: %v", err)
				}
			}
			before := *c
			err := tc.act(c)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %v", err, tc.want)
			}
			if diff := cmp.Diff(before, *c); diff != "" {
				t.Errorf("claim changed by a failed call (-before +after):\n%s", diff)
			}
		})
	}
}

func TestClaimRequest_takeover(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		advance          func(*ledger.Ledger, *ledger.Claim) error
		wantState        ledger.ClaimState
		mayHaveSubmitted bool
	}{
		"claimed: nothing sent": {
			advance:   func(*ledger.Ledger, *ledger.Claim) error { return nil },
			wantState: ledger.StateClaimed,
		},
		"submitting: call may have been sent": {
			advance: func(l *ledger.Ledger, c *ledger.Claim) error {
				return l.MarkSubmitting(t.Context(), c)
			},
			wantState:        ledger.StateSubmitting,
			mayHaveSubmitted: true,
		},
		"submitted: call was sent": {
			advance: func(l *ledger.Ledger, c *ledger.Claim) error {
				if err := l.MarkSubmitting(t.Context(), c); err != nil {
					return err
				}
				return l.MarkSubmitted(t.Context(), c, "job1", acceptedJSON(t, 1, "job1"))
			},
			wantState:        ledger.StateSubmitted,
			mayHaveSubmitted: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, first, clk := setup(t)
			ctx := t.Context()
			c := mustClaim(t, first, request(1)).Claim
			if err := tc.advance(first, c); err != nil {
				t.Fatalf("advance: %v", err)
			}
			second := mustOpen(t, s.JetStream(), "b", clk)

			clk.Advance(5*time.Minute - time.Millisecond)
			if r := mustClaim(t, second, request(1)); r.Status != ledger.ClaimInProgress {
				t.Fatalf("just before the stale time: status %v, want in_progress", r.Status)
			}

			clk.Advance(time.Millisecond)
			r := mustClaim(t, second, request(1))
			if r.Status != ledger.ClaimTakenOver {
				t.Fatalf("at the stale time: status %v, want taken_over", r.Status)
			}
			if r.PreviousOwner != "a" || r.Claim.Owner != "b" || r.Claim.Takeovers != 1 {
				t.Errorf("takeover: previous %q, owner %q, takeovers %d; want a, b, 1", r.PreviousOwner, r.Claim.Owner, r.Claim.Takeovers)
			}
			if r.Claim.State != tc.wantState || r.MayHaveSubmitted() != tc.mayHaveSubmitted {
				t.Errorf("takeover: state %s, MayHaveSubmitted %v; want %s, %v", r.Claim.State, r.MayHaveSubmitted(), tc.wantState, tc.mayHaveSubmitted)
			}
			// The previous owner has lost the claim.
			if err := first.FinishClaim(ctx, c, []byte(`{}`)); !errors.Is(err, ledger.ErrConflict) {
				t.Errorf("previous owner's FinishClaim: %v, want ErrConflict", err)
			}
			// The new owner can finish it.
			if err := second.FinishClaim(ctx, r.Claim, []byte(`{"n":1}`)); err != nil {
				t.Errorf("new owner's FinishClaim: %v", err)
			}
		})
	}
}

func TestClaimRequest_parallelTakeoverOneWinner(t *testing.T) {
	t.Parallel()
	s, first, clk := setup(t)
	c := mustClaim(t, first, request(1)).Claim
	if err := first.MarkSubmitting(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	const n = 10
	results := make([]ledger.ClaimResult, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		l := mustOpen(t, s.JetStream(), fmt.Sprintf("taker-%d", i), clk)
		wg.Go(func() { results[i], errs[i] = l.ClaimRequest(t.Context(), request(1)) })
	}
	wg.Wait()
	counts := map[ledger.ClaimStatus]int{}
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("taker %d: %v", i, errs[i])
		}
		counts[r.Status]++
	}
	if diff := cmp.Diff(map[ledger.ClaimStatus]int{ledger.ClaimTakenOver: 1, ledger.ClaimInProgress: n - 1}, counts); diff != "" {
		t.Errorf("takeover statuses (-want +got):\n%s", diff)
	}
}

func TestClaimStatus_String(t *testing.T) {
	t.Parallel()
	want := map[ledger.ClaimStatus]string{
		ledger.ClaimAcquired: "acquired", ledger.ClaimTakenOver: "taken_over",
		ledger.ClaimInProgress: "in_progress", ledger.ClaimFinished: "finished", 0: "ClaimStatus(0)",
	}
	for s, w := range want {
		if got := s.String(); got != w {
			t.Errorf("%d.String() = %q, want %q", int(s), got, w)
		}
	}
}
