package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// runPoll runs the poll binary with args in exactly env and returns its
// stdout, stderr and exit code.
func runPoll(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(pollBinary(t), args...)
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

func TestBinary_help(t *testing.T) {
	t.Parallel()
	out, errOut, code := runPoll(t, nil, "-h")
	if code != 0 || errOut != "" {
		t.Fatalf("poll -h: exit %d, stderr %q", code, errOut)
	}
	for _, v := range []string{
		"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID",
		"COLDMOVE_REGION", "COLDMOVE_ECS_ENDPOINT", "NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD",
		"NATS_CA", "NATS_CERT", "NATS_KEY", "COLDMOVE_SUBJECT_PREFIX", "COLDMOVE_STREAM", "COLDMOVE_LEDGER_BUCKET",
		"COLDMOVE_POLL_INTERVAL", "COLDMOVE_POLL_CONCURRENCY", "COLDMOVE_API_RATE", "COLDMOVE_LOG_LEVEL",
	} {
		if !strings.Contains(out, v) {
			t.Errorf("poll -h does not list %s", v)
		}
	}
	// Only migrate reads the consumer's and the claims' variables.
	for _, v := range []string{"COLDMOVE_CONSUMER", "COLDMOVE_CLAIM_STALE_AFTER", "COLDMOVE_MIGRATION_TIMEOUT", "COLDMOVE_HTTP_ADDR"} {
		if strings.Contains(out, v) {
			t.Errorf("poll -h lists %s, which poll does not read", v)
		}
	}
	for _, d := range []string{"Usage: poll", "30s", "coldmove_ledger"} {
		if !strings.Contains(out, d) {
			t.Errorf("poll -h does not show %q", d)
		}
	}
}

func TestBinary_badCommandLine(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-nope"}, {"tick"}} {
		_, errOut, code := runPoll(t, nil, args...)
		if code != 2 || errOut == "" {
			t.Errorf("poll %q: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}

func TestBinary_namesEveryConfigurationProblemAtOnce(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		env  []string
		want []string
	}{
		"missing and malformed": {
			env: []string{"HUAWEICLOUD_SDK_SK=sk-very-secret", "COLDMOVE_POLL_INTERVAL=30", "COLDMOVE_POLL_CONCURRENCY=many",
				"COLDMOVE_API_RATE=fast"},
			want: []string{"HUAWEICLOUD_SDK_AK: is required", "HUAWEICLOUD_SDK_PROJECT_ID: is required", "COLDMOVE_REGION: is required",
				`COLDMOVE_POLL_INTERVAL: cannot read "30" as a duration`, `COLDMOVE_POLL_CONCURRENCY: cannot read "many" as an integer`,
				`COLDMOVE_API_RATE: cannot read "fast" as a number`},
		},
		"out of range": {
			env: []string{"HUAWEICLOUD_SDK_AK=ak", "HUAWEICLOUD_SDK_SK=sk-very-secret", "HUAWEICLOUD_SDK_PROJECT_ID=nothex",
				"COLDMOVE_REGION=North_4", "COLDMOVE_POLL_INTERVAL=100ms", "COLDMOVE_POLL_CONCURRENCY=0", "COLDMOVE_API_RATE=-1",
				"COLDMOVE_LOG_LEVEL=loud", "COLDMOVE_LEDGER_BUCKET=a.b", "NATS_PASSWORD=pw-very-secret"},
			want: []string{"HUAWEICLOUD_SDK_PROJECT_ID: must be 32 hexadecimal characters", "COLDMOVE_REGION: must be a region name",
				"COLDMOVE_POLL_INTERVAL: must be at least 1s", "COLDMOVE_POLL_CONCURRENCY: must be 1 to 256, not 0",
				"COLDMOVE_API_RATE: must not be negative", `COLDMOVE_LOG_LEVEL: cannot read "loud" as a log level`,
				"COLDMOVE_LEDGER_BUCKET:", "NATS_PASSWORD: is set but NATS_USER is not"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, errOut, code := runPoll(t, tc.env)
			if code != 2 || out != "" {
				t.Fatalf("exit %d, stdout %q; want 2 and nothing on stdout", code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "very-secret") {
				t.Errorf("stderr repeats a secret:\n%s", errOut)
			}
		})
	}
}
