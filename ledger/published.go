package ledger

import (
	"bytes"
	"context"
	"fmt"
)

// MarkOutcomePublished records on the claim of the request with this
// [RequestKey] that JetStream acknowledged its outcome event
// ([Claim.OutcomePublished]), so that a later duplicate of the request
// publishes nothing. Call it after the acknowledgement; the poll function
// need not, as [Ledger.FinishRequest] marks the outcome it records.
//
// Any process may call it, not only the claim's owner, which may have died
// after publishing. The claim must be finished with exactly this outcome
// (compared in its compact form, as FinishRequest compares); otherwise the
// error matches [ErrInvalidTransition]. Marking a marked claim again
// changes nothing. A missing claim (never created, or expired) gives
// [ErrNotFound]. Updated is left as it was. The compare-and-set is retried
// a few times when the claim changes concurrently, then fails with
// [ErrConflict]. The write moves the claim's revision, so an owner's copy
// read before it is stale: read the claim again before changing it.
func (l *Ledger) MarkOutcomePublished(ctx context.Context, requestKey string, outcome []byte) error {
	const op = "mark outcome published"
	out, err := checkOutcome(op, requestKey, outcome)
	if err != nil {
		return err
	}
	return l.changeClaim(ctx, op, requestKey, func(c *Claim) (bool, error) {
		switch {
		case c.State != StateFinished:
			return false, fmt.Errorf("%w: claim is %s, not finished", ErrInvalidTransition, c.State)
		case !bytes.Equal(c.Outcome, out):
			return false, fmt.Errorf("%w: claim finished with another outcome", ErrInvalidTransition)
		case c.OutcomePublished:
			return false, nil
		}
		c.OutcomePublished = true
		return true, nil
	})
}

// MarkAcceptedPublished records on the claim of the request with this
// [RequestKey] that JetStream acknowledged the accepted event announcing
// job jobID ([Claim.AcceptedPublished]), so that a later duplicate of the
// request publishes nothing. Call it after the acknowledgement.
//
// Any process may call it, not only the claim's owner. The claim must be
// submitted, or finished since, with this job id and its accepted event
// recorded; otherwise (in progress, submitted with an unknown job or
// another job) the error matches [ErrInvalidTransition]. Marking a marked
// claim again changes nothing. A missing claim gives [ErrNotFound], an
// invalid job id [ErrInvalidID]. Updated is left as it was, so the mark
// does not delay the takeover of a claim whose owner died. Like
// [Ledger.MarkOutcomePublished] it retries its compare-and-set a few times
// and leaves an owner's earlier copy stale.
func (l *Ledger) MarkAcceptedPublished(ctx context.Context, requestKey, jobID string) error {
	const op = "mark accepted published"
	if err := checkRequestKey(requestKey); err != nil {
		return fmt.Errorf("ledger: %s: %w", op, err)
	}
	if err := checkJobID(jobID); err != nil {
		return fmt.Errorf("ledger: %s %s: %w", op, requestKey, err)
	}
	return l.changeClaim(ctx, op, requestKey, func(c *Claim) (bool, error) {
		switch {
		case c.State != StateSubmitted && c.State != StateFinished:
			return false, fmt.Errorf("%w: claim is %s, not submitted", ErrInvalidTransition, c.State)
		case c.JobID != jobID || len(c.Accepted) == 0:
			return false, fmt.Errorf("%w: claim has no accepted event for job %s (its job: %q)", ErrInvalidTransition, jobID, c.JobID)
		case c.AcceptedPublished:
			return false, nil
		}
		c.AcceptedPublished = true
		return true, nil
	})
}
