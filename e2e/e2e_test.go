package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/lambdatest"
	"github.com/coldmove/coldmove/internal/natstest"
)

// start runs a function binary long-lived with env, stopping it with
// SIGTERM when the test ends (and checking it exits cleanly).
func start(t *testing.T, name, bin string, env []string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan error, 1)
		go func() { <-done; exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s exited with %v", name, err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not stop on SIGINT", name)
		}
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
}

type request struct {
	name   string
	server string
	target *events.Target
	data   map[string]any // instead of server/target, for invalid requests
	want   string         // the terminal event type
	reason string         // its reason, for rejected and failed
}

// TestEndToEnd sends placement requests to the running functions and
// checks that each gets exactly one terminal outcome, of the right kind,
// and that nothing is published twice.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t, ecstest.WithClock(ecstest.WallClock{}),
		ecstest.WithJobTimings(ecstest.JobTimings{Queued: 100 * time.Millisecond, Migrating: 500 * time.Millisecond, Finishing: 200 * time.Millisecond}))
	ns := natstest.Run(t)
	roomy := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 64, MemoryMB: 262144})
	tight := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 1, MemoryMB: 1024})

	reqs := []request{
		{name: "onto a host", server: sim.AddServer(ecstest.ServerSpec{}), target: events.HostTarget(roomy), want: events.TypeCompleted},
		{name: "off a host", server: sim.AddServer(ecstest.ServerSpec{DedicatedHostID: roomy}), target: events.PublicPoolTarget(), want: events.TypeCompleted},
		{name: "already there", server: sim.AddServer(ecstest.ServerSpec{DedicatedHostID: roomy, Status: "ACTIVE"}), target: events.HostTarget(roomy), want: events.TypeCompleted},
		{name: "running", server: sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"}), target: events.HostTarget(roomy), want: events.TypeRejected, reason: "server_not_stopped"},
		{name: "prepaid", server: sim.AddServer(ecstest.ServerSpec{ChargingMode: "1"}), target: events.HostTarget(roomy), want: events.TypeRejected, reason: "not_pay_per_use"},
		{name: "no room on the host", server: sim.AddServer(ecstest.ServerSpec{VCPUs: 8, RAMMB: 16384}), target: events.HostTarget(tight), want: events.TypeFailed, reason: "job_failed"},
		{name: "empty target", server: sim.AddServer(ecstest.ServerSpec{}), data: map[string]any{"target": map[string]any{}}, want: events.TypeRejected, reason: "invalid_payload"},
	}

	dir := t.TempDir()
	cred := sim.Credentials()
	env := []string{
		"HUAWEICLOUD_SDK_AK=" + cred.AccessKey.Reveal(), "HUAWEICLOUD_SDK_SK=" + cred.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID=" + sim.ProjectID(), "COLDMOVE_REGION=cn-north-4",
		"COLDMOVE_ECS_ENDPOINT=" + sim.URL, "NATS_URL=" + ns.ClientURL(),
		"COLDMOVE_POLL_INTERVAL=1s", "COLDMOVE_MIGRATION_TIMEOUT=10m",
	}
	start(t, "migrate", lambdatest.BuildDir(t, "../functions/migrate", mkdir(t, dir, "migrate")), env)
	start(t, "poll", lambdatest.BuildDir(t, "../functions/poll", mkdir(t, dir, "poll")), env)

	// Watch the outcomes as they are published.
	outcomes := make(chan *nats.Msg, 64)
	sub, err := ns.Conn().ChanSubscribe("coldmove.placement.*.*", outcomes)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	js := ns.JetStream()
	byID := map[string]request{}
	for i, r := range reqs {
		data := r.data
		if data == nil {
			data = map[string]any{"target": r.target}
		}
		data["server_id"] = r.server
		id := fmt.Sprintf("e2e-%d", i)
		byID[id] = r
		body, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": id, "source": "/e2e", "type": events.TypeRequested,
			"subject": r.server, "data": data})
		// The stream exists once migrate is up; publish until it takes.
		publish(t, js, events.RequestSubject("coldmove", r.server), body)
	}

	terminal := map[string]event.Event{}
	deadline := time.After(90 * time.Second)
	for len(terminal) < len(reqs) {
		select {
		case m := <-outcomes:
			ev, err := events.ParseMessage(m.Header, m.Data)
			if err != nil || ev.Type() == events.TypeRequested {
				continue
			}
			if !events.IsTerminal(ev.Type()) {
				continue
			}
			var c events.Correlation
			if err := ev.DataAs(&c); err != nil {
				t.Fatal(err)
			}
			if prev, dup := terminal[c.RequestID]; dup {
				t.Errorf("request %s: second terminal event %s after %s", c.RequestID, ev.Type(), prev.Type())
			}
			terminal[c.RequestID] = ev
		case <-deadline:
			t.Fatalf("terminal outcomes after 90s: %d of %d", len(terminal), len(reqs))
		}
	}
	for id, r := range byID {
		ev := terminal[id]
		var data struct {
			Reason         string `json:"reason"`
			AlreadyInPlace bool   `json:"already_in_place"`
			ServerID       string `json:"server_id"`
		}
		_ = ev.DataAs(&data)
		if ev.Type() != r.want || data.Reason != r.reason || data.ServerID != r.server {
			t.Errorf("%s: got %s (reason %q) for server %s, want %s (reason %q)", r.name, ev.Type(), data.Reason, data.ServerID, r.want, r.reason)
		}
		if r.name == "already there" && !data.AlreadyInPlace {
			t.Errorf("%s: not already_in_place", r.name)
		}
		if r.want == events.TypeCompleted && r.name != "already there" {
			st, _ := sim.Server(r.server)
			if sim.Migrations(r.server) != 1 || (r.target.PublicPool && st.DedicatedHostID != "") || (!r.target.PublicPool && st.DedicatedHostID != r.target.DedicatedHostID) {
				t.Errorf("%s: server %+v after %d migrations", r.name, st, sim.Migrations(r.server))
			}
		}
	}

	// The stream holds each outcome once, under its CloudEvent id.
	seen := map[string]bool{}
	for _, m := range streamMessages(t, js) {
		if strings.Contains(m.Subject(), ".requested.") {
			continue
		}
		id := m.Headers().Get("Nats-Msg-Id")
		if id == "" || id != m.Headers().Get("ce-id") {
			t.Errorf("outcome on %s: Nats-Msg-Id %q, ce-id %q", m.Subject(), id, m.Headers().Get("ce-id"))
		}
		if seen[id] {
			t.Errorf("message %s stored twice", id)
		}
		seen[id] = true
	}
}

func mkdir(t *testing.T, parent, name string) string {
	t.Helper()
	d := parent + "/" + name
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// publish publishes a request to the stream, waiting for migrate to have
// created it.
func publish(t *testing.T, js jetstream.JetStream, subject string, body []byte) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := js.Publish(t.Context(), subject, body)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish %s: %v", subject, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func streamMessages(t *testing.T, js jetstream.JetStream) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, "COLDMOVE", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"coldmove.placement.>"}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for uint64(len(out)) < info.NumPending {
		b, err := c.Fetch(int(info.NumPending)-len(out), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range b.Messages() {
			out = append(out, m)
			n++
		}
		if n == 0 {
			break
		}
	}
	return out
}
