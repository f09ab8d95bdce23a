package platform

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ledger"
)

// Open connects to NATS, makes sure the stream exists (logging a warning
// when its duplicate window is shorter than coldmove relies on) and opens
// the ledger. On failure nothing is left open.
func Open(ctx context.Context, bc bus.Config, lc ledger.Config, log *slog.Logger, opts ...ledger.Option) (*bus.Bus, *ledger.Ledger, error) {
	b, err := bus.Connect(ctx, bc,
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: a drain or close of our own
				log.Warn("NATS connection lost; reconnecting", "error", err, "max_reconnects", bc.MaxReconnects)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("NATS reconnected", "nats", bus.RedactURL(nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			log.Info("NATS connection closed")
		}))
	if err != nil {
		return nil, nil, err
	}
	// The stream and the ledger are independent: check both at once (a
	// cold start waits for the slower only).
	var (
		l      *ledger.Ledger
		ledErr error
		done   = make(chan struct{})
	)
	go func() {
		defer close(done)
		l, ledErr = ledger.Open(ctx, b.JetStream(), lc, opts...)
	}()
	st, err := b.EnsureStream(ctx)
	<-done
	if err == nil && ledErr != nil {
		err = fmt.Errorf("open the ledger: %w", ledErr)
	}
	if err != nil {
		Drain(b, time.Second, log)
		return nil, nil, err
	}
	if st.DuplicatesTooShort() {
		log.WarnContext(ctx, "the stream's duplicate window is shorter than coldmove relies on: a re-published outcome may be stored twice",
			"stream", st.Name, "duplicates", st.Duplicates.String(), "minimum", bus.MinDuplicates.String())
	}
	log.InfoContext(ctx, "connected", "nats", bus.RedactURL(bc.URL), "stream", st.Name, "stream_created", st.Created,
		"ledger", lc.Bucket, "owner", l.Owner())
	return b, l, nil
}

// Drain drains the NATS connection, so that pending publishes are
// flushed, waiting at most d.
func Drain(b *bus.Bus, d time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		log.Warn("NATS drain", "error", err)
		return
	}
	log.Info("NATS drained")
}
