package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// busyRetry is how long to wait after Ecs.0603, which asks for a minute.
const busyRetry = time.Minute

// lockRetry is how long a request waits for another that holds its server
// but has not submitted anything yet.
const lockRetry = 2 * time.Second

func orUnknown(s string) string {
	if s == "" {
		return "state unknown"
	}
	return s
}

// submit runs a claimed request on which nothing was sent: lock the
// server, check it, and call MigrateServer once.
func (h *Handler) submit(ctx context.Context, r *request) Outcome {
	lk, err := h.ledger.AcquireLock(ctx, r.claim)
	if holder, ok := errors.AsType[*ledger.LockedError](err); ok {
		switch holder.HolderState {
		case ledger.StateSubmitting, ledger.StateSubmitted:
			return h.reject(ctx, r, events.Rejection{
				Reason:  events.RejectMigrationInProgress,
				Message: fmt.Sprintf("server %s is being moved by request %s from %s", r.p.ServerID, holder.Holder.RequestID, holder.Holder.Source),
			})
		}
		// The holder is still in its pre-flight (or is finishing): it may
		// end without moving anything, so this request waits its turn.
		return h.abandon(ctx, r, "server_busy", fmt.Errorf("server %s is held by request %s (%s)",
			r.p.ServerID, holder.Holder.RequestID, orUnknown(string(holder.HolderState))), lockRetry)
	}
	if err != nil {
		return h.abandon(ctx, r, "ledger_unavailable", fmt.Errorf("lock server: %w", err), 0)
	}
	r.lock = lk
	h.crashAt(crashLocked)

	ecs, err := h.ecs(r.origin.Region)
	if err != nil {
		// The region was validated; a client that cannot be built is a
		// configuration problem the operator must fix, not the request's.
		return h.abandon(ctx, r, "ecs_unavailable", err, 0)
	}
	apiCtx, cancel := h.apiContext(ctx)
	defer cancel()

	srv, err := ecs.ShowServer(apiCtx, r.origin.ProjectID, r.p.ServerID)
	if err != nil {
		if errors.Is(err, ecsclient.ErrAuthFailed) {
			return h.unauthorized(ctx, r, err)
		}
		if rej, ok := refusal(err); ok {
			return h.reject(ctx, r, rej)
		}
		return h.abandon(ctx, r, "api_unavailable", fmt.Errorf("show server: %w", err), 0)
	}
	h.crashAt(crashPreflight)
	if srv.On(r.p.Target.DedicatedHostID) {
		return h.complete(ctx, r)
	}
	if rej, ok := preflight(srv); !ok {
		// Everything else checked, a running server is stopped first when
		// the request asks for it; otherwise it is rejected.
		if rej.Reason != events.RejectServerNotStopped || r.p.Power == nil || !stoppable(srv) {
			return h.reject(ctx, r, rej)
		}
		r.call = ledger.CallStop
	}

	if err := h.ledger.MarkCalling(ctx, r.claim, r.call); err != nil {
		return h.abandon(ctx, r, "ledger_unavailable", fmt.Errorf("mark submitting: %w", err), 0)
	}
	h.crashAt(crashSubmitting)
	var jobID string
	if r.call == ledger.CallStop {
		jobID, err = ecs.BatchStopServers(apiCtx, r.origin.ProjectID, []string{r.p.ServerID}, r.p.Power.Stop == events.StopHard)
	} else {
		jobID, err = ecs.MigrateServer(apiCtx, r.origin.ProjectID, r.p.ServerID, ecsclient.Target{DedicatedHostID: r.p.Target.DedicatedHostID})
	}
	h.crashAt(crashAnswered)
	switch {
	case err == nil && r.call == ledger.CallStop:
		return h.stopping(ctx, r, jobID)
	case err == nil:
		return h.accept(ctx, r, jobID)
	case errors.Is(err, ecsclient.ErrOutcomeUnknown):
		h.log.WarnContext(ctx, "call sent but its answer was lost", "call", string(r.call), "error", err)
		return h.track(ctx, r, "the "+string(r.call)+" call was sent but its answer was lost")
	case errors.Is(err, ecsclient.ErrBusy):
		return h.abandon(ctx, r, "server_busy", fmt.Errorf("%s server: %w", r.call, err), busyRetry)
	case errors.Is(err, ecsclient.ErrAuthFailed):
		// Refused at the gateway: not processed.
		return h.unauthorized(ctx, r, err)
	case ecsclient.IsTransient(err):
		// Provably not processed (the client re-sends a POST only in
		// that case and reports anything else as an unknown outcome).
		return h.abandon(ctx, r, "api_unavailable", fmt.Errorf("%s server: %w", r.call, err), 0)
	}
	if rej, ok := refusal(err); ok {
		return h.reject(ctx, r, rej)
	}
	// An answer the client could not classify: it was an answer, so the
	// API refused the call.
	return h.reject(ctx, r, events.Rejection{Reason: events.RejectAPIRefused, Message: err.Error()})
}

// unauthorized ends a request the API refused because of coldmove's own
// credentials (401 APIGW.0301 and the like): retrying cannot help, so it
// is rejected at once, and the operator is told which key to fix.
func (h *Handler) unauthorized(ctx context.Context, r *request, err error) Outcome {
	rej := events.Rejection{Reason: events.RejectUnauthorized,
		Message: "the ECS API refused coldmove's credentials; an operator must fix HUAWEICLOUD_SDK_AK/SK (or the security token)"}
	if ae, ok := errors.AsType[*ecsclient.APIError](err); ok {
		rej.APIErrorCode, rej.APIErrorMessage, rej.APIRequestID = ae.Code, ae.Message, ae.RequestID
	}
	h.log.ErrorContext(ctx, "the ECS API refused coldmove's credentials", "access_key", h.accessKey,
		"api_error_code", rej.APIErrorCode, "error", err)
	return h.reject(ctx, r, rej)
}

// accept records a submitted job and announces it: the claim first (so the
// job id is never lost), then the job record, then the accepted event.
func (h *Handler) accept(ctx context.Context, r *request, jobID string) Outcome {
	ctx = logging.With(ctx, slog.String(logging.KeyJobID, jobID))
	e, err := events.NewAccepted(r.origin, jobID, r.deadline, h.now())
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("build accepted event: %w", err))
	}
	js, err := events.Structured(e)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("encode accepted event: %w", err))
	}
	if err := h.persist(ctx, func(ctx context.Context) error { return h.ledger.MarkSubmitted(ctx, r.claim, jobID, js) }); err != nil {
		// The migration runs, but the ledger did not take the job id. The
		// claim stays "submitting": a redelivery takes it over when it is
		// stale and tracks the server instead of the job.
		h.log.ErrorContext(ctx, "migration submitted but the job id could not be recorded", "error", err)
		return h.retry(ctx, r, "ledger_unavailable", fmt.Errorf("mark submitted: %w", err), 0)
	}
	if err := h.recordJob(ctx, r, jobID); err != nil {
		return h.retry(ctx, r, "ledger_unavailable", err, 0)
	}
	h.log.InfoContext(ctx, "migration submitted", "target", r.p.Target.String(), "deadline", r.deadline)
	o := h.publish(ctx, r, e, StatusAccepted)
	if !o.Retryable() {
		h.markAcceptedPublished(ctx, r)
	}
	return o
}

// track records a request whose migrate call may have been sent without a
// job id to follow: the poll function watches the server instead.
func (h *Handler) track(ctx context.Context, r *request, why string) Outcome {
	if err := h.persist(ctx, func(ctx context.Context) error { return h.ledger.MarkSubmittedUnknown(ctx, r.claim) }); err != nil {
		return h.retry(ctx, r, "ledger_unavailable", fmt.Errorf("mark submitted (job unknown): %w", err), 0)
	}
	if err := h.recordJob(ctx, r, ""); err != nil {
		return h.retry(ctx, r, "ledger_unavailable", err, 0)
	}
	h.log.InfoContext(ctx, "tracking the server: "+why)
	return Outcome{Status: StatusTracking, Reason: "outcome_unknown", Message: why, RequestID: r.p.ID, ServerID: r.p.ServerID}
}

// recordJob writes the job record poll follows (idempotent for a
// request), then drops the pending record it replaces.
func (h *Handler) recordJob(ctx context.Context, r *request, jobID string) error {
	if _, err := h.ledger.RecordJob(ctx, h.jobOf(r, jobID)); err != nil {
		return fmt.Errorf("record job: %w", err)
	}
	h.dropPending(ctx, r)
	h.crashAt(crashRecorded)
	return nil
}

// jobOf is the job record of the request: of jobID, or without one a
// watch job (or, for RecordPending, its pending record). A request with
// power steps has one record for all its calls, following r.call first.
func (h *Handler) jobOf(r *request, jobID string) ledger.Job {
	j := ledger.Job{
		JobID: jobID, RequestID: r.p.ID, RequestSource: r.p.Source, RequestKey: r.p.Key(),
		ProjectID: r.origin.ProjectID, Region: r.origin.Region, ServerID: r.p.ServerID, Target: *r.p.Target,
		TraceParent: r.p.TraceParent, TraceState: r.p.TraceState,
		Deadline: r.deadline, NextPoll: firstLook(h.now(), h.firstPoll, r.deadline),
	}
	if pw := r.p.Power; pw != nil {
		j.Power = &ledger.PowerState{Stop: pw.Stop, Restart: pw.Restart, Call: r.call}
		if r.call == ledger.CallStop {
			j.Power.StopJobID = jobID
		} else {
			j.Power.MoveJobID = jobID
		}
	}
	return j
}

// firstLook is when poll first looks at a new job: after the first poll
// delay, but not after the deadline, so that a short deadline is noticed
// when it passes.
func firstLook(now time.Time, delay time.Duration, deadline time.Time) time.Time {
	if t := now.Add(delay); t.Before(deadline) {
		return t
	}
	return deadline
}

// persist runs a ledger write that must not be lost, retrying a few times
// while ctx allows (the ledger may be failing over).
func (h *Handler) persist(ctx context.Context, write func(context.Context) error) error {
	var err error
	delay := 50 * time.Millisecond
	for attempt := range 4 {
		if err = write(ctx); err == nil || errors.Is(err, ledger.ErrInvalidTransition) || errors.Is(err, ledger.ErrConflict) {
			return err
		}
		if attempt == 3 {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		delay *= 2
	}
	return err
}
