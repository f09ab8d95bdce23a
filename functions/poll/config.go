package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/platform"
)

// Config is everything poll reads from the environment: the part both
// functions share (the ECS connection, NATS and the stream, the ledger,
// the log level) and the tracking policy. -h prints it; loading it with
// [config.Load] reports every missing or malformed variable at once.
type Config struct {
	platform.Config

	// Interval is how often the long-running mode ticks; it is also the
	// budget of one tick there. Lambda ticks on its schedule instead.
	Interval time.Duration `envconfig:"COLDMOVE_POLL_INTERVAL" default:"30s" desc:"long-running mode: time between ticks, and the budget of one tick (at least 1s)"`
	// Concurrency is how many jobs one tick works at once.
	Concurrency int `envconfig:"COLDMOVE_POLL_CONCURRENCY" default:"8" desc:"jobs one tick works at once (1 to 256)"`
	// APIRate is the client-side budget of ECS requests per second, shared
	// by all of a process's workers; keep it below the gateway's quota.
	APIRate float64 `envconfig:"COLDMOVE_API_RATE" default:"10" desc:"ECS requests per second this process may send, below the API gateway quota (0: no limit)"`
}

// Limits of the tracking policy.
const (
	minInterval    = time.Second
	maxConcurrency = 256
)

// Check reports every problem with the values that parsed, naming the
// variable of each; it never repeats a secret.
func (c *Config) Check() []config.Problem {
	ps := c.Config.Check()
	add := func(v, format string, args ...any) {
		ps = append(ps, config.Problem{Var: v, Problem: fmt.Sprintf(format, args...)})
	}
	if c.Interval < minInterval {
		add("COLDMOVE_POLL_INTERVAL", "must be at least %s, not %s", minInterval, c.Interval)
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		add("COLDMOVE_POLL_CONCURRENCY", "must be 1 to %d, not %d", maxConcurrency, c.Concurrency)
	}
	if c.APIRate < 0 {
		add("COLDMOVE_API_RATE", "must not be negative, not %g", c.APIRate)
	}
	return ps
}

// String describes the configuration without any secret.
func (c Config) String() string {
	return fmt.Sprintf("poll(%s, interval=%s, concurrency=%d, api_rate=%g)", c.Config, c.Interval, c.Concurrency, c.APIRate)
}

// GoString is [Config.String], so that %#v prints no secret either.
func (c Config) GoString() string { return c.String() }

// LogValue is [Config.String], for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
