package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/coldmove/coldmove/ids"
)

// maxFinishRounds bounds the read-modify-write retries of the calls that
// change a claim they do not own (FinishRequest, MarkOutcomePublished,
// MarkAcceptedPublished), which compete with the claim's owner as well as
// other processes.
const maxFinishRounds = 8

// FinishRequest records the terminal outcome event (structured CloudEvent
// JSON, one object, stored compact) of the request with this [RequestKey]
// on its claim, whoever owns the claim: it is how the poll function, which
// never owns claims, finishes a request after JetStream acknowledged the
// outcome it published for the request's job. The same write therefore
// sets [Claim.OutcomePublished]: call it only once the outcome is
// acknowledged.
//
// The claim moves to finished from submitted, and also from claimed or
// submitting: a job record exists only for a request whose migrate call was
// made (or may have been), so the owner merely did not get to mark the
// claim before the job ended, and leaving the claim unfinished would let a
// later takeover follow the request a second time. An owner still working
// on the claim then fails its next change with [ErrConflict] and finds the
// claim finished when it reads it again.
//
// A claim already finished with the same outcome counts as finished here
// (a poller re-running after a crash), and is marked published if it was
// not; finished with another outcome, the error matches
// [ErrInvalidTransition]: the first terminal outcome wins. A missing claim
// gives [ErrNotFound]. The compare-and-set is retried a few times when the
// claim changes concurrently, then fails with [ErrConflict].
func (l *Ledger) FinishRequest(ctx context.Context, requestKey string, outcome []byte) error {
	const op = "finish request"
	out, err := checkOutcome(op, requestKey, outcome)
	if err != nil {
		return err
	}
	return l.changeClaim(ctx, op, requestKey, func(c *Claim) (bool, error) {
		switch c.State {
		case StateFinished:
			if !bytes.Equal(c.Outcome, out) {
				return false, fmt.Errorf("%w: already finished with another outcome", ErrInvalidTransition)
			}
			if c.OutcomePublished {
				return false, nil
			}
		case StateClaimed, StateSubmitting, StateSubmitted:
			c.State, c.Outcome, c.Updated = StateFinished, out, l.now()
		default:
			return false, fmt.Errorf("%w: unknown state %q", ErrInvalidTransition, c.State)
		}
		c.OutcomePublished = true
		return true, nil
	})
}

// checkOutcome checks the request key and the outcome event given to op,
// and returns the event in its compact form.
func checkOutcome(op, requestKey string, outcome []byte) ([]byte, error) {
	if err := checkRequestKey(requestKey); err != nil {
		return nil, fmt.Errorf("ledger: %s: %w", op, err)
	}
	out, err := eventJSON("outcome", outcome)
	if err != nil {
		return nil, fmt.Errorf("ledger: %s %s: %w", op, requestKey, err)
	}
	return out, nil
}

// changeClaim reads the claim of the request with this key, lets change
// amend it, and writes it back by compare-and-set unless change reports
// that there is nothing to write, whoever owns the claim. A write that
// loses to a concurrent change is retried from a fresh read a few times,
// then fails with [ErrConflict]. Errors name op and the request key.
func (l *Ledger) changeClaim(ctx context.Context, op, requestKey string, change func(*Claim) (write bool, err error)) error {
	for round := range maxFinishRounds {
		if err := pause(ctx, round); err != nil {
			return fmt.Errorf("ledger: %s %s: %w", op, requestKey, err)
		}
		c, err := l.readClaim(ctx, requestKey)
		if err != nil {
			return fmt.Errorf("ledger: %s %s: %w", op, requestKey, err)
		}
		write, err := change(c)
		if err != nil {
			return fmt.Errorf("ledger: %s %s: %w", op, requestKey, err)
		}
		if !write {
			return nil
		}
		_, err = l.writeClaim(ctx, c, c.Revision)
		if errors.Is(err, ErrConflict) {
			continue // changed under us: look again
		}
		if err != nil {
			return fmt.Errorf("ledger: %s %s: %w", op, requestKey, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %s %s: claim kept changing", ErrConflict, op, requestKey)
}

// CloseRequest finishes with outcome (structured CloudEvent JSON) the
// claim of a request whose deadline passed while no call was known to be
// submitted: the poll function's answer to a pending record that came due
// ([Job.Pending]). It moves the claim to finished only from state from —
// claimed (nothing was sent: the outcome is a rejection) or submitting
// (the call may have been sent: the outcome is a time-out) — by
// compare-and-set, whoever owns the claim; an owner still at work fails
// its next change with [ErrConflict]. The outcome is not published yet:
// publish the claim's outcome, then [Ledger.MarkOutcomePublished].
//
// A claim found in another state gives a *[StateError] (matching
// [ErrInvalidTransition]) that says which, so the caller can decide again;
// a missing claim gives [ErrNotFound].
func (l *Ledger) CloseRequest(ctx context.Context, requestKey string, from ClaimState, outcome []byte) error {
	const op = "close request"
	out, err := checkOutcome(op, requestKey, outcome)
	if err != nil {
		return err
	}
	return l.changeClaim(ctx, op, requestKey, func(c *Claim) (bool, error) {
		if c.State != from {
			return false, &StateError{State: c.State, Want: from}
		}
		c.State, c.Outcome, c.Owner, c.Updated = StateFinished, out, "", l.now()
		return true, nil
	})
}

// CloseUnclaimed finishes with outcome (structured CloudEvent JSON) the
// request of the pending record j ([Job.Pending]) when the request has no
// claim: its handler stopped between writing the pending record and
// claiming the request, and no delivery came again. It creates the
// request's claim, finished, owned by nobody, so that a delivery coming
// later finds the request finished. The outcome is not published yet:
// publish it, then [Ledger.MarkOutcomePublished].
//
// A claim that exists meanwhile gives an error matching [ErrConflict]:
// decide again from it. A record written [Config.ClaimTTL] or longer ago
// gives [ErrNotFound]: its request may have been claimed, finished and its
// claim expired since, so nothing is closed and the record is stale.
func (l *Ledger) CloseUnclaimed(ctx context.Context, j *Job, outcome []byte) error {
	const op = "close unclaimed request"
	if !j.Pending {
		return fmt.Errorf("ledger: %s: record %s is not a pending record", op, j.RecordID())
	}
	out, err := checkOutcome(op, j.RequestKey, outcome)
	if err != nil {
		return err
	}
	if err := checkID(ids.Server, j.ServerID); err != nil {
		return fmt.Errorf("ledger: %s %s: %w", op, j.RequestKey, err)
	}
	now := l.now()
	if age := now.Sub(j.Created); age >= l.cfg.ClaimTTL {
		return fmt.Errorf("ledger: %s %s: %w: the pending record is %s old, the claims' TTL %s", op, j.RequestKey, ErrNotFound, age, l.cfg.ClaimTTL)
	}
	c := &Claim{RequestKey: j.RequestKey, Source: j.RequestSource, RequestID: j.RequestID, ServerID: j.ServerID,
		Deadline: j.Deadline.UTC(), State: StateFinished, Outcome: out, Created: now, Updated: now}
	_, err = l.writeClaim(ctx, c, 0)
	if ex := asExists(err); ex != nil {
		existing := &Claim{}
		if err := ex.decode(claimKey(c.RequestKey), existing); err != nil {
			return err
		}
		return fmt.Errorf("ledger: %s %s: %w: the request is claimed (%s)", op, j.RequestKey, ErrConflict, existing.State)
	}
	if err != nil {
		return fmt.Errorf("ledger: %s %s: %w", op, j.RequestKey, err)
	}
	return nil
}

// StateError reports a claim found in a state other than the one a change
// needs. It matches [ErrInvalidTransition].
type StateError struct {
	// State is the claim's state; Want the state the change needed.
	State, Want ClaimState
}

// Error names both states.
func (e *StateError) Error() string {
	return fmt.Sprintf("%s: the claim is %s, not %s", ErrInvalidTransition.Error(), e.State, e.Want)
}

// Is reports whether target is [ErrInvalidTransition].
func (e *StateError) Is(target error) bool { return target == ErrInvalidTransition }
