package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/platform"
)

// app is the process: clients built once (a warm Lambda reuses them) and
// the poller over them.
type app struct {
	cfg    Config
	bus    *bus.Bus
	poller *Poller
	log    *slog.Logger
}

var _ platform.Service[json.RawMessage, Summary] = (*app)(nil)

// Bus returns the NATS connection, drained when the process stops.
func (a *app) Bus() *bus.Bus { return a.bus }

// start builds the ECS clients, connects to NATS, makes sure the stream
// exists (warning when its duplicate window is too short to catch
// re-published outcomes) and opens the ledger.
func start(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	ecs, err := newECS(cfg)
	if err != nil {
		return nil, err
	}
	b, led, err := platform.Open(ctx, cfg.Bus, cfg.Ledger, log)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, bus: b, log: log}
	policy := DefaultPolicy(cfg.Concurrency)
	policy.Limiter = ecs.pool.Limiter()
	a.poller = NewPoller(ecs, b, led, policy, WithLogger(log))
	log.InfoContext(ctx, "connected", "region", cfg.ECS.Region, "project_id", cfg.ECS.ProjectID,
		"interval", cfg.Interval.String(), "concurrency", cfg.Concurrency, "api_rate", cfg.ECS.Rate)
	return a, nil
}

// tick runs one tick and logs its summary as one line: at info when it
// did something, at debug when there was nothing to do.
func (a *app) tick(ctx context.Context, t Trigger) (Summary, error) {
	s, err := a.poller.Tick(ctx)
	switch {
	case err != nil:
		a.log.ErrorContext(ctx, "tick", "trigger", t, "summary", s, "error", err)
		return s, err
	case s.Due == 0 && s.Errors == 0:
		a.log.DebugContext(ctx, "tick", "trigger", t, "summary", s)
	default:
		a.log.InfoContext(ctx, "tick", "trigger", t, "summary", s)
	}
	return s, nil
}
