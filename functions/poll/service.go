package main

import (
	"context"
	"time"
)

// serveDrainTimeout bounds draining NATS when the long-running mode stops.
const serveDrainTimeout = 5 * time.Second

// serve is the long-running mode: a tick at once, then one every
// cfg.Interval, each with the interval as its budget, until ctx ends
// (SIGTERM or SIGINT). A tick in progress then stops taking jobs,
// finishes those in flight, and NATS is drained.
func (a *app) serve(ctx context.Context) {
	tk := time.NewTicker(a.cfg.Interval)
	defer tk.Stop()
	for {
		tctx, cancel := context.WithTimeout(ctx, a.cfg.Interval)
		_, _ = a.tick(tctx, Trigger{Kind: "interval"})
		cancel()
		select {
		case <-ctx.Done():
			a.log.Info("stopping")
			a.drain(serveDrainTimeout)
			return
		case <-tk.C:
		}
	}
}
