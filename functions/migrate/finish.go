package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// reject ends a claimed request with a rejected event.
func (h *Handler) reject(ctx context.Context, r *request, rej events.Rejection) Outcome {
	e, err := events.NewRejected(r.origin, rej, h.now())
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("build rejected event: %w", err))
	}
	h.log.InfoContext(ctx, "request rejected", "reason", string(rej.Reason), "detail", rej.Message)
	return h.finish(ctx, r, e, StatusRejected, string(rej.Reason), rej.Message)
}

// complete ends a claimed request whose server already is on the target.
func (h *Handler) complete(ctx context.Context, r *request) Outcome {
	e, err := events.NewCompleted(r.origin, "", true, h.now())
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("build completed event: %w", err))
	}
	h.log.InfoContext(ctx, "server already in place", "target", r.p.Target.String())
	return h.finish(ctx, r, e, StatusCompleted, "already_in_place", "")
}

// finish records a terminal outcome on the claim, frees the server and
// publishes the event. The claim is finished before publishing, so a
// redelivery after a failed publish re-publishes the same event. The
// pending record goes only once JetStream acknowledged the event: if the
// handler stops before that and no delivery comes again, poll publishes
// the claim's outcome at the deadline.
func (h *Handler) finish(ctx context.Context, r *request, e event.Event, st Status, reason, msg string) Outcome {
	js, err := events.Structured(e)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("encode %s event: %w", e.Type(), err))
	}
	if err := h.persist(ctx, func(ctx context.Context) error { return h.ledger.FinishClaim(ctx, r.claim, js) }); err != nil {
		// Every rejection and completion comes before a call, or after the
		// API refused one: nothing was processed.
		return h.abandon(ctx, r, "ledger_unavailable", fmt.Errorf("finish claim: %w", err), 0)
	}
	h.crashAt(crashFinished)
	if r.lock != nil {
		if err := h.ledger.ReleaseLock(ctx, r.lock); err != nil {
			// The claim is finished, so the next request for this server
			// recovers the lock (ledger.AcquireLock takes over orphans).
			h.log.WarnContext(ctx, "server lock not released", "error", err)
		}
	}
	o := h.publish(ctx, r, e, st)
	if o.Status == st {
		o.Reason, o.Message = reason, msg
	}
	if !o.Retryable() {
		h.markOutcomePublished(ctx, r, js)
		h.dropPending(ctx, r)
	}
	return o
}

// markOutcomePublished records on the claim that JetStream acknowledged
// its outcome, so that no duplicate publishes it again. When the mark is
// lost, a duplicate publishes the same event once more (JetStream drops
// it within its duplicate window) and marks it then.
func (h *Handler) markOutcomePublished(ctx context.Context, r *request, outcome []byte) {
	if err := h.ledger.MarkOutcomePublished(ctx, r.claim.RequestKey, outcome); err != nil {
		h.log.WarnContext(ctx, "outcome published but not marked so on the claim", "error", err)
	}
}

// publish sends an outcome event and waits for JetStream's ack.
func (h *Handler) publish(ctx context.Context, r *request, e event.Event, st Status) Outcome {
	res, err := h.pub.Publish(ctx, e)
	if err != nil {
		// The outcome is recorded; a redelivery publishes it again.
		return h.retry(ctx, r, "nats_unavailable", fmt.Errorf("publish %s: %w", e.Type(), err), 0)
	}
	h.crashAt(crashPublished)
	o := Outcome{Status: st, RequestID: r.p.ID, ServerID: r.p.ServerID, EventID: e.ID(), EventType: e.Type()}
	if r.claim != nil {
		o.JobID = r.claim.JobID
	}
	if res.Duplicate {
		o.Status = StatusDuplicate
	}
	return o
}

// republish answers a duplicate of a finished request. Its outcome event
// is on the stream when the claim says JetStream acknowledged it: nothing
// is published again, however late the duplicate (guarantee 6).
// Otherwise the outcome recorded on the claim is published, byte for
// byte, and marked. Either way it then clears what a handler that stopped
// after finishing the claim may have left: the pending record and the
// server lock.
func (h *Handler) republish(ctx context.Context, r *request) Outcome {
	c := r.claim
	e, err := events.ParseStructured(c.Outcome)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("read recorded outcome: %w", err))
	}
	if c.OutcomePublished {
		h.log.InfoContext(ctx, "duplicate of a finished request: its outcome is on the stream already", "event_type", e.Type())
		h.tidy(ctx, r)
		return Outcome{Status: StatusDuplicate, RequestID: r.p.ID, ServerID: r.p.ServerID, JobID: c.JobID, EventID: e.ID(), EventType: e.Type()}
	}
	h.log.InfoContext(ctx, "duplicate request: outcome published again", "event_type", e.Type())
	o := h.publish(ctx, r, e, StatusDuplicate)
	if o.Status != StatusRetry {
		o.Status = StatusDuplicate
		h.markOutcomePublished(ctx, r, c.Outcome)
		h.tidy(ctx, r)
	}
	return o
}

// tidy removes the pending record and the server lock a finished request
// may have left behind; what it cannot remove, poll removes at the
// request's deadline, and the next request for the server takes the lock
// over.
func (h *Handler) tidy(ctx context.Context, r *request) {
	h.dropPending(ctx, r)
	if err := h.ledger.ReleaseLeftLock(ctx, r.claim); err != nil {
		h.log.WarnContext(ctx, "server lock left by a finished request not released", "error", err)
	}
}

// resume finishes the work of a request whose migration was submitted:
// the job record and the accepted event, both idempotent.
func (h *Handler) resume(ctx context.Context, r *request) Outcome {
	c := r.claim
	if c.JobUnknown {
		if err := h.recordJob(ctx, r, ""); err != nil {
			return h.retry(ctx, r, "ledger_unavailable", err, 0)
		}
		return Outcome{Status: StatusDuplicate, Reason: "outcome_unknown", RequestID: r.p.ID, ServerID: r.p.ServerID,
			Message: "the " + string(r.call) + " call was sent but its answer was lost; the server is being tracked"}
	}
	ctx = logging.With(ctx, slog.String(logging.KeyJobID, c.JobID))
	e, err := events.ParseStructured(c.Accepted)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("read recorded accepted event: %w", err))
	}
	var a events.Accepted
	if err := e.DataAs(&a); err != nil {
		return h.internal(ctx, r, fmt.Errorf("read recorded accepted event: %w", err))
	}
	if !a.Deadline.IsZero() {
		r.deadline = a.Deadline
	}
	if err := h.recordJob(ctx, r, c.JobID); err != nil {
		return h.retry(ctx, r, "ledger_unavailable", err, 0)
	}
	if c.AcceptedPublished {
		return Outcome{Status: StatusDuplicate, RequestID: r.p.ID, ServerID: r.p.ServerID, JobID: c.JobID, EventID: e.ID(), EventType: e.Type()}
	}
	o := h.publish(ctx, r, e, StatusDuplicate)
	if o.Status != StatusRetry {
		o.Status = StatusDuplicate
		h.markAcceptedPublished(ctx, r)
	}
	return o
}

// markAcceptedPublished records on the claim that JetStream acknowledged
// the accepted event, so that no duplicate publishes it again.
func (h *Handler) markAcceptedPublished(ctx context.Context, r *request) {
	if err := h.ledger.MarkAcceptedPublished(ctx, r.claim.RequestKey, r.claim.JobID); err != nil {
		h.log.WarnContext(ctx, "accepted event published but not marked so on the claim", "error", err)
	}
}

// rejectUnreadable answers a request that could not be decoded. A
// CloudEvent with a readable id and source gets its rejected event, kept
// on a finished claim of its own (ledger.RecordRejection) like every other
// outcome, so that a redelivery or replay publishes nothing new. Bytes
// without an id and a source to answer to are refused and logged, with no
// event, as are messages that are not CloudEvents at all (no specversion)
// whatever they hold: storing an event for each would let anyone fill the
// stream (design.md, guarantee 4).
func (h *Handler) rejectUnreadable(ctx context.Context, err error) Outcome {
	de, ok := errors.AsType[*events.DecodeError](err)
	if !ok {
		return Outcome{Status: StatusRetry, Reason: "internal", Message: err.Error(), Err: err}
	}
	o := de.Origin
	rej := de.Rejection()
	if errors.Is(de, events.ErrNotCloudEvent) || o.RequestID == "" || o.RequestSource == "" {
		h.log.WarnContext(ctx, "unreadable request refused, no event published", "reason", string(rej.Reason), "detail", de.Error(),
			"digest", o.RawDigest)
		return Outcome{Status: StatusRejected, Reason: string(rej.Reason), Message: de.Error(), ServerID: o.ServerID}
	}
	ctx = logging.With(ctx, slog.String(logging.KeyEventID, o.RequestID))
	e, berr := events.NewRejected(o, rej, h.now())
	var js []byte
	if berr == nil {
		js, berr = events.Structured(e)
	}
	if berr != nil {
		return Outcome{Status: StatusRetry, Reason: "internal", Message: berr.Error(), Err: berr}
	}
	// A claim keeps the rejection, so that a replay after the stream's
	// duplicate window is known and publishes nothing (guarantee 6).
	c, lerr := h.ledger.RecordRejection(ctx, o.RequestSource, o.RequestID, js)
	if lerr != nil {
		return Outcome{Status: StatusRetry, Reason: "ledger_unavailable", Message: lerr.Error(), Err: lerr, RequestID: o.RequestID}
	}
	answer := Outcome{Status: StatusRejected, Reason: string(rej.Reason), Message: de.Error(),
		RequestID: o.RequestID, ServerID: o.ServerID, EventID: e.ID(), EventType: e.Type()}
	switch {
	case c.State != ledger.StateFinished:
		// The same id and source belong to a request being handled.
		h.log.WarnContext(ctx, "an unreadable copy of a request in progress: nothing published", "reason", string(rej.Reason))
		answer.Status, answer.EventID, answer.EventType = StatusDuplicate, "", ""
		return answer
	case c.OutcomePublished:
		h.log.InfoContext(ctx, "duplicate of a rejected request: its rejection is on the stream already")
		answer.Status = StatusDuplicate
		return answer
	}
	h.log.InfoContext(ctx, "request rejected", "reason", string(rej.Reason), "detail", de.Error())
	stored, perr := events.ParseStructured(c.Outcome)
	if perr == nil {
		_, perr = h.pub.Publish(ctx, stored)
	}
	if perr != nil {
		return Outcome{Status: StatusRetry, Reason: "nats_unavailable", Message: perr.Error(), Err: perr, RequestID: o.RequestID}
	}
	if err := h.ledger.MarkOutcomePublished(ctx, c.RequestKey, c.Outcome); err != nil {
		h.log.WarnContext(ctx, "rejection published but not marked so on the claim", "error", err)
	}
	answer.EventID, answer.EventType = stored.ID(), stored.Type()
	return answer
}

// recordPending writes the request's pending record before anything is
// sent for it (for a new request, before it is claimed): if no call is
// ever submitted and no delivery comes again (a crash, a queue that gave
// up), the poll function closes the request at its deadline with its last
// error.
func (h *Handler) recordPending(ctx context.Context, r *request) error {
	j := h.jobOf(r, "")
	j.Power = nil
	if _, err := h.ledger.RecordPending(ctx, j); err != nil {
		return fmt.Errorf("record pending: %w", err)
	}
	h.crashAt(crashPending)
	return nil
}

// dropPending removes the pending record once the claim moved on
// (finished, or submitted with a job record of its own). Left behind, it
// is removed by poll at the request's deadline, which finds the claim
// moved on.
func (h *Handler) dropPending(ctx context.Context, r *request) {
	if err := h.ledger.DropPending(ctx, r.p.Key()); err != nil {
		h.log.WarnContext(ctx, "pending record not removed; poll removes it at the deadline", "error", err)
	}
}

// retry gives a request back to the runtime, keeping everything this
// attempt holds: its claim may have reached the API, so it stays for the
// redelivery (or a takeover) to find.
func (h *Handler) retry(ctx context.Context, r *request, reason string, err error, after time.Duration) Outcome {
	h.log.WarnContext(ctx, "request will be retried", "reason", reason, "error", err)
	return Outcome{Status: StatusRetry, Reason: reason, Message: err.Error(), Err: err,
		RequestID: r.p.ID, ServerID: r.p.ServerID, RetryAfter: after}
}

// abandon gives a request back to the runtime after releasing its server
// lock and giving its claim back with the error, so that the redelivery
// takes it at once; the pending record stays, so that the request is
// closed at its deadline if no delivery comes. Call it only when no
// migrate call was made, or the one made provably was not processed
// (refused or throttled, or not sent at all).
func (h *Handler) abandon(ctx context.Context, r *request, reason string, err error, after time.Duration) Outcome {
	if r.lock != nil {
		if lerr := h.ledger.ReleaseLock(ctx, r.lock); lerr != nil {
			h.log.WarnContext(ctx, "server lock not released", "error", lerr)
		}
		r.lock = nil
	}
	if lerr := h.ledger.ReleaseUnsent(ctx, r.claim, reason+": "+err.Error()); lerr != nil {
		h.log.WarnContext(ctx, "claim not released; it will be taken over when stale", "error", lerr)
	}
	return h.retry(ctx, r, reason, err, after)
}

// internal reports a failure of coldmove itself (an event it cannot build
// or read). It is retried: the request is not at fault.
func (h *Handler) internal(ctx context.Context, r *request, err error) Outcome {
	h.log.ErrorContext(ctx, "internal error", "error", err)
	return h.retry(ctx, r, "internal", err, 0)
}
