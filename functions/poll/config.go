package main

import (
	"time"

	"github.com/coldmove/coldmove/internal/config"
)

// Config is everything poll reads from the environment: the shared groups
// it uses (the ECS API and its request budget, NATS and the stream, the
// ledger, the log level) and the tracking policy. -h prints it; loading it
// reports every missing or malformed variable at once.
type Config struct {
	config.Shared

	// Interval is how often the long-running mode ticks; it is also the
	// budget of one tick there. Lambda ticks on its schedule instead.
	Interval time.Duration
	// Concurrency is how many jobs one tick works at once.
	Concurrency int
}

// Limits of the tracking policy.
const (
	minInterval    = time.Second
	maxConcurrency = 256
)

// defaultConfig returns the defaults of every setting.
func defaultConfig() Config {
	return Config{Shared: config.DefaultShared(), Interval: 30 * time.Second, Concurrency: 8}
}

// spec lists the variables poll reads, in the order -h shows them.
func (c *Config) spec() config.Spec {
	own := config.Spec{Vars: []config.Var{
		{Name: "COLDMOVE_POLL_INTERVAL", Desc: "long-running mode: time between ticks, and the budget of one tick (at least 1s)",
			Value: &c.Interval, Check: config.AtLeast(&c.Interval, minInterval)},
		{Name: "COLDMOVE_POLL_CONCURRENCY", Desc: "jobs one tick works at once (1 to 256)", Value: &c.Concurrency,
			Check: config.Between(&c.Concurrency, 1, maxConcurrency)},
	}}
	return c.ECSVars().Add(c.NATSVars()).Add(c.StreamVars()).Add(c.LedgerVars()).Add(own).Add(c.LogVars())
}
