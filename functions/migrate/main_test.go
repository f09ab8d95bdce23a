package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/lambdatest"
	"github.com/coldmove/coldmove/internal/natstest"
)

var (
	buildOnce sync.Once
	buildDir  string
	binary    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// bootstrap builds this function once per test binary.
func bootstrap(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coldmove-migrate-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
		binary = lambdatest.BuildDir(t, ".", dir)
	})
	if binary == "" {
		t.Fatal("the bootstrap did not build")
	}
	return binary
}

func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bootstrap(t), args...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

func TestMain_help(t *testing.T) {
	t.Parallel()
	out, _, code := runBinary(t, nil, "-h")
	if code != 0 {
		t.Errorf("-h exit code %d", code)
	}
	for _, v := range []string{"HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN", "HUAWEICLOUD_SDK_PROJECT_ID",
		"COLDMOVE_REGION", "COLDMOVE_ECS_ENDPOINT", "NATS_URL", "NATS_CREDS", "NATS_USER", "NATS_PASSWORD", "NATS_CA", "NATS_CERT",
		"NATS_KEY", "COLDMOVE_SUBJECT_PREFIX", "COLDMOVE_STREAM", "COLDMOVE_LEDGER_BUCKET", "COLDMOVE_MIGRATION_TIMEOUT",
		"COLDMOVE_HTTP_ADDR", "COLDMOVE_LOG_LEVEL", "COLDMOVE_CONSUMER_BACKOFF", "COLDMOVE_CLAIM_STALE_AFTER", "COLDMOVE_API_RATE"} {
		if !strings.Contains(out, v) {
			t.Errorf("-h does not list %s", v)
		}
	}
	for _, v := range []string{"COLDMOVE_POLL_INTERVAL", "COLDMOVE_POLL_CONCURRENCY"} {
		if strings.Contains(out, v) {
			t.Errorf("-h lists %s, which migrate does not read", v)
		}
	}
}

func TestMain_everyConfigProblemAtOnce(t *testing.T) {
	t.Parallel()
	// A malformed timeout, a bad project id, a bad log level and a
	// certificate without its key: each is named, with the missing AK.
	_, stderr, code := runBinary(t, []string{"HUAWEICLOUD_SDK_SK=very-secret-sk", "COLDMOVE_MIGRATION_TIMEOUT=abc",
		"HUAWEICLOUD_SDK_PROJECT_ID=not-a-project", "COLDMOVE_LOG_LEVEL=loud", "COLDMOVE_REGION=cn-north-4", "NATS_CERT=/c.pem"})
	if code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	for _, v := range []string{"HUAWEICLOUD_SDK_AK: is required", "HUAWEICLOUD_SDK_PROJECT_ID: must be 32 hexadecimal",
		`COLDMOVE_MIGRATION_TIMEOUT: cannot read "abc"`, `COLDMOVE_LOG_LEVEL: cannot read "loud"`, "NATS_CERT: and NATS_KEY must be set together"} {
		if !strings.Contains(stderr, v) {
			t.Errorf("error does not name %s:\n%s", v, stderr)
		}
	}
	if strings.Contains(stderr, "very-secret-sk") {
		t.Errorf("error repeats the secret key:\n%s", stderr)
	}
}

// TestLambdaRuntime runs the real bootstrap under the Lambda Runtime
// Interface Emulator against the simulator and an embedded NATS server.
func TestLambdaRuntime(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t)
	ns := natstest.Run(t)
	host := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 64, MemoryMB: 65536})
	direct := sim.AddServer(ecstest.ServerSpec{})
	viaSQS := sim.AddServer(ecstest.ServerSpec{})
	creds := sim.Credentials()
	emu := lambdatest.Start(t, bootstrap(t), 30*time.Second,
		"HUAWEICLOUD_SDK_AK="+creds.AccessKey.Reveal(), "HUAWEICLOUD_SDK_SK="+creds.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID="+sim.ProjectID(), "COLDMOVE_REGION=cn-north-4",
		"COLDMOVE_ECS_ENDPOINT="+sim.URL, "NATS_URL="+ns.ClientURL())
	e := &env{host: host}

	out, err := emu.Invoke(t.Context(), e.request(direct, events.HostTarget(host)))
	if err != nil {
		t.Fatal(err)
	}
	var o Outcome
	if err := json.Unmarshal(out, &o); err != nil || o.Status != StatusAccepted || o.JobID == "" {
		t.Fatalf("direct invoke: %s (%v)", out, err)
	}

	out, err = emu.Invoke(t.Context(), eventBridge([]byte(`{"specversion":"1.0","id":"x","source":"/t","type":"dev.coldmove.placement.requested","data":{"server_id":"`+direct+`","target":{}}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &o); err != nil || o.Status != StatusRejected || o.Reason != "invalid_payload" {
		t.Fatalf("EventBridge invoke: %s (%v)", out, err)
	}

	sim.InjectNext(ecstest.OpShowServer, 4, ecstest.GatewayThrottle())
	out, err = emu.Invoke(t.Context(), sqsBatch("arn:aws:sqs:eu-west-1:1:q",
		e.request(viaSQS, events.HostTarget(host)), []byte("junk")))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"batchItemFailures":[{"itemIdentifier":"m0"}]}` {
		t.Errorf("SQS invoke: %s", out)
	}
	if sim.Migrations(direct) != 1 || sim.MigrateCalls(viaSQS) != 0 {
		t.Errorf("migrations: direct %d, throttled SQS record %d calls", sim.Migrations(direct), sim.MigrateCalls(viaSQS))
	}
	if strings.Contains(emu.Output(), creds.SecretKey.Reveal()) {
		t.Error("the function's output contains the secret key")
	}
	if !strings.Contains(emu.Output(), `"requestId"`) {
		t.Errorf("log lines lack the Lambda request id:\n%s", emu.Output())
	}
}
