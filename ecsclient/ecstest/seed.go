package ecstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/coldmove/coldmove/secret"
)

// seedFile is the JSON seed document served by cmd/ecssim.
type seedFile struct {
	Seed           uint64          `json:"seed"`
	Credentials    []Credential    `json:"credentials"`
	Tokens         []secret.String `json:"tokens"`
	JobTimings     *seedTimings    `json:"job_timings"`
	Retention      string          `json:"retention"`
	MaxClockSkew   string          `json:"max_clock_skew"`
	RateLimit      RateLimit       `json:"rate_limit"`
	RequestLogSize int             `json:"request_log_size"`
	Projects       []ProjectSpec   `json:"projects"`
}

// seedTimings holds job timings as Go duration strings ("1.5s"); an empty
// field keeps its default.
type seedTimings struct {
	Queued    string `json:"queued"`
	Migrating string `json:"migrating"`
	Finishing string `json:"finishing"`
	Power     string `json:"power"`
}

// ParseSeed parses a JSON seed document into a [Config] with wall clocks. The
// document holds an inventory and settings, durations as Go duration strings:
//
//	{
//	  "seed": 1,
//	  "job_timings": {"queued": "1s", "migrating": "8s", "finishing": "2s", "power": "3s"},
//	  "retention": "24h",
//	  "rate_limit": {"per_second": 50, "burst": 100},
//	  "tokens": [], "credentials": [],
//	  "projects": [{"id": "...", "dedicated_hosts": [...], "servers": [...]}]
//	}
//
// Unknown fields and trailing data are errors. The inventory itself is
// checked by [NewSimulator].
func ParseSeed(data []byte) (Config, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f seedFile
	if err := dec.Decode(&f); err != nil {
		return Config{}, fmt.Errorf("ecstest: seed: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Config{}, errors.New("ecstest: seed: trailing data after the JSON document")
	}
	cfg := Config{
		Seed: f.Seed, Credentials: f.Credentials, Tokens: f.Tokens, RateLimit: f.RateLimit,
		RequestLogSize: f.RequestLogSize, Inventory: Inventory{Projects: f.Projects},
	}
	var err error
	if cfg.Retention, err = parseSeedDuration("retention", f.Retention, 0, true); err != nil {
		return Config{}, err
	}
	if cfg.MaxClockSkew, err = parseSeedDuration("max_clock_skew", f.MaxClockSkew, 0, false); err != nil {
		return Config{}, err
	}
	if f.JobTimings != nil {
		t := DefaultJobTimings()
		for _, d := range []struct {
			name string
			raw  string
			dst  *time.Duration
		}{
			{"job_timings.queued", f.JobTimings.Queued, &t.Queued},
			{"job_timings.migrating", f.JobTimings.Migrating, &t.Migrating},
			{"job_timings.finishing", f.JobTimings.Finishing, &t.Finishing},
			{"job_timings.power", f.JobTimings.Power, &t.Power},
		} {
			if *d.dst, err = parseSeedDuration(d.name, d.raw, *d.dst, false); err != nil {
				return Config{}, err
			}
		}
		cfg.Timings = &t
	}
	return cfg, nil
}

// parseSeedDuration parses a duration field; "" gives def.
func parseSeedDuration(name, raw string, def time.Duration, negativeOK bool) (time.Duration, error) {
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		return 0, fmt.Errorf("ecstest: seed: %s: %w", name, err)
	}
	if d < 0 && !negativeOK {
		return 0, fmt.Errorf("ecstest: seed: %s: %s is negative", name, raw)
	}
	return d, nil
}
