package ledger_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ledger"
)

func TestMarkSubmittedUnknown(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	c := mustClaim(t, l, request(1)).Claim
	if err := l.MarkSubmitting(ctx, c); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := l.MarkSubmittedUnknown(ctx, c); err != nil {
		t.Fatalf("MarkSubmittedUnknown: %v", err)
	}
	clk.Advance(time.Second)
	if err := l.MarkSubmittedUnknown(ctx, c); err != nil {
		t.Fatalf("MarkSubmittedUnknown again: %v", err)
	}
	got, err := l.GetClaim(ctx, c.Source, c.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	want := &ledger.Claim{
		Revision: c.Revision, RequestKey: c.RequestKey, Source: c.Source, RequestID: c.RequestID, ServerID: c.ServerID,
		State: ledger.StateSubmitted, Owner: "a", JobUnknown: true, Call: ledger.CallMigrate,
		Created: newClock().Now(), Updated: newClock().Now().Add(2 * time.Second),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claim with an unknown job (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got, c); diff != "" {
		t.Errorf("caller's copy differs from the stored claim (-stored +caller):\n%s", diff)
	}

	// A stale claim submitted with an unknown job is taken over as one
	// that may have been submitted: the new owner must not call again.
	clk.Advance(5 * time.Minute)
	r := mustClaim(t, mustOpen(t, s.JetStream(), "b", clk), request(1))
	if r.Status != ledger.ClaimTakenOver || !r.MayHaveSubmitted() || !r.Claim.JobUnknown || r.Claim.JobID != "" {
		t.Errorf("takeover: status %v, MayHaveSubmitted %v, JobUnknown %v, JobID %q; want taken_over, true, true, empty",
			r.Status, r.MayHaveSubmitted(), r.Claim.JobUnknown, r.Claim.JobID)
	}
}

func TestMarkSubmittedUnknown_afterTakeoverWhileSubmitting(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	c := mustClaim(t, l, request(1)).Claim
	if err := l.MarkSubmitting(ctx, c); err != nil {
		t.Fatal(err)
	}
	clk.Advance(5 * time.Minute)
	b := mustOpen(t, s.JetStream(), "b", clk)
	r := mustClaim(t, b, request(1))
	if !r.MayHaveSubmitted() {
		t.Fatalf("takeover of a submitting claim: MayHaveSubmitted false")
	}
	if err := b.MarkSubmittedUnknown(ctx, r.Claim); err != nil {
		t.Fatalf("new owner's MarkSubmittedUnknown: %v", err)
	}
	// The previous owner's answer arrives too late: its claim is gone.
	if err := l.MarkSubmitted(ctx, c, "job1", acceptedJSON(t, 1, "job1")); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("previous owner's MarkSubmitted: %v, want ErrConflict", err)
	}
}

func TestReleaseUnsent(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		prepare func(*ledger.Ledger, *ledger.Claim) error
	}{
		"claimed":    {prepare: func(*ledger.Ledger, *ledger.Claim) error { return nil }},
		"submitting": {prepare: func(l *ledger.Ledger, c *ledger.Claim) error { return l.MarkSubmitting(t.Context(), c) }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, l, clk := setup(t)
			ctx := t.Context()
			c := mustClaim(t, l, request(1)).Claim
			if err := tc.prepare(l, c); err != nil {
				t.Fatal(err)
			}
			if err := l.ReleaseUnsent(ctx, c, "throttled: APIGW.0308"); err != nil {
				t.Fatalf("ReleaseUnsent: %v", err)
			}
			// The claim is kept, given back with its last error.
			kept, err := l.GetClaim(ctx, c.Source, c.RequestID)
			if err != nil || kept.State != ledger.StateClaimed || kept.Owner != "" || kept.LastError != "throttled: APIGW.0308" {
				t.Fatalf("claim after ReleaseUnsent: %+v, %v", kept, err)
			}
			// A redelivery takes it at once (no staleness to wait for),
			// knowing nothing was sent.
			again := mustClaim(t, mustOpen(t, s.JetStream(), "b", clk), request(1))
			if again.Status != ledger.ClaimTakenOver || again.MayHaveSubmitted() || again.Claim.Owner != "b" {
				t.Errorf("claim after ReleaseUnsent: %v by %q, MayHaveSubmitted %v; want taken over by b, false",
					again.Status, again.Claim.Owner, again.MayHaveSubmitted())
			}
		})
	}
}

// TestRecordedEvents_byteForByte records events as the CloudEvents SDK
// marshals them, and as hand-written JSON with white space and characters
// encoding/json would escape: what is stored is the compact form, nothing
// escaped, and the caller's copy is updated to it.
func TestRecordedEvents_byteForByte(t *testing.T) {
	t.Parallel()
	_, l, _ := setup(t)
	ctx := t.Context()
	tests := map[string]struct {
		in, want string
	}{
		"sdk output": {
			in:   string(completedJSON(t, 1, "job1")),
			want: string(completedJSON(t, 1, "job1")),
		},
		"spaced with html and line separators": {
			in:   "{ \"id\" : \"a<b>&c\u2028d\u2029\",\n\t\"data\": {\"x\": [1, 2]} }",
			want: "{\"id\":\"a<b>&c\u2028d\u2029\",\"data\":{\"x\":[1,2]}}",
		},
		"escapes kept as written": {
			in:   `{"id":"\u003c\u0026"}`,
			want: `{"id":"\u003c\u0026"}`,
		},
	}
	n := 0
	for name, tc := range tests {
		n++
		c := mustClaim(t, l, request(n)).Claim
		t.Run(name, func(t *testing.T) {
			if err := submit(t, l, c, "job1"); err != nil {
				t.Fatal(err)
			}
			if err := l.FinishClaim(ctx, c, []byte(tc.in)); err != nil {
				t.Fatalf("FinishClaim: %v", err)
			}
			if string(c.Outcome) != tc.want {
				t.Errorf("caller's Outcome = %q, want %q", c.Outcome, tc.want)
			}
			got, err := l.GetClaim(ctx, c.Source, c.RequestID)
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Outcome) != tc.want {
				t.Errorf("stored Outcome = %q, want %q", got.Outcome, tc.want)
			}
			if string(got.Accepted) != string(acceptedJSON(t, 1, "job1")) {
				t.Errorf("stored Accepted = %q, want the SDK's bytes %q", got.Accepted, acceptedJSON(t, 1, "job1"))
			}
		})
	}
}
