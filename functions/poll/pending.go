package main

import (
	"context"
	"errors"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// closePending settles a pending record that came due at its request's
// deadline: the record of a claimed request on which no call was
// submitted (ledger.Job.Pending). The request's claim says what became of
// it:
//
//   - finished: its outcome was decided; published if it was not yet
//     (a crash after the decision), then the record goes;
//   - submitted: a job record of its own follows it; the record goes;
//   - claimed (nothing was sent: trouble kept it from being submitted, and
//     no delivery came again, or none will): the request ends
//     rejected/deadline_exceeded with the claim's last error;
//   - submitting (the call may have been sent, its owner is gone): the
//     request ends timedout, its outcome unknown;
//   - none (its handler stopped before claiming it, see closeUnclaimed):
//     the request ends rejected/deadline_exceeded.
//
// The outcome is recorded on the claim first (ledger.CloseRequest, by
// compare-and-set against the state read, so that an owner still at work
// can no longer submit), then published, then marked published, and only
// then is the record removed with the server lock: a crash anywhere on the
// way leaves the record for the next tick, which finds the claim finished
// and publishes the same bytes.
func (p *Poller) closePending(ctx context.Context, j *ledger.Job, r *result) {
	c, err := p.led.Claim(ctx, j.RequestKey)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		p.crashAt(crashPolled)
		p.closeUnclaimed(ctx, j, r)
		return
	case err != nil:
		r.errors++
		p.log.ErrorContext(ctx, "read the claim of a pending request", "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
		return
	}
	p.crashAt(crashPolled)
	switch c.State {
	case ledger.StateSubmitted:
		p.discard(ctx, j, r)
		return
	case ledger.StateFinished:
		p.publishClosed(ctx, j, c.Outcome, c.OutcomePublished, r)
		return
	}
	now := p.now()
	if now.Before(j.Deadline) {
		p.reschedule(ctx, j, j.Deadline, r) // not due yet: a clock apart
		return
	}
	e, err := p.closing(j, c, now)
	if err == nil {
		var raw []byte
		if raw, err = events.Structured(e); err == nil {
			err = p.led.CloseRequest(ctx, j.RequestKey, c.State, raw)
			if err == nil {
				p.crashAt(crashRecorded)
				p.log.InfoContext(ctx, "request closed at its deadline", "state", string(c.State), "type", e.Type())
				p.publishClosed(ctx, j, raw, false, r)
				return
			}
		}
	}
	if _, moved := errors.AsType[*ledger.StateError](err); !moved {
		r.errors++
		p.log.ErrorContext(ctx, "close a pending request", "error", err)
	}
	// The claim moved on under us (or trouble): decide again soon.
	p.reschedule(ctx, j, p.retryAt(j), r)
}

// closeUnclaimed settles, at its deadline, the pending record of a request
// that has no claim: its handler stopped between writing the record and
// claiming the request, and no delivery came again. The request ends
// rejected/deadline_exceeded, recorded as its finished claim
// (ledger.CloseUnclaimed) and then published as any closed request. A
// claim that appeared meanwhile is decided on at the next look; a record
// older than the claims' TTL goes quietly, as its request's claim may
// have expired since it finished.
func (p *Poller) closeUnclaimed(ctx context.Context, j *ledger.Job, r *result) {
	now := p.now()
	if now.Before(j.Deadline) {
		p.reschedule(ctx, j, j.Deadline, r) // not due yet: a clock apart
		return
	}
	e, err := events.NewRejected(originOf(j), events.DeadlineExceeded(j.Deadline, "the request was never claimed: its handler stopped first"), now)
	var raw []byte
	if err == nil {
		raw, err = events.Structured(e)
	}
	if err == nil {
		err = p.led.CloseUnclaimed(ctx, j, raw)
	}
	switch {
	case err == nil:
		p.crashAt(crashRecorded)
		p.log.InfoContext(ctx, "request closed at its deadline, never claimed", "type", e.Type())
		p.publishClosed(ctx, j, raw, false, r)
	case errors.Is(err, ledger.ErrNotFound):
		p.discard(ctx, j, r)
	case errors.Is(err, ledger.ErrConflict):
		p.reschedule(ctx, j, p.retryAt(j), r) // claimed meanwhile: decide again
	default:
		r.errors++
		p.log.ErrorContext(ctx, "close an unclaimed request", "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
	}
}

// closing is the terminal event of a request closed at its deadline in
// the claim's state.
func (p *Poller) closing(j *ledger.Job, c *ledger.Claim, at time.Time) (event.Event, error) {
	o := originOf(j)
	if c.State == ledger.StateSubmitting {
		return events.NewTimedOut(o, "", j.Deadline, "the migrate call may have been sent; its outcome is unknown", at)
	}
	return events.NewRejected(o, events.DeadlineExceeded(j.Deadline, c.LastError), at)
}

// publishClosed publishes the outcome recorded on a closed request's
// claim (unless it is published already), marks it, and removes the
// pending record with the request's server lock.
func (p *Poller) publishClosed(ctx context.Context, j *ledger.Job, outcome []byte, published bool, r *result) {
	if !published {
		e, err := events.ParseStructured(outcome)
		if err == nil {
			_, err = p.pub.Publish(ctx, e)
		}
		if err != nil {
			r.errors++
			p.log.ErrorContext(ctx, "publish the outcome of a closed request", "error", err)
			p.reschedule(ctx, j, p.retryAt(j), r)
			return
		}
		p.crashAt(crashPublished)
		r.outcome = e.Type()
		if err := p.led.MarkOutcomePublished(ctx, j.RequestKey, outcome); err != nil {
			p.log.WarnContext(ctx, "outcome published but not marked so on the claim", "error", err)
		}
	}
	p.crashAt(crashFinished)
	if err := p.led.Remove(ctx, j); err != nil && !errors.Is(err, ledger.ErrLockLeft) {
		r.errors++
		p.log.ErrorContext(ctx, "remove the pending record", "error", err)
	}
}

// discard removes a pending record whose request needs nothing from it,
// leaving the server lock to the request's own job.
func (p *Poller) discard(ctx context.Context, j *ledger.Job, r *result) {
	if err := p.led.Discard(ctx, j); err != nil {
		r.errors++
		p.log.ErrorContext(ctx, "remove the pending record", "error", err)
	}
}
