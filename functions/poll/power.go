package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// Power steps (design.md, "Power"). A request with power steps has one job
// record for all its calls (ledger.Job.Power). migrate makes the first call
// (the stop of a running server, or the move of a stopped one); poll makes
// every later one, because it is the one that sees each call end: the move
// once the stop is verified done, and — with restart, when coldmove stopped
// the server — the start once the move ended, completed or failed.
//
// Every call follows the migrate call's rules: the record names the call
// (PowerState.Next) before it is sent, so a poller that finds it named but
// not made knows it may have been sent and never sends it again — it
// follows the server's state instead; a call the client reports as not
// processed (throttled, refused before it was written) leaves the record
// as it was, for the next tick to try again. The server lock is held until
// the terminal event, which carries what was done to the server's power.

// advancePower takes a leased record of a request with power steps as far
// as it goes in this tick.
func (p *Poller) advancePower(ctx, apiCtx context.Context, j *ledger.Job, r *result) {
	ps := j.Power
	p.announce(ctx, j)
	if ps.Next != "" {
		// The previous poller named this call and stopped: it may have
		// been sent. Follow the server instead of a job.
		p.log.WarnContext(ctx, "a call may have been sent by a poller that stopped; following the server", "call", string(ps.Next))
		ps.Call, ps.Next, j.JobID = ps.Next, "", ""
		if ps.Call == ledger.CallStart {
			ps.StartJobID = ""
		}
	}
	switch ps.Call {
	case ledger.CallStop:
		p.powerStop(ctx, apiCtx, j, r)
	case ledger.CallStart:
		p.powerStart(ctx, apiCtx, j, r)
	default:
		p.powerMove(ctx, apiCtx, j, r)
	}
}

// powerStop follows the stop coldmove submitted: done once the server is
// SHUTOFF and idle, then the move is submitted.
func (p *Poller) powerStop(ctx, apiCtx context.Context, j *ledger.Job, r *result) {
	ps := j.Power
	v := p.decideStop(apiCtx, j, r.sight)
	p.crashAt(crashPolled)
	switch v.kind {
	case completed:
		ps.Stopped = true
		if j.JobID != "" {
			ps.StopJobID = j.JobID
		}
		ps.Announce = append(ps.Announce, string(events.StepStopped))
		if !p.now().Before(j.Deadline) {
			// Stopped too late: no move after the deadline. The server is
			// started again when asked, and the request ends stop_failed.
			ps.Move = &ledger.MoveResult{Type: events.TypeFailed, Failure: &events.Failure{Reason: events.FailStopFailed,
				Message: fmt.Sprintf("the stop of server %s finished after the deadline %s; nothing was migrated",
					j.ServerID, j.Deadline.Format(time.RFC3339))}}
			p.afterMove(ctx, apiCtx, j, r)
			return
		}
		p.callNext(ctx, apiCtx, j, ledger.CallMigrate, r)
	case failed:
		v.failure.Reason = events.FailStopFailed
		p.finishPower(ctx, j, verdict{kind: failed, status: v.status, failure: v.failure}, r)
	default:
		if !p.now().Before(j.Deadline) {
			p.finishPower(ctx, j, verdict{kind: failed, status: v.status, failure: events.Failure{Reason: events.FailStopFailed,
				Message: fmt.Sprintf("the stop of server %s did not finish by the deadline %s (last seen %s); nothing was migrated",
					j.ServerID, j.Deadline.Format(time.RFC3339), orNever(v.status))}}, r)
			return
		}
		p.act(ctx, j, v, r)
	}
}

// powerMove follows the move, as for any request; once it ended, the start
// follows when coldmove stopped the server and a restart was asked.
func (p *Poller) powerMove(ctx, apiCtx context.Context, j *ledger.Job, r *result) {
	ps := j.Power
	if ps.Move == nil {
		v := p.decide(apiCtx, j, r.sight)
		p.crashAt(crashPolled)
		if (v.kind == retry || v.kind == throttled || v.kind == keepPolling) && !p.now().Before(j.Deadline) {
			v = verdict{kind: timedOut, status: troubledOrLast(v, j)}
		}
		switch v.kind {
		case completed, failed, timedOut:
			ps.Move = moveResult(v)
		default:
			p.act(ctx, j, v, r)
			return
		}
	}
	p.afterMove(ctx, apiCtx, j, r)
}

// afterMove follows a move that ended (ps.Move): the start when coldmove
// stopped the server and a restart was asked — also at or past the
// deadline, so that a server coldmove stopped is not left stopped — or
// else the request's end.
func (p *Poller) afterMove(ctx, apiCtx context.Context, j *ledger.Job, r *result) {
	if ps := j.Power; ps.Restart && ps.Stopped {
		p.callNext(ctx, apiCtx, j, ledger.CallStart, r)
		return
	}
	p.finishPower(ctx, j, verdict{}, r)
}

// troubledOrLast is the last status of a move that times out: the job's
// status, or that the API kept failing.
func troubledOrLast(v verdict, j *ledger.Job) string {
	if v.kind == keepPolling {
		return v.status
	}
	return troubledStatus(j.LastStatus)
}

// moveResult keeps how a move ended while the start after it runs.
func moveResult(v verdict) *ledger.MoveResult {
	switch v.kind {
	case completed:
		return &ledger.MoveResult{Type: events.TypeCompleted}
	case failed:
		f := v.failure
		return &ledger.MoveResult{Type: events.TypeFailed, Failure: &f}
	}
	return &ledger.MoveResult{Type: events.TypeTimedOut, LastStatus: v.status}
}

// powerStart follows the start coldmove submitted after the move: done once
// the server is ACTIVE and idle. The request then ends as the move did; a
// start that fails (or does not finish by the deadline) after a good move
// ends failed/restart_failed with the placement verified.
func (p *Poller) powerStart(ctx, apiCtx context.Context, j *ledger.Job, r *result) {
	ps := j.Power
	v := p.decideStart(apiCtx, j, r.sight)
	p.crashAt(crashPolled)
	switch v.kind {
	case completed:
		ps.Restarted = true
		ps.Announce = append(ps.Announce, string(events.StepStarted))
		// Recorded before it is announced, as every call is: a poller
		// that stops after announcing "started" leaves a record that
		// knows it, whatever the next poller can still verify.
		if err := p.led.Update(ctx, j); err != nil {
			p.lost(ctx, err, r)
			return
		}
		p.announce(ctx, j)
		p.finishPower(ctx, j, verdict{}, r)
	case failed:
		p.finishPower(ctx, j, verdict{kind: failed, status: v.status, failure: v.failure}, r)
	default:
		if !p.now().Before(j.Deadline) {
			// The start is not verified by the deadline: the request ends
			// as its move did, with restarted false and the start's job id
			// to follow.
			p.log.WarnContext(ctx, "the deadline passed before the start was verified", "last_status", v.status)
			p.finishPower(ctx, j, verdict{}, r)
			return
		}
		p.act(ctx, j, v, r)
	}
}

// decideStop asks ECS how the stop is doing: completed when the server is
// verified stopped, failed when the stop job failed or the server is gone.
func (p *Poller) decideStop(ctx context.Context, j *ledger.Job, sg sight) verdict {
	return p.decidePower(ctx, j, sg, "stop", "SHUTOFF", "; nothing was migrated")
}

// decideStart asks ECS how the start is doing: completed when the server
// is verified running, failed when the start job failed or the server is
// gone.
func (p *Poller) decideStart(ctx context.Context, j *ledger.Job, sg sight) verdict {
	return p.decidePower(ctx, j, sg, "start", "ACTIVE", "")
}

// decidePower asks ECS how a power call (what: "stop" or "start") is
// doing. Its job, when known, says whether it failed or still runs (a job
// purged or never known leaves it to the server); the server then says
// whether it is done: in status want and idle.
func (p *Poller) decidePower(ctx context.Context, j *ledger.Job, sg sight, what, want, failNote string) verdict {
	if j.JobID != "" {
		job, err := p.ecs.ShowJob(ctx, j.Region, j.ProjectID, j.JobID)
		switch {
		case errors.Is(err, ecsclient.ErrJobNotFound):
		case err != nil:
			return trouble(err, j.LastStatus)
		case job.Status == ecsclient.JobFail:
			f := jobFailure(job)
			f.Message = "the " + what + " " + f.Message[len("job "):] + failNote
			return verdict{kind: failed, status: string(job.Status), failure: f}
		case job.Status != ecsclient.JobSuccess:
			return verdict{kind: keepPolling, status: what + " " + string(job.Status)}
		}
	}
	srv, err := p.server(ctx, j, sg)
	switch {
	case errors.Is(err, ecsclient.ErrServerNotFound):
		return verdict{kind: failed, status: what + ": server not found", failure: serverGone(j)}
	case err != nil:
		return trouble(err, j.LastStatus)
	}
	status := what + ": server " + srv.State()
	if srv.Status == want && !srv.Busy() {
		return verdict{kind: completed, status: status}
	}
	return verdict{kind: keepPolling, status: status}
}

// callNext makes the next call of a request with power steps: the record
// names it first (written under the lease), so that it is never sent
// twice; then the call; then the record follows its job.
func (p *Poller) callNext(ctx, apiCtx context.Context, j *ledger.Job, call ledger.Call, r *result) {
	ps := j.Power
	ps.Next = call
	if err := p.led.Update(ctx, j); err != nil {
		p.lost(ctx, err, r)
		return
	}
	p.crashAt(crashNamed)
	p.announce(ctx, j)
	var jobID string
	var err error
	if call == ledger.CallMigrate {
		jobID, err = p.ecs.MigrateServer(apiCtx, j.Region, j.ProjectID, j.ServerID, ecsclient.Target{DedicatedHostID: j.Target.DedicatedHostID})
	} else {
		jobID, err = p.ecs.StartServer(apiCtx, j.Region, j.ProjectID, j.ServerID)
	}
	p.crashAt(crashCalled)
	now := p.now()
	switch {
	case err == nil, errors.Is(err, ecsclient.ErrOutcomeUnknown):
		if err != nil {
			p.log.WarnContext(ctx, "call sent but its answer was lost; following the server", "call", string(call), "error", err)
		}
		ps.Call, ps.Next, j.JobID, j.LastStatus = call, "", jobID, ""
		if call == ledger.CallMigrate {
			ps.MoveJobID = jobID
			if jobID != "" {
				ps.Announce = append(ps.Announce, "accepted")
			}
		} else {
			ps.StartJobID = jobID
			if jobID != "" {
				ps.Announce = append(ps.Announce, string(events.StepStartSubmitted))
			}
		}
		p.log.InfoContext(ctx, "call submitted", "call", string(call), "job", jobID)
		// The record follows the call's job before anything announces
		// it: a poller that stopped after announcing must leave a record
		// that knows the job the stream names, not one that says the
		// call may have been sent and follows the server instead.
		if err := p.led.Update(ctx, j); err != nil {
			p.lost(ctx, err, r)
			return
		}
		p.crashAt(crashSubmitted)
		p.announce(ctx, j)
		p.reschedule(ctx, j, next(now, j.Deadline, p.policy.Schedule.First, j.RecordID(), 0), r)
	case ecsclient.IsTransient(err), errors.Is(err, ecsclient.ErrBusy):
		// Not processed: the next tick tries again from where this one
		// started — unless the deadline passed, which ends the request.
		ps.Next = ""
		r.errors++
		p.log.WarnContext(ctx, "call not made: ECS trouble", "call", string(call), "error", err)
		if !now.Before(j.Deadline) {
			if call == ledger.CallMigrate {
				ps.Move = &ledger.MoveResult{Type: events.TypeTimedOut, LastStatus: "stopped; the move could not be submitted before the deadline"}
				p.afterMove(ctx, apiCtx, j, r)
				return
			}
			p.log.ErrorContext(ctx, "the deadline passed and the start could not be sent: the server stays stopped", "error", err)
			p.finishPower(ctx, j, verdict{}, r)
			return
		}
		p.reschedule(ctx, j, next(now, j.Deadline, p.policy.Schedule.Retry, j.RecordID(), j.Attempts), r)
	default:
		// The API refused the call: it was not processed.
		ps.Next = ""
		p.refused(ctx, apiCtx, j, call, err, r)
	}
}

// refused ends the step whose call the API refused: a move refused after
// the stop is the move's rejection (then the start, when asked); a start
// refused is the start's failure.
func (p *Poller) refused(ctx, apiCtx context.Context, j *ledger.Job, call ledger.Call, err error, r *result) {
	ps := j.Power
	msg := err.Error()
	code := ""
	if ae, ok := errors.AsType[*ecsclient.APIError](err); ok {
		code, msg = ae.Code, ae.Message
	}
	p.log.WarnContext(ctx, "the API refused the call", "call", string(call), "error", err)
	if call == ledger.CallMigrate {
		rej := events.Rejection{Reason: events.RejectAPIRefused, Message: "the ECS API refused the migrate call after the stop: " + msg,
			APIErrorCode: code, APIErrorMessage: msg}
		if errors.Is(err, ecsclient.ErrAuthFailed) {
			rej.Reason = events.RejectUnauthorized
		}
		ps.Move = &ledger.MoveResult{Type: events.TypeRejected, Rejection: &rej}
		p.afterMove(ctx, apiCtx, j, r)
		return
	}
	p.finishPower(ctx, j, verdict{kind: failed, failure: events.Failure{ErrorCode: code,
		Message: "the ECS API refused the start after the move: " + msg}}, r)
}

// finishPower ends a request with power steps. With a zero verdict it ends
// as its move did; a failed verdict is a failed stop (reason stop_failed)
// or start (reason left empty here: restart_failed after a good move, the
// move's own failure otherwise).
func (p *Poller) finishPower(ctx context.Context, j *ledger.Job, v verdict, r *result) {
	ps := j.Power
	p.announce(ctx, j)
	o := originOf(j)
	now := p.now()
	var e event.Event
	var err error
	switch {
	case v.kind == failed && v.failure.Reason == events.FailStopFailed:
		e, err = events.NewFailed(o, "", v.failure, now)
	case v.kind == failed && ps.Move != nil && ps.Move.Type == events.TypeCompleted:
		f := v.failure
		f.Reason, f.PlacementVerified = events.FailRestartFailed, true
		e, err = events.NewFailed(o, ps.MoveJobID, f, now)
	case ps.Move == nil:
		err = errors.New("no move to end the request with")
	default:
		e, err = moveEvent(o, j, ps.Move, now)
	}
	if err != nil {
		r.errors++
		p.log.ErrorContext(ctx, "build the terminal event of a request with power steps", "error", err)
		p.reschedule(ctx, j, p.retryAt(j), r)
		return
	}
	p.record(ctx, j, e, r)
}

// moveEvent is the terminal event of the move as it ended.
func moveEvent(o events.Origin, j *ledger.Job, m *ledger.MoveResult, at time.Time) (event.Event, error) {
	job := j.Power.MoveJobID
	switch m.Type {
	case events.TypeCompleted:
		return events.NewCompleted(o, job, false, at)
	case events.TypeFailed:
		return events.NewFailed(o, job, *m.Failure, at)
	case events.TypeRejected:
		return events.NewRejected(o, *m.Rejection, at)
	}
	return events.NewTimedOut(o, job, j.Deadline, m.LastStatus, at)
}

// announce publishes the events of the steps done that are still to be
// published (PowerState.Announce), and forgets those JetStream
// acknowledged; the record keeps the others for the next write.
func (p *Poller) announce(ctx context.Context, j *ledger.Job) {
	ps := j.Power
	var left []string
	for _, a := range ps.Announce {
		e, err := p.announcement(j, a)
		if err == nil {
			_, err = p.pub.Publish(ctx, e)
		}
		if err != nil {
			p.log.WarnContext(ctx, "announcement not published; the next poll publishes it", "event", a, "error", err)
			left = append(left, a)
			continue
		}
		p.crashAt(crashAnnounced)
		p.log.InfoContext(ctx, "power step announced", "event", a)
	}
	ps.Announce = left
}

// announcement builds the event of a step done.
func (p *Poller) announcement(j *ledger.Job, a string) (event.Event, error) {
	o, ps, now := originOf(j), j.Power, p.now()
	switch a {
	case "accepted":
		return events.NewAccepted(o, ps.MoveJobID, j.Deadline, now)
	case string(events.StepStopped):
		return events.NewProgressed(o, events.StepStopped, ps.StopJobID, now)
	case string(events.StepStartSubmitted), string(events.StepStarted):
		return events.NewProgressed(o, events.Step(a), ps.StartJobID, now)
	}
	return event.Event{}, fmt.Errorf("unknown announcement %q", a)
}

// lost handles a failed write of a leased record.
func (p *Poller) lost(ctx context.Context, err error, r *result) {
	if errors.Is(err, ledger.ErrLeaseLost) {
		r.leaseLost = true
		p.log.WarnContext(ctx, "lease lost", "error", err)
		return
	}
	r.errors++
	p.log.ErrorContext(ctx, "update job", "error", err)
}
