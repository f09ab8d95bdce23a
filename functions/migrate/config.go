package main

import (
	"fmt"
	"net"
	"time"

	"github.com/coldmove/coldmove/internal/config"
)

// Config is the migrate function's configuration, read from the
// environment (see design.md, "Configuration"): the shared groups it uses,
// and migrate's own variables.
type Config struct {
	config.Shared

	// MigrationTimeout is the deadline of a request that names none,
	// counted from when it is handled.
	MigrationTimeout time.Duration
	// HTTPAddr, in the long-running mode, is where HTTP CloudEvents are
	// also served ("" for none).
	HTTPAddr string
}

// defaultConfig returns the defaults of every setting.
func defaultConfig() Config {
	return Config{Shared: config.DefaultShared(), MigrationTimeout: time.Hour}
}

// spec lists the variables migrate reads, in the order -h shows them.
func (c *Config) spec() config.Spec {
	own := config.Spec{Vars: []config.Var{
		{Name: "COLDMOVE_MIGRATION_TIMEOUT", Desc: "deadline of a request that names none, counted from when it is handled",
			Value: &c.MigrationTimeout, Check: config.Positive(&c.MigrationTimeout)},
		{Name: "COLDMOVE_HTTP_ADDR", Desc: "long-running only: also serve HTTP CloudEvents on this address (off when empty)",
			Value: &c.HTTPAddr, Check: func() string {
				if c.HTTPAddr == "" {
					return ""
				}
				if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
					return fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080 (%v)", err)
				}
				return ""
			}},
	}}
	return c.ECSVars().Add(c.NATSVars()).Add(c.StreamVars()).Add(c.LedgerVars()).Add(c.ClaimVars()).
		Add(c.ConsumerVars()).Add(own).Add(c.LogVars())
}
