package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// The configurations poll embeds, under names of their own so that the
// three can be embedded side by side (each is called Config in its
// package).
type (
	// ECSConfig is the ECS connection: credentials, project, region,
	// endpoint.
	ECSConfig = ecspool.Config
	// BusConfig is the NATS connection and the stream.
	BusConfig = bus.Config
	// LedgerConfig is the ledger bucket.
	LedgerConfig = ledger.Config
)

// Config is everything poll reads from the environment: the ECS
// connection ([ECSConfig]), NATS and the stream ([BusConfig]), the ledger
// bucket ([LedgerConfig]) and the tracking policy. -h prints it; loading
// it with [config.Load] reports every missing or malformed variable at
// once.
type Config struct {
	ECSConfig
	BusConfig
	LedgerConfig

	// Interval is how often the long-running mode ticks; it is also the
	// budget of one tick there. Lambda ticks on its schedule instead.
	Interval time.Duration `envconfig:"COLDMOVE_POLL_INTERVAL" default:"30s" desc:"long-running mode: time between ticks, and the budget of one tick (at least 1s)"`
	// Concurrency is how many jobs one tick works at once.
	Concurrency int `envconfig:"COLDMOVE_POLL_CONCURRENCY" default:"8" desc:"jobs one tick works at once (1 to 256)"`
	// APIRate is the client-side budget of ECS requests per second, shared
	// by all of a process's workers; keep it below the gateway's quota.
	APIRate float64 `envconfig:"COLDMOVE_API_RATE" default:"10" desc:"ECS requests per second this process may send, below the API gateway quota (0: no limit)"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"COLDMOVE_LOG_LEVEL" default:"info" desc:"log level: debug, info, warn or error; logs are JSON"`
}

// Limits of the tracking policy.
const (
	minInterval    = time.Second
	maxConcurrency = 256
)

// Check reports every problem with the values that parsed, naming the
// variable of each; it never repeats a secret.
func (c *Config) Check() []config.Problem {
	var ps []config.Problem
	ps = append(ps, c.ECSConfig.Check()...)
	ps = append(ps, c.BusConfig.Check()...)
	ps = append(ps, c.LedgerConfig.Check()...)
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
	if _, err := logging.ParseLevel(c.LogLevel); err != nil {
		add("COLDMOVE_LOG_LEVEL", "must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return ps
}

// Level returns the parsed log level (info if it does not parse; [Config.Check]
// reports that).
func (c *Config) Level() slog.Level {
	l, _ := logging.ParseLevel(c.LogLevel)
	return l
}

// String describes the configuration without any secret.
func (c Config) String() string {
	return fmt.Sprintf("poll(%s, nats=%s, stream=%s, prefix=%s, bucket=%s, interval=%s, concurrency=%d, api_rate=%g, log_level=%s)",
		c.ECSConfig.String(), bus.RedactURL(c.URL), c.Stream, c.SubjectPrefix, c.Bucket,
		c.Interval, c.Concurrency, c.APIRate, c.LogLevel)
}

// GoString is [Config.String], so that %#v prints no secret either.
func (c Config) GoString() string { return c.String() }

// LogValue is [Config.String], for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
