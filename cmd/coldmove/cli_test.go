package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/ledger"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// functions builds the migrate and poll binaries once per test binary and
// returns their folder.
func functions(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "coldmove-cli-")
		if buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-buildvcs=false", "-o", buildDir+string(filepath.Separator),
			"github.com/coldmove/coldmove/functions/migrate", "github.com/coldmove/coldmove/functions/poll").CombinedOutput()
		if err != nil {
			buildErr = err
			t.Logf("%s", out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build the functions: %v", buildErr)
	}
	return buildDir
}

// buffer is a concurrency-safe bytes.Buffer.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// cli runs the command line in-process and returns its exit code, stdout
// and stderr.
func cli(ctx context.Context, args ...string) (int, string, string) {
	var out, errb buffer
	code := run(ctx, args, stdio{out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// world is NATS, the simulator with the default fleet (on wall clocks) and
// both functions running long-lived as child processes.
type world struct {
	nats string
	sim  *runningSim
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ns := natstest.Run(t)
	fleet, err := loadFleet("")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := serveSimulator(t.Context(), fleet, "127.0.0.1:0", os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.stop() })
	cred := fleet.Credentials[0]
	env := []string{
		"HUAWEICLOUD_SDK_AK=" + cred.AccessKey.Reveal(), "HUAWEICLOUD_SDK_SK=" + cred.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID=" + fleet.Inventory.Projects[0].ID, "COLDMOVE_REGION=cn-north-4",
		"COLDMOVE_ECS_ENDPOINT=" + sim.url, "NATS_URL=" + ns.ClientURL(),
		"COLDMOVE_POLL_INTERVAL=1s", "COLDMOVE_CONSUMER_BACKOFF=1s,2s,4s", "COLDMOVE_LOG_LEVEL=debug",
	}
	dir := functions(t)
	logs := t.TempDir()
	for _, name := range []string{"migrate", "poll"} {
		c, err := startChild(name, filepath.Join(dir, name), logs, env)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c.stop(10 * time.Second)
			if t.Failed() {
				t.Logf("%s log:\n%s", name, c.tail(40))
			}
		})
	}
	return &world{nats: ns.ClientURL(), sim: sim}
}

// request --wait follows each kind of request to its terminal event and
// exits by it.
func TestRequestWait_exitsByOutcome(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tests := map[string]struct {
		args []string
		code int
		says string
	}{
		"completed": {[]string{"--server", db1, "--dedicated-host", dehA}, exitOK, "completed: server " + db1},
		"rejected":  {[]string{"--server", appRunning, "--dedicated-host", dehA}, exitRejected, "rejected (server_not_stopped)"},
		"failed":    {[]string{"--server", big1, "--dedicated-host", dehSmall}, exitFailed, "failed (job_failed)"},
		// The job runs 5 s; the request gives up after 2 s.
		"timed out": {[]string{"--server", web1, "--dedicated-host", dehB, "--deadline", "2s"}, exitTimedOut, "timed out"},
		"invalid":   {[]string{"--server", spare1}, exitUsage, "give a target"},
		// A running server: stopped, moved, started again.
		"running, with power steps": {[]string{"--server", api1, "--dedicated-host", dehB, "--stop", "soft", "--restart"}, exitOK,
			"completed: server " + api1},
		"restart without stop": {[]string{"--server", api1, "--public-pool", "--restart"}, exitUsage, "--restart needs --stop"},
		"bad id":               {[]string{"--server", "web-1", "--public-pool"}, exitUsage, "server_id: must be a UUID"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			args := append([]string{"request", "--nats", w.nats, "--wait"}, tc.args...)
			code, out, errs := cli(ctx, args...)
			if code != tc.code || !strings.Contains(errs, tc.says) {
				t.Fatalf("exit %d, want %d; stderr %q (stdout %q)", code, tc.code, errs, out)
			}
			if tc.code != exitUsage && len(strings.TrimSpace(out)) != 36 {
				t.Errorf("stdout %q, want the request id", out)
			}
			if name == "running, with power steps" {
				st, _ := w.sim.Server(api1)
				if st.Status != "ACTIVE" || st.TaskState != "" || st.DedicatedHostID != dehB {
					t.Errorf("api-1 ends %s (%s) on %q, want ACTIVE on deh-b", st.Status, st.TaskState, st.DedicatedHostID)
				}
			}
		})
	}
}

// watch shows each event the stream holds once, however often it was
// published, and filters by server and request.
func TestWatch_eachEventOnce(t *testing.T) {
	t.Parallel()
	ns := natstest.Run(t)
	cfg := bus.DefaultConfig()
	cfg.URL = ns.ClientURL()
	b, err := bus.New(ns.Conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnsureStream(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errs buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"watch", "--nats", ns.ClientURL(), "--server", db1}, stdio{out: &out, err: &errs})
	}()
	// watch follows from now on: wait until its consumer exists.
	waitFor(t, func() bool {
		st, err := b.JetStream().Stream(ctx, "COLDMOVE")
		return err == nil && st.CachedInfo() != nil && consumers(ctx, b) > 0
	})

	origin := events.Origin{RequestID: "r-1", RequestSource: "urn:test", ServerID: db1,
		ProjectID: "0b1d5e7a9c3f4e21a6d8c0f2b4e6a8c1", Target: events.HostTarget(dehA)}
	acc, err := events.NewAccepted(origin, "job-1", time.Now().Add(time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 { // a request delivered five times re-publishes its accepted
		if _, err := b.Publish(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}
	other := origin
	other.ServerID = web1
	ignored, _ := events.NewCompleted(other, "job-2", false, time.Now())
	completed, _ := events.NewCompleted(origin, "job-1", false, time.Now())
	for _, ev := range []event.Event{ignored, completed} {
		if _, err := b.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return strings.Contains(out.String(), "completed") })
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("watch exit %d; stderr %s", code, errs.String())
	}
	got := out.String()
	if n := strings.Count(got, "accepted"); n != 1 {
		t.Errorf("watch shows accepted %d times, want once:\n%s", n, got)
	}
	if strings.Contains(got, "job-2") || strings.Count(got, "\n") != 2 {
		t.Errorf("watch shows another server's events or more lines:\n%s", got)
	}
}

func consumers(ctx context.Context, b *bus.Bus) int {
	st, err := b.JetStream().Stream(ctx, "COLDMOVE")
	if err != nil {
		return 0
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Consumers
}

// waitFor waits for cond, checking every few milliseconds, for at most 20 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// status shows the outstanding work of the ledger, as a table and as JSON.
func TestStatus(t *testing.T) {
	t.Parallel()
	ns := natstest.Run(t)
	ctx := t.Context()
	code, out, errs := cli(ctx, "status", "--nats", ns.ClientURL())
	if code != exitOK || !strings.Contains(out, "nothing outstanding") {
		t.Fatalf("empty ledger: exit %d, stdout %q, stderr %q", code, out, errs)
	}
	l, err := ledger.Open(ctx, ns.JetStream(), ledger.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.ClaimRequest(ctx, ledger.RequestRef{Source: "urn:test", ID: "r-1", ServerID: db1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.MarkSubmitting(ctx, res.Claim); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ClaimRequest(ctx, ledger.RequestRef{Source: "urn:test", ID: "r-2", ServerID: web1}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordJob(ctx, ledger.Job{JobID: "ff80808288d41e1b018990260955686a", RequestID: "r-1", RequestSource: "urn:test",
		ProjectID: "0b1d5e7a9c3f4e21a6d8c0f2b4e6a8c1", Region: "cn-north-4", ServerID: db1,
		Target: events.Target{DedicatedHostID: dehA}, Deadline: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = cli(ctx, "status", "--nats", ns.ClientURL())
	for _, want := range []string{"SERVER", db1, "tracking", "ff808082", web1, "claimed"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("status lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	code, out, _ = cli(ctx, "status", "--nats", ns.ClientURL(), "--json")
	var ws []work
	if err := json.Unmarshal([]byte(out), &ws); code != exitOK || err != nil || len(ws) != 2 {
		t.Fatalf("status --json: exit %d, %v:\n%s", code, err, out)
	}
	if ws[0].ServerID != db1 || ws[0].Step != "tracking" || ws[0].Deadline == nil || ws[1].Step != "claimed" {
		t.Errorf("status --json = %+v", ws)
	}
}

// Every command explains itself with -h, with an example, and exits 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, c := range commands() {
		for _, h := range []string{"-h", "--help"} {
			code, out, errs := cli(t.Context(), c.name, h)
			if code != exitOK || !strings.Contains(out, "Example:") || !strings.Contains(out, "Usage: coldmove "+c.name) {
				t.Errorf("coldmove %s %s: exit %d, stdout %q, stderr %q", c.name, h, code, out, errs)
			}
		}
	}
	if code, out, _ := cli(t.Context(), "--help"); code != exitOK || !strings.Contains(out, "Commands:") {
		t.Errorf("coldmove --help: exit %d, %q", code, out)
	}
	if code, _, errs := cli(t.Context()); code != exitUsage || !strings.Contains(errs, "Commands:") {
		t.Errorf("coldmove: exit %d, %q", code, errs)
	}
	if code, _, errs := cli(t.Context(), "migrate"); code != exitUsage || !strings.Contains(errs, `unknown command "migrate"`) {
		t.Errorf("coldmove migrate: exit %d, %q", code, errs)
	}
}

// The demo tells every story as expected and exits 0.
func TestDemo(t *testing.T) {
	t.Parallel()
	code, out, errs := cli(t.Context(), "demo", "--bin", functions(t))
	if code != exitOK || !strings.Contains(out, "every story ended as expected") {
		t.Fatalf("demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
