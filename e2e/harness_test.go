package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
)

// This file is the harness of the end-to-end tests that run many
// requests against the real binaries: the binaries built once, processes
// that can be killed and restarted, a simulated ECS of several
// independent "lanes" behind one endpoint, and the outcomes on the stream.

var (
	buildOnce            sync.Once
	buildDir             string
	migrateBin, pollBin  string
	soak                 = os.Getenv("COLDMOVE_SOAK") == "1"
	harnessRegion        = "cn-north-4"
	requestSubjectMarker = ".placement.requested."
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binaries builds the migrate and poll functions once per test binary.
func binaries(t *testing.T) (migrate, poll string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coldmove-e2e-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = dir
		for _, fn := range []string{"migrate", "poll"} {
			if err := os.Mkdir(filepath.Join(dir, fn), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		migrateBin = lambdatest.BuildDir(t, "../functions/migrate", filepath.Join(dir, "migrate"))
		pollBin = lambdatest.BuildDir(t, "../functions/poll", filepath.Join(dir, "poll"))
	})
	if migrateBin == "" || pollBin == "" {
		t.Fatal("the binaries did not build")
	}
	return migrateBin, pollBin
}

// seedFor returns the seed of a test: COLDMOVE_SEED when set, else def.
func seedFor(t *testing.T, def uint64) uint64 {
	t.Helper()
	if s := os.Getenv("COLDMOVE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COLDMOVE_SEED=%q: %v", s, err)
		}
		return n
	}
	return def
}

// proc is a function binary run long-lived, which a test may kill with
// SIGKILL and start again. Everything every run of it wrote (stdout and
// stderr) is kept.
type proc struct {
	name, bin string
	env       []string

	mu   sync.Mutex
	out  bytes.Buffer
	cmd  *exec.Cmd
	done chan struct{}
	runs int
}

// startProc starts bin with env (and PATH), and stops it with SIGINT when
// the test ends, checking that it exits cleanly.
func startProc(t *testing.T, name, bin string, env []string) *proc {
	t.Helper()
	p := &proc{name: name, bin: bin, env: env}
	p.start(t)
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() && !soak {
			t.Logf("%s output (last 8 KiB):\n%s", name, tail(p.output(), 8<<10))
		}
	})
	return p
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(p.bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, p.env...)
	w := writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.out.Write(b)
	})
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.runs++
	fmt.Fprintf(&p.out, "\n--- %s run %d (pid %d) ---\n", p.name, p.runs, cmd.Process.Pid)
	p.mu.Unlock()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// kill ends the process at once with SIGKILL — no drain, no cleanup —
// and waits for it to be gone.
func (p *proc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	_ = cmd.Process.Kill()
	<-done
}

// stop asks the process to stop (SIGINT) and fails the test if it does
// not exit cleanly within 20 s.
func (p *proc) stop(t *testing.T) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
		if cmd.ProcessState != nil && !cmd.ProcessState.Success() {
			t.Errorf("%s exited with %v on SIGINT", p.name, cmd.ProcessState)
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("%s did not stop within 20s of SIGINT", p.name)
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lane is one simulated ECS with a project of its own, whose faults are
// its own.
type lane struct {
	name    string
	sim     *ecstest.Simulator
	project string
	host    string // a dedicated host with room for every server
}

// lanes are simulators behind one endpoint, which routes each request by
// the project in its path (/v1/{project_id}/…): each lane gets the faults
// of its own, and every binary talks to all of them. They all accept one
// credential.
type lanes struct {
	URL  string
	cred ecstest.Credential
	all  []*lane
}

// newLanes starts one simulator per name on the wall clock, with fast
// job timings and seeds derived from seed.
func newLanes(t *testing.T, cred ecstest.Credential, seed uint64, names ...string) *lanes {
	t.Helper()
	timings := ecstest.JobTimings{Queued: 50 * time.Millisecond, Migrating: 300 * time.Millisecond, Finishing: 100 * time.Millisecond}
	l := &lanes{cred: cred}
	byProject := map[string]*lane{}
	for i, name := range names {
		sim, err := ecstest.NewSimulator(ecstest.Config{Clock: ecstest.WallClock{}, Seed: seed*1000 + uint64(i), Timings: &timings,
			Credentials: []ecstest.Credential{cred}, RequestLogSize: 1 << 17})
		if err != nil {
			t.Fatal(err)
		}
		project, err := sim.CreateProject("")
		if err != nil {
			t.Fatal(err)
		}
		host, err := sim.CreateDedicatedHost(ecstest.HostSpec{ProjectID: project, VCPUs: 1 << 16, MemoryMB: 1 << 26})
		if err != nil {
			t.Fatal(err)
		}
		ln := &lane{name: name, sim: sim, project: project, host: host}
		l.all = append(l.all, ln)
		byProject[project] = ln
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
		if len(parts) >= 2 {
			if ln, ok := byProject[parts[1]]; ok {
				ln.sim.ServeHTTP(w, r)
				return
			}
		}
		l.all[0].sim.ServeHTTP(w, r) // answers as ECS does for a project it does not know
	}))
	t.Cleanup(ts.Close)
	l.URL = ts.URL
	return l
}

// env returns the environment of a binary using the lanes and NATS, with
// extra variables after the defaults.
func (l *lanes) env(natsURL string, extra ...string) []string {
	env := []string{
		"HUAWEICLOUD_SDK_AK=" + l.cred.AccessKey.Reveal(), "HUAWEICLOUD_SDK_SK=" + l.cred.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID=" + l.all[0].project, "COLDMOVE_REGION=" + harnessRegion,
		"COLDMOVE_ECS_ENDPOINT=" + l.URL, "NATS_URL=" + natsURL,
		"COLDMOVE_POLL_INTERVAL=1s", "COLDMOVE_API_RATE=0", "COLDMOVE_MIGRATION_TIMEOUT=10m",
	}
	if l.cred.SecurityToken != "" {
		env = append(env, "HUAWEICLOUD_SDK_SECURITY_TOKEN="+l.cred.SecurityToken.Reveal())
	}
	return append(env, extra...)
}

// placement is one request a test sent, and where it asked to move what.
type placement struct {
	id     string
	lane   *lane
	server string
	body   []byte // the structured CloudEvent
}

// newPlacement creates a stopped server in the lane and the request that
// moves it onto the lane's host by deadline.
func newPlacement(t *testing.T, ln *lane, id string, deadline time.Time) *placement {
	t.Helper()
	srv, err := ln.sim.CreateServer(ecstest.ServerSpec{ProjectID: ln.project})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{
		"specversion": "1.0", "id": id, "source": "/e2e", "type": events.TypeRequested, "subject": srv,
		"datacontenttype": "application/json",
		"data": map[string]any{"server_id": srv, "project_id": ln.project, "target": events.HostTarget(ln.host),
			"deadline": deadline.UTC().Format(time.RFC3339)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &placement{id: id, lane: ln, server: srv, body: body}
}

// watcher follows the outcomes published (a plain subscription: a
// re-publish shows twice here, while the stream stores it once).
type watcher struct {
	mu       sync.Mutex
	terminal map[string]string // request id → first terminal type seen
	changed  chan struct{}
}

func watch(t *testing.T, nc *nats.Conn) *watcher {
	t.Helper()
	w := &watcher{terminal: map[string]string{}, changed: make(chan struct{}, 1)}
	sub, err := nc.Subscribe("coldmove.placement.*.*", func(m *nats.Msg) {
		if strings.Contains(m.Subject, requestSubjectMarker) {
			return
		}
		ev, err := events.ParseMessage(m.Header, m.Data)
		if err != nil || !events.IsTerminal(ev.Type()) {
			return
		}
		var c events.Correlation
		if ev.DataAs(&c) != nil {
			return
		}
		w.mu.Lock()
		if _, ok := w.terminal[c.RequestID]; !ok {
			w.terminal[c.RequestID] = ev.Type()
		}
		w.mu.Unlock()
		select {
		case w.changed <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return w
}

// wait waits until every id has a terminal event, or until limit; it
// returns the ids still without one.
func (w *watcher) wait(ids []string, limit time.Duration) []string {
	deadline := time.After(limit)
	for {
		w.mu.Lock()
		var missing []string
		for _, id := range ids {
			if _, ok := w.terminal[id]; !ok {
				missing = append(missing, id)
			}
		}
		w.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-w.changed:
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			return missing
		}
	}
}

// stored is what the stream holds for one request.
type stored struct {
	terminal []event.Event
	accepted int
}

// storedOutcomes reads every outcome on the stream, by request id.
func storedOutcomes(t *testing.T, js jetstream.JetStream) map[string]*stored {
	t.Helper()
	out := map[string]*stored{}
	for _, m := range streamMessages(t, js) {
		if strings.Contains(m.Subject(), requestSubjectMarker) {
			continue
		}
		ev, err := events.ParseMessage(m.Headers(), m.Data())
		if err != nil {
			t.Errorf("outcome on %s does not parse: %v", m.Subject(), err)
			continue
		}
		var c events.Correlation
		if err := ev.DataAs(&c); err != nil {
			t.Errorf("outcome %s data: %v", ev.ID(), err)
			continue
		}
		s := out[c.RequestID]
		if s == nil {
			s = &stored{}
			out[c.RequestID] = s
		}
		switch {
		case events.IsTerminal(ev.Type()):
			s.terminal = append(s.terminal, ev)
		case ev.Type() == events.TypeAccepted:
			s.accepted++
		}
	}
	return out
}

// possibleMigrateCalls counts the MigrateServer calls for a server that
// the API may have processed: every call that reached it but those it
// answered with an explicit "not done, try again" (throttling, the flow
// limit, Ecs.0603 busy), which coldmove may send again.
func possibleMigrateCalls(log []ecstest.Request, server string) (possible, all int) {
	for _, r := range log {
		if r.Op != ecstest.OpMigrateServer || r.ServerID != server || !r.Authenticated {
			continue
		}
		all++
		switch r.Fault {
		case "gateway-throttle", "api-throttle", "flow-limit", "server-error-501":
		default:
			possible++
		}
	}
	return possible, all
}

// verdict judges one request by the stream and the simulator's truth.
type verdict struct {
	outcome    string // the terminal type, "" when none
	reason     string
	moved      bool
	migrations int
	possible   int
	calls      int
	problems   []string
}

// judge checks a request: exactly one terminal event on the stream, at
// most one accepted; at most one call the API may have processed and one
// migration; and an outcome the simulator's truth allows — completed only
// with the server on its target and a migration started, failed or
// rejected never with the server moved, rejected never after a migration
// started.
func judge(p *placement, s *stored, log []ecstest.Request) verdict {
	var v verdict
	st, _ := p.lane.sim.Server(p.server)
	v.moved = st.DedicatedHostID == p.lane.host
	v.migrations = p.lane.sim.Migrations(p.server)
	v.possible, v.calls = possibleMigrateCalls(log, p.server)
	bad := func(format string, args ...any) { v.problems = append(v.problems, fmt.Sprintf(format, args...)) }
	if s == nil {
		s = &stored{}
	}
	switch len(s.terminal) {
	case 0:
		bad("no terminal event on the stream")
	case 1:
	default:
		var types []string
		for _, e := range s.terminal {
			types = append(types, e.Type())
		}
		bad("%d terminal events on the stream: %v", len(s.terminal), types)
	}
	if s.accepted > 1 {
		bad("%d accepted events on the stream", s.accepted)
	}
	if v.possible > 1 || v.migrations > 1 {
		bad("%d MigrateServer calls the API may have processed (%d in all), %d migrations", v.possible, v.calls, v.migrations)
	}
	if len(s.terminal) == 0 {
		return v
	}
	e := s.terminal[0]
	v.outcome = e.Type()
	var d struct {
		Reason string `json:"reason"`
	}
	_ = e.DataAs(&d)
	v.reason = d.Reason
	switch e.Type() {
	case events.TypeCompleted:
		if !v.moved {
			bad("completed, but the server is on %q, not on %s", st.DedicatedHostID, p.lane.host)
		}
		if v.calls == 0 || v.migrations == 0 {
			bad("completed, but %d migrate calls reached the simulator and %d migrations started", v.calls, v.migrations)
		}
	case events.TypeFailed:
		if v.moved {
			bad("failed (%s), but the server moved to its target", d.Reason)
		}
	case events.TypeRejected:
		if v.moved || v.migrations != 0 {
			bad("rejected (%s), but %d migrations started (moved: %t)", d.Reason, v.migrations, v.moved)
		}
	}
	return v
}

// terminalKinds tallies verdicts by outcome and reason.
func terminalKinds(vs []verdict) map[string]int {
	m := map[string]int{}
	for _, v := range vs {
		k := strings.TrimPrefix(v.outcome, "dev.coldmove.placement.")
		if v.reason != "" {
			k += "/" + v.reason
		}
		m[k]++
	}
	return m
}

// faultsInjected counts the requests a simulator answered with a fault.
func faultsInjected(log []ecstest.Request) map[string]int {
	m := map[string]int{}
	for _, r := range log {
		if r.Fault != "" {
			m[r.Fault]++
		}
	}
	return m
}
