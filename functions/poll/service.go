package main

import (
	"context"
	"time"
)

// Serve is the long-running mode: a tick at once, then one every
// cfg.Interval, each with the interval as its budget, until ctx ends
// (SIGTERM or SIGINT). A tick in progress then stops taking jobs and
// finishes those in flight.
func (a *app) Serve(ctx context.Context) error {
	tk := time.NewTicker(a.cfg.Interval)
	defer tk.Stop()
	for {
		tctx, cancel := context.WithTimeout(ctx, a.cfg.Interval)
		_, _ = a.tick(tctx, Trigger{Kind: "interval"})
		cancel()
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
	}
}
