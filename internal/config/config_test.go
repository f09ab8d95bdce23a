package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/internal/config"
)

type Inner struct {
	URL      string `envconfig:"CFGTEST_URL" default:"nats://127.0.0.1:4222" desc:"server URL"`
	Password string `envconfig:"CFGTEST_PASSWORD" secret:"true" desc:"a secret"`
}

type spec struct {
	Inner
	Region   string        `envconfig:"CFGTEST_REGION" required:"true" desc:"region"`
	Timeout  time.Duration `envconfig:"CFGTEST_TIMEOUT" default:"30m" desc:"timeout"`
	Workers  int           `envconfig:"CFGTEST_WORKERS" default:"8" desc:"workers"`
	Rate     float64       `envconfig:"CFGTEST_RATE" default:"10"`
	Secret   int           `envconfig:"CFGTEST_SECRET_NUM" secret:"true"`
	Verbose  bool          `envconfig:"CFGTEST_VERBOSE"`
	internal string
}

func (s *spec) Check() []config.Problem {
	if s.Workers < 1 {
		return []config.Problem{{Var: "CFGTEST_WORKERS", Problem: "must be at least 1"}}
	}
	return nil
}

// These tests set process environment variables, so they do not run in
// parallel.

func TestLoad_defaultsAndValues(t *testing.T) {
	t.Setenv("CFGTEST_REGION", "cn-north-4")
	t.Setenv("CFGTEST_WORKERS", "3")
	t.Setenv("CFGTEST_PASSWORD", "hunter2")
	var s spec
	if err := config.Load(&s); err != nil {
		t.Fatal(err)
	}
	want := spec{Inner: Inner{URL: "nats://127.0.0.1:4222", Password: "hunter2"}, Region: "cn-north-4",
		Timeout: 30 * time.Minute, Workers: 3, Rate: 10}
	if diff := cmp.Diff(want, s, cmp.AllowUnexported(spec{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLoad_everyProblemAtOnce(t *testing.T) {
	t.Setenv("CFGTEST_TIMEOUT", "30")
	t.Setenv("CFGTEST_WORKERS", "many")
	t.Setenv("CFGTEST_RATE", "fast")
	t.Setenv("CFGTEST_SECRET_NUM", "s3cr3t-value")
	var s spec
	err := config.Load(&s)
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *config.Error", err)
	}
	want := []config.Problem{
		{Var: "CFGTEST_REGION", Problem: "is required but not set"},
		{Var: "CFGTEST_TIMEOUT", Problem: `cannot read "30" as a duration (for example 90s or 30m)`},
		{Var: "CFGTEST_WORKERS", Problem: `cannot read "many" as an integer`},
		{Var: "CFGTEST_RATE", Problem: `cannot read "fast" as a number`},
		{Var: "CFGTEST_SECRET_NUM", Problem: "cannot read as an integer"},
	}
	if diff := cmp.Diff(want, ce.Problems); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), "s3cr3t-value") {
		t.Errorf("error repeats a secret value: %v", err)
	}
}

func TestLoad_checkAddsValueProblems(t *testing.T) {
	t.Setenv("CFGTEST_REGION", "cn-north-4")
	t.Setenv("CFGTEST_WORKERS", "0")
	var s spec
	err := config.Load(&s)
	if err == nil || !strings.Contains(err.Error(), "CFGTEST_WORKERS: must be at least 1") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoad_notAStruct(t *testing.T) {
	var n int
	if err := config.Load(&n); err == nil {
		t.Error("Load(*int) = nil")
	}
}

func TestUsage(t *testing.T) {
	var buf bytes.Buffer
	if err := config.Usage(&buf, &spec{}); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"CFGTEST_URL", "CFGTEST_PASSWORD", "CFGTEST_REGION", "CFGTEST_TIMEOUT", "server URL", "30m"} {
		if !strings.Contains(buf.String(), v) {
			t.Errorf("usage lacks %q:\n%s", v, buf.String())
		}
	}
}
