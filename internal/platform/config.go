package platform

import (
	"fmt"
	"log/slog"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/ledger"
)

// The configurations a function embeds, under names of their own so that
// the three can stand side by side (each package calls its type Config).
type (
	// ECSConfig is the ECS API: credentials, project, region, endpoint.
	ECSConfig = ecspool.Config
	// BusConfig is NATS: the connection, the subjects, the stream and the
	// request consumer.
	BusConfig = bus.Config
	// LedgerConfig is the ledger bucket and the claim policy.
	LedgerConfig = ledger.Config
)

// Config is the part of the configuration both functions share. Each
// function embeds it in its own, beside its own variables; loaded with
// [config.Load], every variable is read and every problem reported at
// once.
type Config struct {
	ECSConfig
	BusConfig
	LedgerConfig

	LogLevel string `envconfig:"COLDMOVE_LOG_LEVEL" default:"info" desc:"log level: debug, info, warn or error (logs are JSON)"`
}

// Check reports the problems of every part's values.
func (c *Config) Check() []config.Problem {
	ps := c.ECSConfig.Check()
	ps = append(ps, c.BusConfig.Check()...)
	ps = append(ps, c.LedgerConfig.Check()...)
	if _, err := logging.ParseLevel(c.LogLevel); err != nil {
		ps = append(ps, config.Problem{Var: "COLDMOVE_LOG_LEVEL", Problem: fmt.Sprintf("must be debug, info, warn or error, not %q", c.LogLevel)})
	}
	return ps
}

// Level returns the log level (info when it does not parse, which Check
// reports).
func (c *Config) Level() slog.Level {
	l, _ := logging.ParseLevel(c.LogLevel)
	return l
}

// String describes the configuration without any secret.
func (c Config) String() string {
	return fmt.Sprintf("%s, %s, ledger=%s, log_level=%s", c.ECSConfig, c.BusConfig, c.Bucket, c.LogLevel)
}

// GoString is [Config.String], so that %#v prints no secret either.
func (c Config) GoString() string { return c.String() }

// LogValue is [Config.String], for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
