package config_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/internal/config"
)

func TestFromArgs(t *testing.T) {
	sh := config.DefaultShared()
	spec := sh.LogVars()
	clearEnv(t, spec)
	t.Setenv("COLDMOVE_LOG_LEVEL", "warn")
	tests := map[string]struct {
		args      []string
		code      int
		done      bool
		out, errs string
	}{
		"run":            {nil, 0, false, "", ""},
		"help":           {[]string{"-h"}, 0, true, "Usage: fn [-h]\n\nfn does things.\n\nEnvironment:\n", ""},
		"unknown flag":   {[]string{"-x"}, 2, true, "", "flag provided but not defined: -x"},
		"stray argument": {[]string{"tick"}, 2, true, "", `fn: unexpected arguments ["tick"]`},
	}
	for name, tc := range tests {
		var out, errs bytes.Buffer
		code, done := config.FromArgs("fn", "fn does things.", tc.args, &out, &errs, spec)
		if code != tc.code || done != tc.done || !strings.HasPrefix(out.String(), tc.out) || !strings.Contains(errs.String(), tc.errs) {
			t.Errorf("%s: code %d done %v, stdout %q, stderr %q", name, code, done, out.String(), errs.String())
		}
		if name == "help" && !strings.Contains(out.String(), "COLDMOVE_LOG_LEVEL") {
			t.Errorf("help lacks the variables:\n%s", out.String())
		}
		if name == "run" && sh.LogLevel.String() != "WARN" {
			t.Errorf("run did not load the spec: %v", sh.LogLevel)
		}
	}
}

func TestFromArgs_badEnvironment(t *testing.T) {
	sh := config.DefaultShared()
	spec := sh.ECSVars()
	clearEnv(t, spec)
	t.Setenv("COLDMOVE_API_RATE", "many")
	var out, errs bytes.Buffer
	code, done := config.FromArgs("fn", "", nil, &out, &errs, spec)
	if code != 2 || !done || !strings.Contains(errs.String(), "COLDMOVE_REGION: is required") ||
		!strings.Contains(errs.String(), `COLDMOVE_API_RATE: cannot read "many" as a number`) || out.Len() != 0 {
		t.Errorf("code %d, stdout %q, stderr %q", code, out.String(), errs.String())
	}
}
