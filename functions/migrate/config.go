package main

import (
	"fmt"
	"net"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// The embedded configurations, under names of their own (each package
// calls its type Config).
type (
	// ECSConfig is the ECS API part: credentials, project, region, endpoint.
	ECSConfig = ecspool.Config
	// BusConfig is the NATS part: connection, subjects, stream, consumer.
	BusConfig = bus.Config
	// LedgerConfig is the ledger part: bucket and claim policy.
	LedgerConfig = ledger.Config
)

// Config is the migrate function's configuration, read from the
// environment (see design.md, "Configuration").
type Config struct {
	ECSConfig
	BusConfig
	LedgerConfig

	MigrationTimeout time.Duration `envconfig:"COLDMOVE_MIGRATION_TIMEOUT" default:"1h" desc:"deadline of a request that names none, counted from when it is handled"`
	HTTPAddr         string        `envconfig:"COLDMOVE_HTTP_ADDR" desc:"long-running only: also serve HTTP CloudEvents on this address (off when empty)"`
	LogLevel         string        `envconfig:"COLDMOVE_LOG_LEVEL" default:"info" desc:"log level: debug, info, warn or error (logs are JSON)"`
}

// Check reports every problem with the values at once.
func (c *Config) Check() []config.Problem {
	ps := c.ECSConfig.Check()
	ps = append(ps, c.BusConfig.Check()...)
	ps = append(ps, c.LedgerConfig.Check()...)
	return append(ps, c.check()...)
}

// check is Check's own part, beside the embedded configurations'.
func (c *Config) check() []config.Problem {
	var ps []config.Problem
	if c.MigrationTimeout <= 0 {
		ps = append(ps, config.Problem{Var: "COLDMOVE_MIGRATION_TIMEOUT", Problem: fmt.Sprintf("must be positive, not %s", c.MigrationTimeout)})
	}
	if c.HTTPAddr != "" {
		if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
			ps = append(ps, config.Problem{Var: "COLDMOVE_HTTP_ADDR", Problem: fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080 (%v)", err)})
		}
	}
	if _, err := logging.ParseLevel(c.LogLevel); err != nil {
		ps = append(ps, config.Problem{Var: "COLDMOVE_LOG_LEVEL", Problem: "must be debug, info, warn or error"})
	}
	return ps
}
