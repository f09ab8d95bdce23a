package main

import (
	"context"
	"log/slog"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/logging"
)

// consume handles requests from the durable JetStream consumer until ctx
// ends.
func consume(ctx context.Context, b *bus.Bus, h *Handler, log *slog.Logger) error {
	return b.Consume(ctx, func(ctx context.Context, d *bus.Delivery) bus.Result {
		return verdict(ctx, h.HandleDelivery(ctx, d.Subject, d.Header, d.Data), d, log)
	}, bus.OnError(func(err error) { log.WarnContext(ctx, "request consumer", "error", err) }))
}

// verdict turns an outcome into what becomes of the message.
func verdict(ctx context.Context, o Outcome, d *bus.Delivery, log *slog.Logger) bus.Result {
	switch {
	case o.Retryable():
		if d.LastAttempt {
			// No delivery follows. Another owner may still finish the
			// request (in_progress); otherwise an operator must look.
			log.ErrorContext(ctx, "request given up after its last delivery", logging.KeyEventID, o.RequestID,
				logging.KeyServerID, o.ServerID, "reason", o.Reason, "deliveries", d.NumDelivered, "error", o.Message)
		}
		return bus.Retry(o.RetryAfter)
	case o.invalidInput():
		return bus.Terminate("rejected: " + o.Reason)
	default:
		return bus.Ack()
	}
}
