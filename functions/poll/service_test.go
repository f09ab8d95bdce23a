package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

func TestBinary_longRunningTicksAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{}))
	r := e.submit(submission{})
	// An operator shortened the stream's duplicate window: poll warns.
	st, err := e.nats.JetStream().Stream(t.Context(), e.cfg.Bus.Stream)
	if err != nil {
		t.Fatal(err)
	}
	sc := st.CachedInfo().Config
	sc.Duplicates = time.Minute
	if _, err := e.nats.JetStream().UpdateStream(t.Context(), sc); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pollBinary(t))
	cmd.Env = e.environ("COLDMOVE_POLL_INTERVAL=1h")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitFor := func(message string) string {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("poll ended before logging %q; stderr:\n%s", message, stderr.String())
				}
				if strings.Contains(l, `"message":"`+message+`"`) {
					return l
				}
			case <-timeout:
				t.Fatalf("poll did not log %q", message)
			}
		}
	}

	waitFor("the stream's duplicate window is shorter than coldmove relies on: a re-published outcome may be stored twice")
	// The first tick runs at once.
	var tick struct {
		Trigger struct{ Kind string } `json:"trigger"`
		Summary Summary               `json:"summary"`
	}
	if err := json.Unmarshal([]byte(waitFor("tick")), &tick); err != nil {
		t.Fatal(err)
	}
	if tick.Trigger.Kind != "interval" || tick.Summary.Completed != 1 {
		t.Errorf("tick = %+v", tick)
	}
	e.checkFinished(r, e.only())

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor("NATS drained")
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("poll exited with %v; stderr:\n%s", err, stderr.String())
	}
}

// A long-running poll outlives a NATS restart that takes far longer than
// the 20 reconnection attempts Lambda allows (here 20 × 5 ms): it keeps
// reconnecting, says so in its log, and goes on ticking.
func TestBinary_longRunningOutlivesANATSRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{}))
	cmd := exec.Command(pollBinary(t))
	cmd.Env = e.environ("COLDMOVE_POLL_INTERVAL=1s", "COLDMOVE_NATS_RECONNECT_WAIT=5ms")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitFor := func(message string) {
		t.Helper()
		timeout := time.After(30 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("poll ended before logging %q", message)
				}
				if strings.Contains(l, `"message":"`+message) {
					return
				}
			case <-timeout:
				t.Fatalf("poll did not log %q", message)
			}
		}
	}
	waitFor("poll ready")
	e.nats.Shutdown()
	waitFor("NATS connection lost; reconnecting")
	// NATS stays down for longer than the 20 attempts would last: real
	// time must pass here, and a slower machine only makes it longer.
	time.Sleep(500 * time.Millisecond)
	if err := e.nats.Server.Restart(); err != nil {
		t.Fatal(err)
	}
	waitFor("NATS reconnected")
	r := e.submit(submission{})
	waitFor("outcome published")
	// The job and the server lock go right after.
	deadline := time.Now().Add(30 * time.Second)
	for snap := e.Snapshot(); snap.Job(r.JobID) != nil || snap.Lock(r.ServerID) != nil; snap = e.Snapshot() {
		if time.Now().After(deadline) {
			t.Fatal("the job and its lock were not removed after its outcome was published")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.checkFinished(r, e.only())
}
