package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The poll binary, built once for the tests that run it.
var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// pollBinary returns the path of the poll binary, built as for
// deployment (the lambda.norpc tag).
func pollBinary(tb testing.TB) string {
	tb.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "coldmove-poll-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bootstrap")
		cmd := exec.Command("go", "build", "-buildvcs=false", "-tags", "lambda.norpc", "-o", binPath, ".")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			binErr = err
			binPath = stderr.String()
		}
	})
	if binErr != nil {
		tb.Fatalf("build poll: %v\n%s", binErr, binPath)
	}
	return binPath
}

// env returns the environment of a poll process talking to the test's
// simulator and NATS server, with extra variables last.
func (e *env) environ(extra ...string) []string {
	cred := e.sim.Credentials()
	env := []string{
		"HUAWEICLOUD_SDK_AK=" + cred.AccessKey.Reveal(),
		"HUAWEICLOUD_SDK_SK=" + cred.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID=" + e.sim.ProjectID(),
		"COLDMOVE_REGION=" + testRegion,
		"COLDMOVE_ECS_ENDPOINT=" + e.sim.URL,
		"NATS_URL=" + e.nats.ClientURL(),
		"COLDMOVE_LOG_LEVEL=debug",
	}
	if cred.SecurityToken != "" {
		env = append(env, "HUAWEICLOUD_SDK_SECURITY_TOKEN="+cred.SecurityToken.Reveal())
	}
	return append(env, extra...)
}
