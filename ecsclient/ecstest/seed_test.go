package ecstest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/secret"
)

func TestParseSeed(t *testing.T) {
	t.Parallel()
	doc := `{
	  "seed": 9,
	  "job_timings": {"queued": "1s", "migrating": "8s"},
	  "retention": "-1h",
	  "max_clock_skew": "5m",
	  "rate_limit": {"per_second": 50, "burst": 100},
	  "request_log_size": 7,
	  "tokens": ["t"],
	  "credentials": [{"access_key": "AKSEEDSEEDSEED01", "secret_key": "seed-secret", "security_token": "seed-token"}],
	  "projects": [{"id": "p", "dedicated_hosts": [{"id": "h", "vcpus": 8}], "servers": [{"id": "s", "dedicated_host_id": "h", "status": "ACTIVE"}]}]
	}`
	cfg, err := ParseSeed([]byte(doc))
	if err != nil {
		t.Fatalf("ParseSeed: %v", err)
	}
	want := Config{
		Seed:           9,
		Timings:        &JobTimings{Queued: time.Second, Migrating: 8 * time.Second, Finishing: DefaultJobTimings().Finishing, Power: DefaultJobTimings().Power},
		Retention:      -time.Hour,
		MaxClockSkew:   5 * time.Minute,
		RateLimit:      RateLimit{PerSecond: 50, Burst: 100},
		RequestLogSize: 7,
		Tokens:         []secret.String{"t"},
		Credentials:    []Credential{{AccessKey: "AKSEEDSEEDSEED01", SecretKey: "seed-secret", SecurityToken: "seed-token"}},
		Inventory: Inventory{Projects: []ProjectSpec{{
			ID:             "p",
			DedicatedHosts: []HostSpec{{ID: "h", VCPUs: 8}},
			Servers:        []ServerSpec{{ID: "s", DedicatedHostID: "h", Status: "ACTIVE"}},
		}}},
	}
	if diff := cmp.Diff(want, cfg, cmp.Comparer(func(a, b Clock) bool { return a == b })); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	sim, err := NewSimulator(cfg)
	if err != nil {
		t.Fatalf("NewSimulator: %v", err)
	}
	if s, ok := sim.Server("s"); !ok || s.DedicatedHostID != "h" || s.Status != StatusActive {
		t.Errorf("seeded server = %+v, %v", s, ok)
	}
	if h, _ := sim.Host("h"); h.AvailableVCPUs != 6 || !cmp.Equal(h.Instances, []string{"s"}) {
		t.Errorf("seeded host = %+v", h)
	}
}

func TestParseSeedErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ doc, want string }{
		"unknown field":        {`{"projcts": []}`, "unknown field"},
		"trailing data":        {`{} {}`, "trailing data"},
		"not JSON":             {`seed: 1`, "invalid character"},
		"bad duration":         {`{"retention": "a day"}`, "retention"},
		"negative timing":      {`{"job_timings": {"power": "-1s"}}`, "job_timings.power"},
		"negative skew":        {`{"max_clock_skew": "-1s"}`, "max_clock_skew"},
		"wrong type":           {`{"seed": "one"}`, "seed"},
		"unknown server field": {`{"projects": [{"servers": [{"cpu": 2}]}]}`, "unknown field"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseSeed([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestNewSimulatorRefusesBadConfig(t *testing.T) {
	t.Parallel()
	project := func(hosts []HostSpec, servers ...ServerSpec) Config {
		return Config{Inventory: Inventory{Projects: []ProjectSpec{{ID: "p", DedicatedHosts: hosts, Servers: servers}}}}
	}
	tests := map[string]struct {
		cfg  Config
		want string
	}{
		"duplicate project":      {Config{Inventory: Inventory{Projects: []ProjectSpec{{ID: "p"}, {ID: "p"}}}}, "already exists"},
		"duplicate server":       {project(nil, ServerSpec{ID: "s"}, ServerSpec{ID: "s"}), "already exists"},
		"duplicate host":         {project([]HostSpec{{ID: "h"}, {ID: "h"}}), "already exists"},
		"server on unknown host": {project(nil, ServerSpec{DedicatedHostID: "nope"}), "not found"},
		"host too small":         {project([]HostSpec{{ID: "h", VCPUs: 2}}, ServerSpec{DedicatedHostID: "h", VCPUs: 4}), "free"},
		"bad status":             {project(nil, ServerSpec{Status: "RESIZE"}), "SHUTOFF or ACTIVE"},
		"bad charging mode":      {project(nil, ServerSpec{ChargingMode: "postPaid"}), "charging mode"},
		"negative flavor":        {project(nil, ServerSpec{VCPUs: -1}), "negative"},
		"bad host state":         {project([]HostSpec{{State: "broken"}}), "available, fault or released"},
		"negative host":          {project([]HostSpec{{MemoryMB: -1}}), "negative"},
		"negative timings":       {Config{Timings: &JobTimings{Queued: -1}}, "negative"},
		"negative rate":          {Config{RateLimit: RateLimit{PerSecond: -1}}, "negative"},
		"empty credential":       {Config{Credentials: []Credential{{AccessKey: "a"}}}, "credential 0"},
		"empty token":            {Config{Tokens: []secret.String{""}}, "token 0"},
		"base path with slash":   {Config{BasePath: "/ecs/"}, "base path"},
		"relative base path":     {Config{BasePath: "ecs"}, "base path"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := NewSimulator(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
