package ledger_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ledger"
)

// indented returns event JSON laid out differently: the same event.
func indented(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestMarkPublished marks, from another process than the claim's owner,
// that an event of the claim was acknowledged, in every state of the
// claim.
func TestMarkPublished(t *testing.T) {
	t.Parallel()
	markOutcome := func(event func(testing.TB, int, string) []byte, layout func(*testing.T, []byte) []byte) markFunc {
		return func(t *testing.T, l *ledger.Ledger, key string) error {
			return l.MarkOutcomePublished(t.Context(), key, layout(t, event(t, 1, "job1")))
		}
	}
	markAccepted := func(jobID string) markFunc {
		return func(t *testing.T, l *ledger.Ledger, key string) error {
			return l.MarkAcceptedPublished(t.Context(), key, jobID)
		}
	}
	outcomeFlag := func(c *ledger.Claim) *bool { return &c.OutcomePublished }
	acceptedFlag := func(c *ledger.Claim) *bool { return &c.AcceptedPublished }
	asIs := func(_ *testing.T, b []byte) []byte { return b }
	submitted := func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
		if err := submit(t, l, c, "job1"); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		// prepare moves the owner's claim into the state under test.
		prepare func(*testing.T, *ledger.Ledger, *ledger.Claim)
		mark    markFunc
		// flag is the field the mark sets.
		flag func(*ledger.Claim) *bool
		want error
	}{
		"outcome, finished": {
			prepare: finishWith(completedJSON), mark: markOutcome(completedJSON, asIs), flag: outcomeFlag,
		},
		"outcome, finished, the outcome laid out differently": {
			prepare: finishWith(completedJSON), mark: markOutcome(completedJSON, indented), flag: outcomeFlag,
		},
		"outcome, finished with another outcome": {
			prepare: finishWith(completedJSON), mark: markOutcome(timedOutJSON, asIs), flag: outcomeFlag,
			want: ledger.ErrInvalidTransition,
		},
		"outcome, claimed": {
			prepare: func(*testing.T, *ledger.Ledger, *ledger.Claim) {}, mark: markOutcome(completedJSON, asIs), flag: outcomeFlag,
			want: ledger.ErrInvalidTransition,
		},
		"outcome, submitted": {
			prepare: submitted, mark: markOutcome(completedJSON, asIs), flag: outcomeFlag,
			want: ledger.ErrInvalidTransition,
		},
		"accepted, submitted": {
			prepare: submitted, mark: markAccepted("job1"), flag: acceptedFlag,
		},
		"accepted, finished after submission": {
			prepare: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				submitted(t, l, c)
				finishWith(completedJSON)(t, l, c)
			},
			mark: markAccepted("job1"), flag: acceptedFlag,
		},
		"accepted, submitted, another job": {
			prepare: submitted, mark: markAccepted("job2"), flag: acceptedFlag,
			want: ledger.ErrInvalidTransition,
		},
		"accepted, submitted with an unknown job": {
			prepare: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := submitUnknown(t, l, c); err != nil {
					t.Fatal(err)
				}
			},
			mark: markAccepted("job1"), flag: acceptedFlag,
			want: ledger.ErrInvalidTransition,
		},
		"accepted, claimed": {
			prepare: func(*testing.T, *ledger.Ledger, *ledger.Claim) {}, mark: markAccepted("job1"), flag: acceptedFlag,
			want: ledger.ErrInvalidTransition,
		},
		"accepted, submitting": {
			prepare: func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
				if err := l.MarkSubmitting(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			},
			mark: markAccepted("job1"), flag: acceptedFlag,
			want: ledger.ErrInvalidTransition,
		},
		"accepted, finished without submission (rejected)": {
			prepare: finishWith(completedJSON), mark: markAccepted("job1"), flag: acceptedFlag,
			want: ledger.ErrInvalidTransition,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, migrate, clk := setup(t)
			ctx := t.Context()
			c := mustClaim(t, migrate, request(1)).Claim
			tc.prepare(t, migrate, c)
			// Another process marks it: the owner may have died.
			other := mustOpen(t, s.JetStream(), "other", clk)
			clk.Advance(time.Minute)
			err := tc.mark(t, other, c.RequestKey)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("mark: %v, want %v", err, tc.want)
			}
			got, gerr := other.GetClaim(ctx, c.Source, c.RequestID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			// Nothing but the mark changes: not the state, not the update
			// time that staleness is measured from.
			want := *c
			if err == nil {
				want.Revision, *tc.flag(&want) = got.Revision, true
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("claim (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if got.Revision == c.Revision {
				t.Error("claim not rewritten")
			}
			// Marking again changes nothing, and a duplicate delivery finds
			// the event published.
			if err := tc.mark(t, migrate, c.RequestKey); err != nil {
				t.Errorf("mark again: %v", err)
			}
			if again, _ := other.GetClaim(ctx, c.Source, c.RequestID); again.Revision != got.Revision {
				t.Errorf("marking again rewrote the claim: revision %d, want %d", again.Revision, got.Revision)
			}
			if dup := mustClaim(t, migrate, request(1)); !*tc.flag(dup.Claim) {
				t.Errorf("duplicate (%v) finds the event unpublished", dup.Status)
			}
			// The mark moved the revision: the owner's copy is stale.
			if c.State == ledger.StateSubmitted {
				if err := migrate.FinishClaim(ctx, c, timedOutJSON(t, 1, "job1")); !errors.Is(err, ledger.ErrConflict) {
					t.Errorf("owner's FinishClaim with its copy from before the mark: %v, want ErrConflict", err)
				}
			}
		})
	}
}

// markFunc marks an event of the claim of the request with this key
// published, through l.
type markFunc func(t *testing.T, l *ledger.Ledger, key string) error

// finishWith returns a prepare function that finishes the owner's claim
// with the event outcome builds.
func finishWith(outcome func(testing.TB, int, string) []byte) func(*testing.T, *ledger.Ledger, *ledger.Claim) {
	return func(t *testing.T, l *ledger.Ledger, c *ledger.Claim) {
		if err := l.FinishClaim(t.Context(), c, outcome(t, 1, "job1")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMarkPublished_errors(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	c := mustClaim(t, l, request(1)).Claim
	absent := ledger.RequestKey("urn:nope", "x")
	done := completedJSON(t, 1, "job1")
	outcome := func(key string, event []byte) func() error {
		return func() error { return l.MarkOutcomePublished(t.Context(), key, event) }
	}
	accepted := func(key, jobID string) func() error {
		return func() error { return l.MarkAcceptedPublished(t.Context(), key, jobID) }
	}
	tests := map[string]struct {
		mark func() error
		want error
	}{
		"outcome, absent":      {outcome(absent, done), ledger.ErrNotFound},
		"outcome, bad key":     {outcome("*", done), ledger.ErrInvalidID},
		"outcome, not JSON":    {outcome(c.RequestKey, []byte("{")), ledger.ErrNotJSON},
		"outcome, in progress": {outcome(c.RequestKey, done), ledger.ErrInvalidTransition},
		"accepted, absent":     {accepted(absent, "job1"), ledger.ErrNotFound},
		"accepted, bad key":    {accepted(c.RequestKey+".x", "job1"), ledger.ErrInvalidID},
		"accepted, watch id":   {accepted(c.RequestKey, ledger.WatchRecordID(c.RequestKey)), ledger.ErrInvalidID},
		"accepted, empty job":  {accepted(c.RequestKey, ""), ledger.ErrInvalidID},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := tc.mark(); !errors.Is(err, tc.want) {
				t.Errorf("%v, want %v", err, tc.want)
			}
		})
	}
}

// TestMarkPublished_concurrent has a poller finish a request while other
// processes mark its accepted event published: every call succeeds after
// retrying its compare-and-set, and the claim ends finished with both
// marks.
func TestMarkPublished_concurrent(t *testing.T) {
	t.Parallel()
	s, migrate, clk := setup(t)
	ctx := t.Context()
	c := mustClaim(t, migrate, request(1)).Claim
	if err := submit(t, migrate, c, "job1"); err != nil {
		t.Fatal(err)
	}
	outcome := completedJSON(t, 1, "job1")
	const n = 4
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		other := mustOpen(t, s.JetStream(), fmt.Sprintf("other-%d", i), clk)
		wg.Go(func() { errs[i] = other.MarkAcceptedPublished(ctx, c.RequestKey, "job1") })
	}
	poll := mustOpen(t, s.JetStream(), "poller", clk)
	wg.Go(func() { errs[n] = poll.FinishRequest(ctx, c.RequestKey, outcome) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	got, err := migrate.GetClaim(ctx, c.Source, c.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != ledger.StateFinished || !got.AcceptedPublished || !got.OutcomePublished || string(got.Outcome) != string(outcome) {
		t.Errorf("claim %s, accepted published %v, outcome published %v, outcome %s; want finished, both published, %s",
			got.State, got.AcceptedPublished, got.OutcomePublished, got.Outcome, outcome)
	}
}
