package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/platform"
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
	b, led, err := platform.Open(ctx, cfg.BusConfig, cfg.LedgerConfig, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, bus: b, log: log, exit: os.Exit}
	ecs, err := newECS(cfg)
	if err != nil {
		a.drain(time.Second)
		return nil, err
	}
	a.poller = NewPoller(ecs, b, led, DefaultPolicy(cfg.Concurrency), WithLogger(log))
	log.InfoContext(ctx, "poll ready", "config", cfg)
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
func (a *app) drain(d time.Duration) { platform.Drain(a.bus, d, a.log) }
