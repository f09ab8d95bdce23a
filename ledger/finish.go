package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
)

// maxFinishRounds bounds the read-modify-write retries of FinishRequest,
// which competes with the claim's owner as well as other pollers.
const maxFinishRounds = 8

// FinishRequest records the terminal outcome event (structured CloudEvent
// JSON, one object, stored compact) of the request with this [RequestKey]
// on its claim, whoever owns the claim: it is how the poll function, which
// never owns claims, finishes a request after JetStream acknowledged the
// outcome it published for the request's job.
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
// (a poller re-running after a crash); finished with another outcome, the
// error matches [ErrInvalidTransition]: the first terminal outcome wins. A
// missing claim gives [ErrNotFound]. The compare-and-set is retried a few
// times when the claim changes concurrently, then fails with
// [ErrConflict].
func (l *Ledger) FinishRequest(ctx context.Context, requestKey string, outcome []byte) error {
	if err := checkRequestKey(requestKey); err != nil {
		return fmt.Errorf("ledger: finish request: %w", err)
	}
	out, err := eventJSON("outcome", outcome)
	if err != nil {
		return fmt.Errorf("ledger: finish request %s: %w", requestKey, err)
	}
	for range maxFinishRounds {
		c, err := l.readClaim(ctx, requestKey)
		if err != nil {
			return fmt.Errorf("ledger: finish request %s: %w", requestKey, err)
		}
		switch c.State {
		case StateFinished:
			if bytes.Equal(c.Outcome, out) {
				return nil
			}
			return fmt.Errorf("ledger: finish request %s: %w: already finished with another outcome", requestKey, ErrInvalidTransition)
		case StateClaimed, StateSubmitting, StateSubmitted:
		default:
			return fmt.Errorf("ledger: finish request %s: %w: unknown state %q", requestKey, ErrInvalidTransition, c.State)
		}
		c.State, c.Outcome, c.Updated = StateFinished, out, l.now()
		_, err = l.writeClaim(ctx, c, c.Revision)
		if errors.Is(err, ErrConflict) {
			continue // changed under us: look again
		}
		if err != nil {
			return fmt.Errorf("ledger: finish request %s: %w", requestKey, err)
		}
		return nil
	}
	return fmt.Errorf("%w: finish request %s: claim kept changing", ErrConflict, requestKey)
}
