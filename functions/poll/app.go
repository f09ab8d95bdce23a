package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ledger"
)

// app is the process: clients built once (a warm Lambda reuses them) and
// the poller over them.
type app struct {
	cfg    *Config
	bus    *bus.Bus
	poller *Poller
	log    *slog.Logger
	exit   func(code int)
}

// start connects to NATS, makes sure the stream exists (warning when its
// duplicate window is too short to catch re-published outcomes), opens
// the ledger and builds the ECS clients.
func start(ctx context.Context, cfg *Config, log *slog.Logger) (*app, error) {
	b, err := bus.Connect(ctx, cfg.BusConfig)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, bus: b, log: log, exit: os.Exit}
	st, err := b.EnsureStream(ctx)
	if err != nil {
		a.drain(time.Second)
		return nil, err
	}
	if st.DuplicatesTooShort() {
		log.WarnContext(ctx, "stream duplicate window is shorter than coldmove needs: a re-published outcome may be stored twice",
			"stream", st.Name, "duplicates", st.Duplicates.String(), "minimum", bus.MinDuplicates.String())
	}
	led, err := ledger.Open(ctx, b.JetStream(), cfg.LedgerConfig)
	if err != nil {
		a.drain(time.Second)
		return nil, err
	}
	ecs, err := newECS(cfg)
	if err != nil {
		a.drain(time.Second)
		return nil, err
	}
	a.poller = NewPoller(ecs, b, led, DefaultPolicy(cfg.Concurrency), WithLogger(log))
	log.InfoContext(ctx, "poll ready", "config", cfg, "stream", st.Name, "stream_created", st.Created, "ledger_owner", led.Owner())
	return a, nil
}

// tick runs one tick and logs its summary as one line.
func (a *app) tick(ctx context.Context, t Trigger) (Summary, error) {
	s, err := a.poller.Tick(ctx)
	if err != nil {
		a.log.ErrorContext(ctx, "tick", "trigger", t, "summary", s, "error", err)
		return s, err
	}
	a.log.InfoContext(ctx, "tick", "trigger", t, "summary", s)
	return s, nil
}

// drain drains the NATS connection, waiting at most d.
func (a *app) drain(d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	if err := a.bus.Close(ctx); err != nil {
		a.log.Warn("drain NATS", "error", err)
		return
	}
	a.log.Info("NATS drained")
}
