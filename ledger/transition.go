package ledger

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// MarkSubmitting records that the owner is about to call the migrate API.
// It is allowed from claimed, and again from submitting (after a takeover,
// or to refresh the claim's update time during a long call).
func (l *Ledger) MarkSubmitting(ctx context.Context, c *Claim) error {
	return l.MarkCalling(ctx, c, CallMigrate)
}

// MarkCalling is [Ledger.MarkSubmitting] for the first call of a request
// that may begin with another call than the migrate call (a stop, for a
// request with power steps): the claim records which ([Claim.Call]), so
// that whoever finds it submitting knows which call may have been sent.
func (l *Ledger) MarkCalling(ctx context.Context, c *Claim, call Call) error {
	return l.advance(ctx, c, StateSubmitting, func(c *Claim) error {
		if c.State != StateClaimed && c.State != StateSubmitting {
			return fmt.Errorf("%w: %s → %s", ErrInvalidTransition, c.State, StateSubmitting)
		}
		c.Call = call
		return nil
	})
}

// MarkSubmitted records the job id the migrate API returned together with
// the accepted CloudEvent (structured JSON, one object) announcing it, so
// that a duplicate request can re-publish exactly that event: publish
// c.Accepted, the compact form stored, rather than accepted itself. It is
// allowed from submitting, and again with the same job id and the same
// event; the same job id with another event gives an error matching
// [ErrInvalidTransition], as the stored event must stay the only one.
func (l *Ledger) MarkSubmitted(ctx context.Context, c *Claim, jobID string, accepted []byte) error {
	if err := checkJobID(jobID); err != nil {
		return err
	}
	acc, err := eventJSON("accepted event", accepted)
	if err != nil {
		return fmt.Errorf("ledger: claim %s → %s: %w", c.RequestKey, StateSubmitted, err)
	}
	return l.advance(ctx, c, StateSubmitted, func(c *Claim) error {
		switch {
		case c.State == StateSubmitting:
		case c.State == StateSubmitted && c.JobID == jobID && bytes.Equal(c.Accepted, acc):
		case c.State == StateSubmitted && c.JobID == jobID:
			return fmt.Errorf("%w: job %s was recorded with another accepted event", ErrInvalidTransition, jobID)
		case c.State == StateSubmitted && c.JobUnknown:
			return fmt.Errorf("%w: %s with an unknown job → %s (job %q)", ErrInvalidTransition, c.State, StateSubmitted, jobID)
		default:
			return fmt.Errorf("%w: %s (job %q) → %s (job %q)", ErrInvalidTransition, c.State, c.JobID, StateSubmitted, jobID)
		}
		c.JobID, c.Accepted = jobID, acc
		return nil
	})
}

// MarkSubmittedUnknown records that the migrate call was sent, or may have
// been, but its answer was lost (or the claim was taken over while
// submitting), so its job id is unknown: the claim becomes submitted with
// JobUnknown set and no job id. The owner must never call again; the
// request is followed by a watch job ([WatchRecordID]). It is allowed from
// submitting, and again from submitted with JobUnknown set.
func (l *Ledger) MarkSubmittedUnknown(ctx context.Context, c *Claim) error {
	return l.advance(ctx, c, StateSubmitted, func(c *Claim) error {
		switch {
		case c.State == StateSubmitting:
		case c.State == StateSubmitted && c.JobUnknown:
		default:
			return fmt.Errorf("%w: %s (job %q) → %s (job unknown)", ErrInvalidTransition, c.State, c.JobID, StateSubmitted)
		}
		c.JobID, c.Accepted, c.JobUnknown = "", nil, true
		return nil
	})
}

// FinishClaim records the request's outcome event (structured CloudEvent
// JSON, one object, stored compact), from any state but finished.
func (l *Ledger) FinishClaim(ctx context.Context, c *Claim, outcome []byte) error {
	out, err := eventJSON("outcome", outcome)
	if err != nil {
		return fmt.Errorf("ledger: finish claim %s: %w", c.RequestKey, err)
	}
	return l.advance(ctx, c, StateFinished, func(c *Claim) error {
		if c.State == StateFinished {
			return fmt.Errorf("%w: claim already finished", ErrInvalidTransition)
		}
		c.Outcome = out
		return nil
	})
}

// advance moves the caller's claim to state by compare-and-set; check
// vets (and may amend) a copy first. On success c is updated in place.
func (l *Ledger) advance(ctx context.Context, c *Claim, state ClaimState, check func(*Claim) error) error {
	if err := l.checkOwner(c); err != nil {
		return err
	}
	next := *c
	if err := check(&next); err != nil {
		return fmt.Errorf("ledger: claim %s: %w", c.RequestKey, err)
	}
	next.State, next.Updated = state, l.now()
	rev, err := l.writeClaim(ctx, &next, c.Revision)
	if err != nil {
		return fmt.Errorf("ledger: claim %s → %s: %w", c.RequestKey, state, err)
	}
	next.Revision = rev
	*c = next
	return nil
}

// checkOwner makes sure the caller owns the claim as read.
func (l *Ledger) checkOwner(c *Claim) error {
	if c.Owner != l.owner {
		return fmt.Errorf("%w: claim %s belongs to %s, not %s", ErrConflict, c.RequestKey, c.Owner, l.owner)
	}
	if c.Revision == 0 {
		return fmt.Errorf("%w: claim %s has no revision; read it first", ErrConflict, c.RequestKey)
	}
	return nil
}

// ReleaseUnsent gives a claim in state claimed or submitting back, when
// the caller knows its migrate call was not processed (the ECS client said
// so: the call was throttled or refused, or not sent at all): the claim is
// kept, released — claimed with no owner — with lastErr, what kept it
// from being submitted. The next delivery of the request takes it over at
// once ([Ledger.ClaimRequest]), and if none comes before the request's
// deadline, the poll function closes the request with that error
// ([Ledger.CloseRequest]). The claim is never deleted, so no later copy of
// the request can start it again from nothing. A call that may have been
// processed must instead be recorded with [Ledger.MarkSubmittedUnknown].
// It needs the claim's owner and revision, and refuses a submitted or
// finished claim with an error matching [ErrInvalidTransition].
func (l *Ledger) ReleaseUnsent(ctx context.Context, c *Claim, lastErr string) error {
	err := l.advance(ctx, c, StateClaimed, func(n *Claim) error {
		if n.State != StateClaimed && n.State != StateSubmitting {
			return fmt.Errorf("%w: state %s may have reached the API", ErrInvalidTransition, n.State)
		}
		n.Owner, n.LastError = "", clipError(lastErr)
		return nil
	})
	if err != nil {
		return fmt.Errorf("ledger: release unsent claim: %w", err)
	}
	return nil
}

// released reports whether a claim was given back by [Ledger.ReleaseUnsent]:
// claimed, with no owner.
func (c *Claim) released() bool { return c.State == StateClaimed && c.Owner == "" }

// maxErrorLen bounds the last error a claim keeps.
const maxErrorLen = 512

func clipError(s string) string {
	if len(s) <= maxErrorLen {
		return s
	}
	return strings.ToValidUTF8(s[:maxErrorLen], "") + "…"
}
