package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// jobContext returns ctx with the job's identifiers for every log line
// about it.
func jobContext(ctx context.Context, j *ledger.Job) context.Context {
	id := j.JobID
	if id == "" {
		id = j.RecordID()
	}
	return logging.With(ctx, slog.String(logging.KeyJobID, id), slog.String(logging.KeyServerID, j.ServerID))
}

// act carries out a verdict on a leased job: reschedule it, or publish its
// outcome and finish it.
func (p *Poller) act(ctx context.Context, j *ledger.Job, v verdict, r *result) {
	now := p.now()
	sch := p.policy.Schedule
	if (v.kind == retry || v.kind == throttled) && !now.Before(j.Deadline) {
		// Trouble, transient or not (revoked credentials, a removed
		// project), never outlasts the deadline: the request times out.
		p.log.WarnContext(ctx, "deadline passed while ECS kept failing", "error", v.err)
		v = verdict{kind: timedOut, status: troubledStatus(j.LastStatus)}
	}
	switch v.kind {
	case keepPolling:
		j.LastStatus = v.status
		at := next(now, j.Deadline, p.lookAfter(j, r), j.RecordID(), j.Attempts)
		p.log.DebugContext(ctx, "job running", "status", v.status, "polls", j.Attempts+1, "next_poll", at)
		p.reschedule(ctx, j, at, r)
	case retry:
		r.errors++
		p.log.WarnContext(ctx, "job not polled: ECS trouble", "error", v.err)
		p.reschedule(ctx, j, next(now, j.Deadline, sch.Retry, j.RecordID(), j.Attempts), r)
	case throttled:
		r.throttled = true
		until := now.Add(sch.Throttled)
		p.throttle.hold(j.ProjectID, until)
		p.log.WarnContext(ctx, "throttled: backing off the project", "project_id", j.ProjectID, "until", until, "error", v.err)
		p.reschedule(ctx, j, next(now, j.Deadline, sch.Throttled, j.RecordID(), j.Attempts), r)
	default:
		e, err := p.outcome(j, v, now)
		if err != nil {
			r.errors++
			p.log.ErrorContext(ctx, "build outcome event", "error", err)
			p.reschedule(ctx, j, next(now, time.Time{}, sch.Retry, j.RecordID(), j.Attempts), r)
			return
		}
		p.record(ctx, j, e, r)
	}
}

// lookAfter is how long after a look that found the job running the next
// look is due: the backstop while the list shows the server busy, since
// the list will show it settle when the job ends; otherwise the per-job
// schedule, since a job that has not visibly begun may end without
// changing the server at all (a stop refused by a locked server, a move
// that found no room).
func (p *Poller) lookAfter(j *ledger.Job, r *result) time.Duration {
	if p.policy.Bulk && busy(r.sight) {
		return p.policy.Schedule.Backstop
	}
	return p.policy.Schedule.Poll(j.Attempts)
}

// troubledStatus is the last status a request that timed out while ECS
// kept failing reports: the last status seen, if any.
func troubledStatus(last string) string {
	if last == "" {
		return "unknown: the ECS API kept failing"
	}
	return last + "; then the ECS API kept failing"
}

// originOf is what an outcome of the job's request copies from it.
func originOf(j *ledger.Job) events.Origin {
	target := j.Target
	o := events.Origin{
		RequestID: j.RequestID, RequestSource: j.RequestSource,
		ServerID: j.ServerID, ProjectID: j.ProjectID, Region: j.Region, Target: &target,
		TraceParent: j.TraceParent, TraceState: j.TraceState,
	}
	if j.Power != nil {
		o.Power = j.Power.Outcome() // terminal events say what was done
	}
	return o
}

// outcome builds the terminal event of a verdict from the job record.
func (p *Poller) outcome(j *ledger.Job, v verdict, at time.Time) (event.Event, error) {
	o := originOf(j)
	switch v.kind {
	case completed:
		return events.NewCompleted(o, j.JobID, false, at)
	case failed:
		return events.NewFailed(o, j.JobID, v.failure, at)
	default:
		return events.NewTimedOut(o, j.JobID, j.Deadline, v.status, at)
	}
}

// record stores the decided outcome in the job record, so that a crash
// after publishing re-publishes exactly these bytes, then delivers it.
func (p *Poller) record(ctx context.Context, j *ledger.Job, e event.Event, r *result) {
	raw, err := events.Structured(e)
	if err == nil {
		err = p.led.SetOutcome(ctx, j, raw)
	}
	switch {
	case errors.Is(err, ledger.ErrLeaseLost):
		r.leaseLost = true
		p.log.WarnContext(ctx, "lease lost before the outcome was recorded", "error", err)
		return
	case err != nil:
		r.errors++
		p.log.ErrorContext(ctx, "record outcome", "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
		return
	}
	p.crashAt(crashRecorded)
	p.deliver(ctx, j, r)
}

// deliver publishes the job's recorded outcome, exactly the bytes
// recorded, waits for JetStream's acknowledgement, finishes the request's
// claim with the same bytes, and only then removes the job and its server
// lock. A failure on the way leaves the record, outcome and all, for a
// later tick to deliver again; the event's id is the same then, so
// JetStream drops a copy it already has.
func (p *Poller) deliver(ctx context.Context, j *ledger.Job, r *result) {
	e, err := events.ParseStructured(j.Outcome)
	if err != nil {
		r.errors++
		p.log.ErrorContext(ctx, "recorded outcome does not parse", "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
		return
	}
	ctx = logging.With(ctx, slog.String(logging.KeyEventID, e.ID()))
	ack, err := p.pub.Publish(ctx, e)
	if err != nil {
		r.errors++
		p.log.ErrorContext(ctx, "publish outcome", "type", e.Type(), "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
		return
	}
	p.crashAt(crashPublished)
	r.outcome = e.Type()
	p.log.InfoContext(ctx, "outcome published", "type", e.Type(), "subject", ack.Subject,
		"sequence", ack.Sequence, "duplicate", ack.Duplicate, "republished", r.republished)

	err = p.led.FinishRequest(ctx, j.RequestKey, j.Outcome)
	switch {
	case errors.Is(err, ledger.ErrInvalidTransition), errors.Is(err, ledger.ErrNotFound):
		// The claim is finished with another outcome, or gone: nothing
		// waits for this one any more. The event is acknowledged, so the
		// record may go.
		r.errors++
		p.log.ErrorContext(ctx, "request claim not finished by this outcome", "request_key", j.RequestKey, "error", err)
	case err != nil:
		r.errors++
		p.log.ErrorContext(ctx, "finish request claim", "request_key", j.RequestKey, "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
		return
	}
	p.crashAt(crashFinished)

	err = p.led.Remove(ctx, j)
	switch {
	case err == nil:
	case errors.Is(err, ledger.ErrLockLeft):
		p.log.WarnContext(ctx, "job removed, server lock left for the next request to recover", "error", err)
	case errors.Is(err, ledger.ErrLeaseLost):
		r.leaseLost = true
		p.log.WarnContext(ctx, "lease lost before the job was removed", "error", err)
	default:
		r.errors++
		p.log.ErrorContext(ctx, "remove job", "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
	}
}

// retryAt is when a job whose outcome could not be delivered is tried
// again.
func (p *Poller) retryAt(j *ledger.Job) time.Time {
	return next(p.now(), time.Time{}, p.policy.Schedule.Retry, j.RecordID(), j.Attempts)
}

// reschedule ends the lease and sets the job's next poll time.
func (p *Poller) reschedule(ctx context.Context, j *ledger.Job, at time.Time, r *result) {
	err := p.led.Reschedule(ctx, j, at)
	switch {
	case err == nil:
		r.rescheduled = true
	case errors.Is(err, ledger.ErrLeaseLost):
		r.leaseLost = true
		p.log.WarnContext(ctx, "lease lost before the job was rescheduled", "error", err)
	default:
		r.errors++
		p.log.ErrorContext(ctx, "reschedule job", "error", err)
	}
}
