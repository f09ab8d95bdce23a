package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
)

// Power steps (design.md, "Power"): a request with power.stop whose server
// is running is stopped first. migrate makes that first call — the stop —
// under the same rules as the migrate call (the claim records it before it
// is sent; an unknown outcome is never sent again), announces it with a
// progressed event, and records the request's one job record, which
// follows the stop. The poll function makes every later call: it sees the
// stop done, then submits the migrate call, and after the move, with
// power.restart, the start. Poll makes them because it is the one that
// sees each call end, in every runtime (a Lambda schedule or a ticker);
// migrate only ever answers a request as it arrives. The server lock is
// held from the first call to the terminal event.

// stoppable reports whether a server can be stopped for a request: running
// and idle. A server in the middle of something (powering-off, a resize)
// is left alone, and the request rejected.
func stoppable(s *ecsclient.Server) bool { return s.Status == "ACTIVE" && s.TaskState == "" }

// stopping records a submitted stop and announces it: the claim first
// (with the progressed event, re-published for duplicates as an accepted
// event is), then the request's record for poll, then the event.
func (h *Handler) stopping(ctx context.Context, r *request, jobID string) Outcome {
	ctx = logging.With(ctx, slog.String(logging.KeyJobID, jobID))
	e, err := events.NewProgressed(r.origin, events.StepStopSubmitted, jobID, h.now())
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("build progressed event: %w", err))
	}
	js, err := events.Structured(e)
	if err != nil {
		return h.internal(ctx, r, fmt.Errorf("encode progressed event: %w", err))
	}
	if err := h.persist(ctx, func(ctx context.Context) error { return h.ledger.MarkSubmitted(ctx, r.claim, jobID, js) }); err != nil {
		h.log.ErrorContext(ctx, "stop submitted but its job id could not be recorded", "error", err)
		return h.retry(ctx, r, "ledger_unavailable", fmt.Errorf("mark submitted: %w", err), 0)
	}
	if err := h.recordJob(ctx, r, jobID); err != nil {
		return h.retry(ctx, r, "ledger_unavailable", err, 0)
	}
	h.log.InfoContext(ctx, "stop submitted before the move", "stop", string(r.p.Power.Stop), "deadline", r.deadline)
	o := h.publish(ctx, r, e, StatusStopping)
	if !o.Retryable() {
		h.markAcceptedPublished(ctx, r)
	}
	return o
}
