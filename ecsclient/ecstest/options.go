package ecstest

import (
	"time"

	"github.com/coldmove/coldmove/secret"
)

// Option configures a [Server] made by [NewServer].
type Option func(*Config)

// WithClock sets the model clock that drives jobs and retention. The default
// for [NewServer] is a [ManualClock] that starts at the current time, so jobs
// progress only when the test advances it.
func WithClock(c Clock) Option { return func(cfg *Config) { cfg.Clock = c } }

// WithGatewayClock sets the clock of the signature skew check and the rate
// limit (default: wall time, which clients sign with).
func WithGatewayClock(c Clock) Option { return func(cfg *Config) { cfg.GatewayClock = c } }

// WithSeed seeds the PRNG behind generated ids and random faults.
func WithSeed(seed uint64) Option { return func(cfg *Config) { cfg.Seed = seed } }

// WithJobTimings sets the durations of job phases; all zero makes every job
// finish as soon as it is looked at.
func WithJobTimings(t JobTimings) Option { return func(cfg *Config) { cfg.Timings = &t } }

// WithRetention sets how long finished jobs stay visible; negative keeps them
// forever.
func WithRetention(d time.Duration) Option { return func(cfg *Config) { cfg.Retention = d } }

// WithMaxClockSkew sets how far X-Sdk-Date may be from the gateway clock.
func WithMaxClockSkew(d time.Duration) Option { return func(cfg *Config) { cfg.MaxClockSkew = d } }

// WithCredentials adds accepted credentials besides the generated one.
func WithCredentials(c ...Credential) Option {
	return func(cfg *Config) { cfg.Credentials = append(cfg.Credentials, c...) }
}

// WithTokens adds accepted X-Auth-Token values.
func WithTokens(tokens ...secret.String) Option {
	return func(cfg *Config) { cfg.Tokens = append(cfg.Tokens, tokens...) }
}

// WithRateLimit sets the gateway's per-project budget: perSecond requests a
// second with bursts of burst.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(cfg *Config) { cfg.RateLimit = RateLimit{PerSecond: perSecond, Burst: burst} }
}

// WithRequestLogSize sets how many requests the log keeps; negative turns it
// off.
func WithRequestLogSize(n int) Option { return func(cfg *Config) { cfg.RequestLogSize = n } }

// WithBasePath serves the API under a path prefix, e.g. "/ecs", so that a
// client whose endpoint carries a path must keep it; [Server.URL] includes
// it.
func WithBasePath(prefix string) Option { return func(cfg *Config) { cfg.BasePath = prefix } }

// WithInventory creates inv at start; its first project becomes the default
// project.
func WithInventory(inv Inventory) Option { return func(cfg *Config) { cfg.Inventory = inv } }
