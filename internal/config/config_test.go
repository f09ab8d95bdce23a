package config_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/secret"
)

// These tests set process environment variables, so they do not run in
// parallel.

// clearEnv unsets every variable of s for the test.
func clearEnv(t *testing.T, s config.Spec) {
	t.Helper()
	for _, n := range s.Names() {
		t.Setenv(n, "")
		os.Unsetenv(n)
	}
}

// everything is a Shared with every group of variables, and one variable of
// a binary's own.
func everything() (*config.Shared, *time.Duration, config.Spec) {
	sh := config.DefaultShared()
	timeout := time.Hour
	spec := sh.ECSVars().Add(sh.NATSVars()).Add(sh.StreamVars()).Add(sh.LedgerVars()).Add(sh.ClaimVars()).
		Add(sh.ConsumerVars()).Add(sh.LogVars()).
		Add(config.Spec{Vars: []config.Var{{Name: "CFGTEST_TIMEOUT", Desc: "a timeout", Value: &timeout}}})
	return &sh, &timeout, spec
}

func TestLoad_defaultsAndValues(t *testing.T) {
	sh, timeout, spec := everything()
	clearEnv(t, spec)
	t.Setenv("HUAWEICLOUD_SDK_AK", "AKIDEXAMPLE")
	t.Setenv("HUAWEICLOUD_SDK_SK", "sk-very-secret")
	t.Setenv("HUAWEICLOUD_SDK_PROJECT_ID", strings.Repeat("a", 32))
	t.Setenv("COLDMOVE_REGION", "eu-de")
	t.Setenv("COLDMOVE_CONSUMER_BACKOFF", "1s,5s")
	t.Setenv("COLDMOVE_LOG_LEVEL", "debug")
	t.Setenv("CFGTEST_TIMEOUT", "90s")
	if err := config.Load(spec); err != nil {
		t.Fatal(err)
	}
	want := config.DefaultShared()
	want.ECS.Credentials.AccessKey, want.ECS.Credentials.SecretKey = "AKIDEXAMPLE", "sk-very-secret"
	want.ECS.ProjectID, want.ECS.Region = strings.Repeat("a", 32), "eu-de"
	want.Bus.Backoff = []time.Duration{time.Second, 5 * time.Second}
	want.LogLevel = slog.LevelDebug
	if diff := cmp.Diff(want, *sh, cmp.Comparer(func(a, b secret.String) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if *timeout != 90*time.Second {
		t.Errorf("own variable = %s, want 90s", *timeout)
	}
}

// The problem the issue names: a malformed duration, a bad project id, a
// bad log level and a certificate without a key are all reported at once,
// with the required variables that are missing.
func TestLoad_everyProblemAtOnce(t *testing.T) {
	_, _, spec := everything()
	clearEnv(t, spec)
	t.Setenv("HUAWEICLOUD_SDK_SK", "sk-very-secret")
	t.Setenv("HUAWEICLOUD_SDK_PROJECT_ID", "not-hex")
	t.Setenv("CFGTEST_TIMEOUT", "abc")
	t.Setenv("COLDMOVE_LOG_LEVEL", "loud")
	t.Setenv("NATS_CERT", "/client.pem")
	t.Setenv("NATS_PASSWORD", "pw-very-secret")
	t.Setenv("COLDMOVE_STREAM_DUPLICATES", "1m")
	t.Setenv("COLDMOVE_CONSUMER_MAX_DELIVER", "2")
	t.Setenv("COLDMOVE_LEDGER_BUCKET", "a.b")
	err := config.Load(spec)
	ce, ok := errors.AsType[*config.Error](err)
	if !ok {
		t.Fatalf("err = %v, want *config.Error", err)
	}
	want := []config.Problem{
		{Var: "HUAWEICLOUD_SDK_AK", Problem: "is required but not set"},
		{Var: "COLDMOVE_REGION", Problem: "is required but not set"},
		{Var: "COLDMOVE_LOG_LEVEL", Problem: `cannot read "loud" as a log level (debug, info, warn or error)`},
		{Var: "CFGTEST_TIMEOUT", Problem: `cannot read "abc" as a duration (for example 90s or 30m)`},
		{Var: "HUAWEICLOUD_SDK_PROJECT_ID", Problem: "must be 32 hexadecimal characters"},
		{Var: "COLDMOVE_STREAM_DUPLICATES", Problem: "must be at least 2m0s, not 1m0s"},
		{Var: "COLDMOVE_LEDGER_BUCKET", Problem: `"a.b" must be letters, digits, '-' or '_'`},
		{Var: "COLDMOVE_CONSUMER_MAX_DELIVER", Problem: "must be at least 1 and at least the number of backoff delays (4), not 2"},
		{Var: "NATS_PASSWORD", Problem: "is set but NATS_USER is not"},
		{Var: "NATS_CERT", Problem: "and NATS_KEY must be set together"},
	}
	if diff := cmp.Diff(want, ce.Problems); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, s := range []string{"sk-very-secret", "pw-very-secret"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error repeats a secret: %v", err)
		}
	}
}

func TestLoad_secretsNeverRepeated(t *testing.T) {
	sh := config.DefaultShared()
	spec := sh.NATSVars()
	clearEnv(t, spec)
	var n int
	spec = spec.Add(config.Spec{Vars: []config.Var{{Name: "CFGTEST_N", Value: &n}}})
	t.Setenv("NATS_PASSWORD", "pw-very-secret")
	t.Setenv("NATS_USER", "u")
	err := config.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Bus.Password.Reveal() != "pw-very-secret" {
		t.Errorf("password not read")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("shared", "config", sh)
	if strings.Contains(buf.String(), "pw-very-secret") {
		t.Errorf("logged configuration shows the password: %s", buf.String())
	}
}

func TestUsage_listsExactlyTheSpec(t *testing.T) {
	sh := config.DefaultShared()
	spec := sh.NATSVars().Add(sh.LogVars())
	var buf bytes.Buffer
	if err := config.Usage(&buf, spec); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, v := range []string{"NATS_URL", "nats://127.0.0.1:4222", "COLDMOVE_NATS_RECONNECT_WAIT", "250ms", "COLDMOVE_LOG_LEVEL", "info"} {
		if !strings.Contains(out, v) {
			t.Errorf("usage lacks %q:\n%s", v, out)
		}
	}
	for _, v := range []string{"HUAWEICLOUD_SDK_AK", "COLDMOVE_CONSUMER", "COLDMOVE_LEDGER_BUCKET"} {
		if strings.Contains(out, v) {
			t.Errorf("usage lists %s, which the spec does not read:\n%s", v, out)
		}
	}
}

// A binary's configuration can be printed and logged as it is: no secret
// shows, and what is not secret does.
func TestShared_printingHidesSecrets(t *testing.T) {
	c := config.DefaultShared()
	c.ECS.Credentials.AccessKey, c.ECS.Credentials.SecretKey, c.ECS.Credentials.SecurityToken = "AKIDSECRETISH12345", "sk-secret", "tok-secret"
	c.ECS.ProjectID, c.ECS.Region = strings.Repeat("a", 32), "cn-north-4"
	c.Bus.URL = "nats://user:pw-in-url@127.0.0.1:4222"
	c.Bus.User, c.Bus.Password = "user", "pw-secret"
	c.Bus.Creds = "-----BEGIN NATS USER JWT-----\njwt-secret\n------END NATS USER JWT------"
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "config", c)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "config", c)
	out := fmt.Sprintf("%v %+v %#v %v", c, c, c, &c) + logs.String()
	for _, s := range []string{"AKIDSECRETISH12345", "sk-secret", "tok-secret", "pw-in-url", "pw-secret", "jwt-secret"} {
		if strings.Contains(out, s) {
			t.Errorf("printing shows %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"cn-north-4", "127.0.0.1:4222", "coldmove_ledger"} {
		if !strings.Contains(out, s) {
			t.Errorf("printing hides %q:\n%s", s, out)
		}
	}
}

func TestLoad_retention(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		want []config.Problem
		// check judges the loaded configuration when there is no problem.
		check func(*testing.T, *config.Shared)
	}{
		"defaults": {check: func(t *testing.T, sh *config.Shared) {
			if sh.Bus.MaxAge != 720*time.Hour || sh.Bus.MaxBytes != -1 || sh.Ledger.ClaimTTL != 720*time.Hour {
				t.Errorf("max age %s, max bytes %d, claim TTL %s; want 720h, -1, 720h", sh.Bus.MaxAge, sh.Bus.MaxBytes, sh.Ledger.ClaimTTL)
			}
		}},
		"values": {
			env: map[string]string{"COLDMOVE_STREAM_MAX_AGE": "48h", "COLDMOVE_STREAM_MAX_BYTES": "1073741824", "COLDMOVE_CLAIM_TTL": "24h"},
			check: func(t *testing.T, sh *config.Shared) {
				if sh.Bus.MaxAge != 48*time.Hour || sh.Bus.MaxBytes != 1<<30 || sh.Ledger.ClaimTTL != 24*time.Hour {
					t.Errorf("max age %s, max bytes %d, claim TTL %s; want 48h, 1073741824, 24h", sh.Bus.MaxAge, sh.Bus.MaxBytes, sh.Ledger.ClaimTTL)
				}
			},
		},
		"unlimited max age": {env: map[string]string{"COLDMOVE_STREAM_MAX_AGE": "0"}},
		"everything at the duplicate window": {
			env: map[string]string{"COLDMOVE_STREAM_DUPLICATES": "2m", "COLDMOVE_STREAM_MAX_AGE": "2m", "COLDMOVE_CLAIM_TTL": "2m"},
		},
		"shorter than the duplicate window": {
			env: map[string]string{"COLDMOVE_STREAM_DUPLICATES": "20m", "COLDMOVE_STREAM_MAX_AGE": "15m", "COLDMOVE_CLAIM_TTL": "10m"},
			want: []config.Problem{
				{Var: "COLDMOVE_STREAM_MAX_AGE", Problem: "must be 0 (unlimited) or at least the duplicate window COLDMOVE_STREAM_DUPLICATES (20m0s), not 15m0s"},
				{Var: "COLDMOVE_CLAIM_TTL", Problem: "must not be shorter than the duplicate window COLDMOVE_STREAM_DUPLICATES (20m0s), not 10m0s"},
			},
		},
		"out of range": {
			env: map[string]string{"COLDMOVE_STREAM_MAX_AGE": "-1h", "COLDMOVE_STREAM_MAX_BYTES": "0", "COLDMOVE_CLAIM_TTL": "0s"},
			want: []config.Problem{
				{Var: "COLDMOVE_STREAM_MAX_AGE", Problem: "must not be negative (0: unlimited), not -1h0m0s"},
				{Var: "COLDMOVE_STREAM_MAX_BYTES", Problem: "must be -1 (unlimited) or positive, not 0"},
				{Var: "COLDMOVE_CLAIM_TTL", Problem: "must be positive, not 0s"},
			},
		},
		"max bytes below -1": {
			env:  map[string]string{"COLDMOVE_STREAM_MAX_BYTES": "-2"},
			want: []config.Problem{{Var: "COLDMOVE_STREAM_MAX_BYTES", Problem: "must be -1 (unlimited) or positive, not -2"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			sh := config.DefaultShared()
			spec := sh.StreamVars().Add(sh.LedgerVars())
			clearEnv(t, spec)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			err := config.Load(spec)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if tc.check != nil {
					tc.check(t, &sh)
				}
				return
			}
			ce, ok := errors.AsType[*config.Error](err)
			if !ok {
				t.Fatalf("err = %v, want *config.Error", err)
			}
			if diff := cmp.Diff(tc.want, ce.Problems); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
