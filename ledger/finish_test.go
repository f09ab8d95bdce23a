package ledger_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ledger"
)

func TestFinishRequest(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		// prepare moves the owner's claim into the state under test.
		prepare func(*testing.T, *ledger.Ledger, *ledger.Claim)
	}{
		"claimed": {prepare: func(*testing.T, *ledger.Ledger, *ledger.Claim) {}},
		"submitting": {prepare: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
			if err := l.MarkSubmitting(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}},
		"submitted": {prepare: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
			if err := submit(t, l, c, "job1"); err != nil {
				t.Fatal(err)
			}
		}},
		"submitted with an unknown job": {prepare: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
			if err := submitUnknown(t, l, c); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, migrate, clk := setup(t)
			ctx := t.Context()
			c := mustClaim(t, migrate, request(1)).Claim
			tc.prepare(t, migrate, c)
			before := *c
			poll := mustOpen(t, s.JetStream(), "poller", clk)
			clk.Advance(time.Minute)
			outcome := completedJSON(t, 1, "job1")
			if err := poll.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
				t.Fatalf("FinishRequest: %v", err)
			}
			got, err := poll.GetClaim(ctx, c.Source, c.RequestID)
			if err != nil {
				t.Fatal(err)
			}
			want := before
			want.Revision, want.State, want.Outcome, want.Updated = got.Revision, ledger.StateFinished, outcome, clk.Now()
			want.OutcomePublished = true // FinishRequest follows JetStream's acknowledgement
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("finished claim (-want +got):\n%s", diff)
			}

			// A poller re-running after a crash finishes it again.
			if err := poll.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
				t.Errorf("FinishRequest again with the same outcome: %v", err)
			}
			// Another outcome cannot replace the first.
			if err := poll.FinishRequest(ctx, c.RequestKey, timedOutJSON(t, 1, "job1")); !errors.Is(err, ledger.ErrInvalidTransition) {
				t.Errorf("FinishRequest with another outcome: %v, want ErrInvalidTransition", err)
			}
			// The owner's copy is stale: its next change fails, and a
			// duplicate delivery finds the outcome.
			if err := migrate.FinishClaim(ctx, c, timedOutJSON(t, 1, "job1")); !errors.Is(err, ledger.ErrConflict) {
				t.Errorf("owner's FinishClaim after FinishRequest: %v, want ErrConflict", err)
			}
			dup := mustClaim(t, migrate, request(1))
			if dup.Status != ledger.ClaimFinished || string(dup.Claim.Outcome) != string(outcome) {
				t.Errorf("duplicate: %v with outcome %s; want finished with %s", dup.Status, dup.Claim.Outcome, outcome)
			}
			if got, _ := poll.GetClaim(ctx, c.Source, c.RequestID); got.Revision != want.Revision {
				t.Errorf("claim rewritten by idempotent or refused calls: revision %d, want %d", got.Revision, want.Revision)
			}
		})
	}
}

// TestFinishRequest_marksOwnersOutcomePublished finishes a request that its
// owner already finished with the same outcome: the poller, which calls
// FinishRequest after the acknowledgement, marks the outcome published,
// once.
func TestFinishRequest_marksOwnersOutcomePublished(t *testing.T) {
	t.Parallel()
	s, migrate, clk := setup(t)
	ctx := t.Context()
	c := mustClaim(t, migrate, request(1)).Claim
	outcome := completedJSON(t, 1, "job1")
	if err := migrate.FinishClaim(ctx, c, outcome); err != nil {
		t.Fatal(err)
	}
	if c.OutcomePublished {
		t.Fatal("FinishClaim marked the outcome published before it was published")
	}
	poll := mustOpen(t, s.JetStream(), "poller", clk)
	clk.Advance(time.Minute)
	if err := poll.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
		t.Fatalf("FinishRequest: %v", err)
	}
	got, err := poll.GetClaim(ctx, c.Source, c.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	want := *c
	want.Revision, want.OutcomePublished = got.Revision, true
	if diff := cmp.Diff(&want, got); diff != "" || got.Revision == c.Revision {
		t.Errorf("claim at revision %d, before %d (-want +got):\n%s", got.Revision, c.Revision, diff)
	}
	if err := poll.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
		t.Fatalf("FinishRequest again: %v", err)
	}
	if again, _ := poll.GetClaim(ctx, c.Source, c.RequestID); again.Revision != got.Revision {
		t.Errorf("FinishRequest of a published outcome rewrote the claim: revision %d, want %d", again.Revision, got.Revision)
	}
}

func TestFinishRequest_errors(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	c := mustClaim(t, l, request(1)).Claim
	tests := map[string]struct {
		key     string
		outcome []byte
		want    error
	}{
		"absent":            {ledger.RequestKey("urn:nope", "x"), completedJSON(t, 1, "job1"), ledger.ErrNotFound},
		"empty key":         {"", completedJSON(t, 1, "job1"), ledger.ErrInvalidID},
		"wildcard key":      {"*", completedJSON(t, 1, "job1"), ledger.ErrInvalidID},
		"key with a dot":    {c.RequestKey + ".x", completedJSON(t, 1, "job1"), ledger.ErrInvalidID},
		"no outcome":        {c.RequestKey, nil, ledger.ErrNotJSON},
		"outcome not JSON":  {c.RequestKey, []byte("{"), ledger.ErrNotJSON},
		"outcome no object": {c.RequestKey, []byte(`"completed"`), ledger.ErrNotJSON},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := l.FinishRequest(t.Context(), tc.key, tc.outcome); !errors.Is(err, tc.want) {
				t.Errorf("FinishRequest: %v, want %v", err, tc.want)
			}
		})
	}
	got, err := l.GetClaim(t.Context(), c.Source, c.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(c, got); diff != "" {
		t.Errorf("claim changed by refused calls (-before +after):\n%s", diff)
	}
}

// TestFinishRequest_concurrentPollers finishes one request from several
// pollers at once while its migrate owner keeps refreshing the claim: with
// the same outcome all succeed; with different outcomes exactly one wins
// and its outcome is the one stored.
func TestFinishRequest_concurrentPollers(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		sameOutcome bool
	}{
		"same outcome":       {sameOutcome: true},
		"different outcomes": {sameOutcome: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, migrate, clk := setup(t)
			ctx := t.Context()
			c := mustClaim(t, migrate, request(1)).Claim
			if err := migrate.MarkSubmitting(ctx, c); err != nil {
				t.Fatal(err)
			}
			const n = 4
			pollers := make([]*ledger.Ledger, n)
			outcomes := make([][]byte, n)
			for i := range n {
				pollers[i] = mustOpen(t, s.JetStream(), fmt.Sprintf("poller-%d", i), clk)
				outcomes[i] = completedJSON(t, 1, "job1")
				if !tc.sameOutcome {
					outcomes[i] = fmt.Appendf(nil, `{"specversion":"1.0","id":"outcome-%d"}`, i)
				}
			}
			errs := make([]error, n)
			key := c.RequestKey // MarkSubmitting below rewrites *c
			var wg sync.WaitGroup
			// The migrate owner refreshes its claim twice meanwhile; once
			// the claim is finished its copy is stale.
			wg.Go(func() {
				for range 2 {
					if err := migrate.MarkSubmitting(ctx, c); err != nil && !errors.Is(err, ledger.ErrConflict) {
						t.Errorf("owner's MarkSubmitting: %v, want nil or ErrConflict", err)
					}
				}
			})
			for i := range n {
				wg.Go(func() { errs[i] = pollers[i].FinishRequest(ctx, key, outcomes[i]) })
			}
			wg.Wait()
			got, err := migrate.GetClaim(ctx, c.Source, c.RequestID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != ledger.StateFinished {
				t.Fatalf("claim state %s, want finished", got.State)
			}
			winners := 0
			for i, err := range errs {
				switch {
				case err == nil:
					winners++
					if string(got.Outcome) != string(outcomes[i]) {
						t.Errorf("poller %d succeeded but the stored outcome is %s, not its %s", i, got.Outcome, outcomes[i])
					}
				case !tc.sameOutcome && errors.Is(err, ledger.ErrInvalidTransition):
				default:
					t.Errorf("poller %d: %v", i, err)
				}
			}
			if want := map[bool]int{true: n, false: 1}[tc.sameOutcome]; winners != want {
				t.Errorf("%d pollers succeeded, want %d", winners, want)
			}
		})
	}
}
