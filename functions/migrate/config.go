package main

import (
	"fmt"
	"net"
	"time"

	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/platform"
)

// Config is the migrate function's configuration, read from the
// environment (see design.md, "Configuration"): the part both functions
// share, and migrate's own variables.
type Config struct {
	platform.Config

	MigrationTimeout time.Duration `envconfig:"COLDMOVE_MIGRATION_TIMEOUT" default:"1h" desc:"deadline of a request that names none, counted from when it is handled"`
	HTTPAddr         string        `envconfig:"COLDMOVE_HTTP_ADDR" desc:"long-running only: also serve HTTP CloudEvents on this address (off when empty)"`
}

// Check reports every problem with the values at once.
func (c *Config) Check() []config.Problem {
	return append(c.Config.Check(), c.check()...)
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
	return ps
}
