package bus_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/config"
)

var busVars = []string{
	"NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "NATS_CA", "NATS_CERT", "NATS_KEY",
	"COLDMOVE_NATS_NAME", "COLDMOVE_NATS_CONNECT_TIMEOUT", "COLDMOVE_NATS_RECONNECT_WAIT", "COLDMOVE_NATS_MAX_RECONNECTS",
	"COLDMOVE_SUBJECT_PREFIX", "COLDMOVE_STREAM", "COLDMOVE_STREAM_REPLICAS", "COLDMOVE_STREAM_DUPLICATES",
	"COLDMOVE_CONTENT_MODE", "COLDMOVE_CONSUMER", "COLDMOVE_CONSUMER_BACKOFF", "COLDMOVE_CONSUMER_MAX_DELIVER",
	"COLDMOVE_CONSUMER_CONCURRENCY",
}

// unsetAll clears the bus variables for the test (restored afterwards).
// Tests that use it change the process environment and so do not run in
// parallel.
func unsetAll(t *testing.T) {
	for _, v := range busVars {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
}

func TestConfig_defaultsFromEnvironment(t *testing.T) {
	unsetAll(t)
	var got bus.Config
	if err := config.Load(&got); err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	if diff := cmp.Diff(bus.DefaultConfig(), got); diff != "" {
		t.Errorf("defaults (-DefaultConfig +envconfig):\n%s", diff)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("default config invalid: %v", err)
	}
}

func TestConfig_fromEnvironment(t *testing.T) {
	unsetAll(t)
	t.Setenv("NATS_URL", "nats://a:4222,nats://b:4222")
	t.Setenv("COLDMOVE_CONTENT_MODE", "structured")
	t.Setenv("COLDMOVE_CONSUMER_BACKOFF", "1s,5s")
	t.Setenv("COLDMOVE_STREAM_REPLICAS", "3")
	var got bus.Config
	if err := config.Load(&got); err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	want := bus.DefaultConfig()
	want.URL = "nats://a:4222,nats://b:4222"
	want.ContentMode = bus.Structured
	want.Backoff = []time.Duration{time.Second, 5 * time.Second}
	want.StreamReplicas = 3
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestConfig_Check(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		edit func(*bus.Config)
		want []config.Problem
	}{
		"valid": {edit: func(*bus.Config) {}},
		"creds and user": {
			edit: func(c *bus.Config) { c.Creds, c.User = "/x.creds", "u" },
			want: []config.Problem{{Var: "NATS_CREDS", Problem: "is set together with NATS_USER; use one way to authenticate"}},
		},
		"password without user": {
			edit: func(c *bus.Config) { c.Password = "hunter2" },
			want: []config.Problem{{Var: "NATS_PASSWORD", Problem: "is set but NATS_USER is not"}},
		},
		"cert without key": {
			edit: func(c *bus.Config) { c.Cert = "/c.pem" },
			want: []config.Problem{{Var: "NATS_CERT", Problem: "and NATS_KEY must be set together"}},
		},
		"several at once": {
			edit: func(c *bus.Config) {
				c.URL, c.SubjectPrefix, c.Stream, c.ContentMode = " ", "a..b", "A.B", "xml"
				c.Duplicates, c.StreamReplicas, c.Concurrency = time.Minute, 7, 0
			},
			want: []config.Problem{
				{Var: "NATS_URL", Problem: "is empty"},
				{Var: "COLDMOVE_SUBJECT_PREFIX", Problem: `"a..b" must be dot-separated tokens of letters, digits, '-' or '_'`},
				{Var: "COLDMOVE_STREAM", Problem: `"A.B" must be letters, digits, '-' or '_'`},
				{Var: "COLDMOVE_STREAM_REPLICAS", Problem: "must be 1 to 5, not 7"},
				{Var: "COLDMOVE_STREAM_DUPLICATES", Problem: "must be at least 2m0s, not 1m0s"},
				{Var: "COLDMOVE_CONTENT_MODE", Problem: `must be binary or structured, not "xml"`},
				{Var: "COLDMOVE_CONSUMER_CONCURRENCY", Problem: "must be at least 1, not 0"},
			},
		},
		"backoff longer than max deliver": {
			edit: func(c *bus.Config) { c.MaxDeliver = 2 },
			want: []config.Problem{{Var: "COLDMOVE_CONSUMER_MAX_DELIVER", Problem: "must be at least 1 and at least the number of backoff delays (4), not 2"}},
		},
		"no backoff": {
			edit: func(c *bus.Config) { c.Backoff = nil },
			want: []config.Problem{{Var: "COLDMOVE_CONSUMER_BACKOFF", Problem: "must list at least one delay"}},
		},
		"timeouts": {
			edit: func(c *bus.Config) { c.ConnectTimeout, c.ReconnectWait, c.MaxReconnects = 0, -1, -2 },
			want: []config.Problem{
				{Var: "COLDMOVE_NATS_CONNECT_TIMEOUT", Problem: "must be positive, not 0s"},
				{Var: "COLDMOVE_NATS_RECONNECT_WAIT", Problem: "must be positive, not -1ns"},
				{Var: "COLDMOVE_NATS_MAX_RECONNECTS", Problem: "must be -1 (forever) or more, not -2"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := bus.DefaultConfig()
			tc.edit(&c)
			if diff := cmp.Diff(tc.want, c.Check()); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
			if err := c.Validate(); (err != nil) != (len(tc.want) > 0) {
				t.Errorf("Validate = %v, want an error: %v", err, len(tc.want) > 0)
			}
		})
	}
}

func TestConfig_Check_neverRepeatsSecrets(t *testing.T) {
	t.Parallel()
	c := bus.DefaultConfig()
	c.Password, c.Creds = "hunter2", "-----BEGIN NATS USER JWT-----\nsecretjwt\n"
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate succeeded with a password but no user")
	}
	for _, s := range []string{"hunter2", "secretjwt"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q repeats a secret", err)
		}
	}
}
