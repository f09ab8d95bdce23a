package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/internal/natsembed"
)

const demoSynopsis = `Runs the whole system on this machine and tells its stories: an in-process
NATS server with JetStream (its store in a temporary folder, removed after),
the ECS simulator with a seeded fleet, and the migrate and poll functions as
long-running child processes (poll ticking every second). It sends the stories
as requests — onto a dedicated host, between hosts, back to the public pool, a
running, a prepaid and a locked server, a job that fails for lack of NUMA
room, one request delivered three times at once, a malformed request, and a
running server moved with --stop soft --restart — shows
their events as a live timeline, then a summary table. It exits 0 only if every
story ended as expected. With --stay everything keeps running afterwards,
until Ctrl-C, for requests of your own.`

const demoExample = `  make demo                    # builds bin/coldmove, bin/migrate, bin/poll, then runs this
  go run ./cmd/coldmove demo   # from the source tree: builds the functions first
  bin/coldmove demo --stay --nats-port 4222 &   # then: NATS_URL=nats://127.0.0.1:4222 bin/coldmove request …`

func runDemo(ctx context.Context, args []string, io stdio) int {
	fs := newFlags("demo [flags]", demoSynopsis, demoExample, io, false)
	bin := fs.String("bin", exeDir(), "`folder` holding the migrate and poll binaries")
	timeout := fs.Duration("timeout", 90*time.Second, "give up on stories that have not ended after this `long`")
	keep := fs.Bool("keep", false, "keep the temporary folder (NATS store, function logs) for a look afterwards")
	stay := fs.Bool("stay", false, "after the stories, keep NATS, the simulator and both functions running until Ctrl-C")
	port := fs.Int("nats-port", 0, "loopback `port` of the NATS server (default: a free one)")
	if code, done := fs.parse(args); done {
		return code
	}
	d := &demo{io: io, colour: isTerminal(io.out), stay: *stay, natsPort: *port}
	ok, err := d.run(ctx, *bin, *timeout, *keep)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove demo: %v\n", err)
		return exitError
	}
	if !ok {
		return exitFailed
	}
	return exitOK
}

// exeDir is the folder of the running executable ("bin" when unknown).
func exeDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "bin"
	}
	return filepath.Dir(exe)
}

// demo is one run of the demo.
type demo struct {
	io       stdio
	colour   bool
	stay     bool
	natsPort int
	names    map[string]string

	mu      sync.Mutex
	stories map[string]*story // by request id
	open    int               // stories not ended yet
	allDone chan struct{}
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.io.out, format+"\n", args...)
}

// run runs the demo; ok reports whether every story ended as expected.
func (d *demo) run(ctx context.Context, bin string, timeout time.Duration, keep bool) (ok bool, err error) {
	start := time.Now()
	tmp, err := os.MkdirTemp("", "coldmove-demo-")
	if err != nil {
		return false, err
	}
	if keep {
		defer d.say("kept %s (NATS store, migrate.log, poll.log)", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	migrateBin, pollBin, err := findFunctions(ctx, bin, filepath.Join(tmp, "bin"))
	if err != nil {
		return false, err
	}

	ns, err := natsembed.Start(natsembed.Config{StoreDir: filepath.Join(tmp, "nats"), Port: d.natsPort})
	if err != nil {
		return false, fmt.Errorf("start NATS: %w", err)
	}
	defer ns.Shutdown()
	fleet, err := loadFleet("")
	if err != nil {
		return false, err
	}
	d.names = names(fleet.Inventory)
	sim, err := serveSimulator(ctx, fleet, "127.0.0.1:0", d.io.err)
	if err != nil {
		return false, err
	}
	defer sim.stop()
	d.say("coldmove demo")
	d.say("  NATS with JetStream  %s (store in %s)", ns.ClientURL(), filepath.Join(tmp, "nats"))
	d.say("  ECS simulator        %s (project %s: 3 dedicated hosts, 10 servers)", sim.url, fleet.Inventory.Projects[0].ID)

	cfg := bus.DefaultConfig()
	cfg.URL = ns.ClientURL()
	cfg.Name = "coldmove-demo"
	b, err := bus.Connect(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer b.Close(context.WithoutCancel(ctx))
	if _, err := b.EnsureStream(ctx); err != nil {
		return false, err
	}

	cred := fleet.Credentials[0]
	env := []string{
		"HUAWEICLOUD_SDK_AK=" + cred.AccessKey.Reveal(), "HUAWEICLOUD_SDK_SK=" + cred.SecretKey.Reveal(),
		"HUAWEICLOUD_SDK_PROJECT_ID=" + fleet.Inventory.Projects[0].ID, "COLDMOVE_REGION=cn-north-4",
		"COLDMOVE_ECS_ENDPOINT=" + sim.url, "NATS_URL=" + ns.ClientURL(),
		"COLDMOVE_POLL_INTERVAL=1s", "COLDMOVE_CONSUMER_BACKOFF=1s,2s,4s", "COLDMOVE_LOG_LEVEL=debug",
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop(10 * time.Second)
		}
	}()
	for _, f := range []struct{ name, path string }{{"migrate", migrateBin}, {"poll", pollBin}} {
		c, err := startChild(f.name, f.path, tmp, env)
		if err != nil {
			return false, err
		}
		children = append(children, c)
	}
	d.say("  functions            migrate (pid %d) and poll (pid %d), long-running; logs in %s",
		children[0].cmd.Process.Pid, children[1].cmd.Process.Pid, tmp)
	if err := d.awaitConsumer(ctx, b, children); err != nil {
		return false, err
	}

	fol, err := openFollower(ctx, b, placementSubjects(cfg.SubjectPrefix, ""), true)
	if err != nil {
		return false, err
	}
	sts := stories()
	d.stories, d.open, d.allDone = map[string]*story{}, len(sts), make(chan struct{})
	followCtx, stopFollowing := context.WithCancel(ctx)
	followed := make(chan error, 1)
	go func() { followed <- fol.run(followCtx, d.see) }()

	d.say("\n%d stories, sent at once; their events as they happen:\n", len(sts))
	now := time.Now()
	d.mu.Lock()
	for _, s := range sts {
		if err := s.send(ctx, b, now); err != nil {
			d.mu.Unlock()
			stopFollowing()
			return false, fmt.Errorf("send %q: %w", s.name, err)
		}
		d.stories[s.id] = s
	}
	d.mu.Unlock()

	select {
	case <-d.allDone:
	case <-time.After(timeout):
		d.say("\ntimed out after %s with stories still open", timeout)
	case <-ctx.Done():
		stopFollowing()
		return false, ctx.Err()
	}
	// Let every delivery of every request be handled, so that a second
	// terminal event would show.
	d.settle(ctx, b, 10*time.Second)
	stopFollowing()
	<-followed
	for _, c := range children {
		if err, gone := c.exited(); gone {
			d.say("%s %v early; the end of its log:\n%s", c.name, err, c.tail(20))
		}
	}
	ok = d.summary(sts, sim, time.Since(start))
	if d.stay {
		d.say("\nstill running until Ctrl-C; in another shell:")
		d.say("  export NATS_URL=%s", ns.ClientURL())
		d.say("  coldmove request --server %s --dedicated-host %s --wait   # spare-1 onto deh-a", spare1, dehA)
		d.say("  coldmove watch   # or: coldmove status")
		<-ctx.Done()
	}
	return ok, nil
}

// awaitConsumer waits until migrate has set up its request consumer,
// failing early when a function exits.
func (d *demo) awaitConsumer(ctx context.Context, b *bus.Bus, children []*child) error {
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, c := range children {
			if err, gone := c.exited(); gone {
				return fmt.Errorf("%s %w (%v); the end of its log:\n%s", c.name, errExited, err, c.tail(20))
			}
		}
		st, err := b.JetStream().Stream(ctx, b.Config().Stream)
		if err == nil {
			if _, err := st.Consumer(ctx, b.Config().Consumer); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("migrate did not set up its consumer within 30s; see %s", children[0].log)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// see prints an event on the timeline and records a story's ending.
func (d *demo) see(it item) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stories[it.Data.RequestID]
	if s == nil {
		s = d.stories[it.Event.ID()] // a request itself
	}
	ln := line(it, d.colour, d.names)
	if s != nil {
		ln += "   " + dim(d.colour, "("+s.name+")")
	}
	fmt.Fprintln(d.io.out, ln)
	if s == nil || !it.terminal() {
		return true
	}
	s.endings++
	if s.endings == 1 {
		s.got, s.ended = outcomeOf(it), time.Now()
		d.open--
		if d.open == 0 {
			close(d.allDone)
		}
	}
	return true
}

func dim(colour bool, s string) string {
	if !colour {
		return s
	}
	return colDim + s + colReset
}

// settle waits until the request consumer has nothing pending or in
// flight, at most max.
func (d *demo) settle(ctx context.Context, b *bus.Bus, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		st, err := b.JetStream().Stream(ctx, b.Config().Stream)
		if err != nil {
			return
		}
		c, err := st.Consumer(ctx, b.Config().Consumer)
		if err != nil {
			return
		}
		info, err := c.Info(ctx)
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// simCounter counts what the simulator saw.
type simCounter interface {
	MigrateCalls(serverID string) int
	Calls(op ecstest.Op) int
	Server(id string) (ecstest.ServerState, bool)
}

// summary prints the table of stories and reports whether all ended as
// expected.
func (d *demo) summary(sts []*story, sim simCounter, took time.Duration) bool {
	d.say("")
	tw := tabwriter.NewWriter(d.io.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STORY\tEXPECTED\tGOT\tMIGRATE CALLS\tTIME\t")
	good := 0
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range sts {
		got, calls := s.got, sim.MigrateCalls(s.server)
		if got == "" {
			got = "(no outcome)"
		}
		if s.endings > 1 {
			got += fmt.Sprintf(" ×%d", s.endings)
		}
		ok := s.got == s.expect && s.endings == 1 && calls == s.calls
		if s.power != nil {
			// Moved while running: it must end running, on the target.
			st, found := sim.Server(s.server)
			on := found && st.Status == "ACTIVE" && st.TaskState == "" && st.DedicatedHostID == s.target.DedicatedHostID
			ok = ok && on && sim.Calls(ecstest.OpBatchStartServers) == s.starts
			if on {
				got += " (running again)"
			}
		}
		mark := "✓"
		if !ok {
			mark = "✗"
		} else {
			good++
		}
		elapsed := "-"
		if !s.ended.IsZero() {
			elapsed = fmt.Sprintf("%.1fs", s.ended.Sub(s.sent).Seconds())
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%d (want %d)\t%s\t\n", mark, s.name, s.expect, got, calls, s.calls, elapsed)
	}
	_ = tw.Flush()
	verdict := "every story ended as expected"
	if good != len(sts) {
		verdict = fmt.Sprintf("%d of %d stories did not end as expected", len(sts)-good, len(sts))
	}
	d.say("\n%s (%d of %d) in %s", verdict, good, len(sts), took.Round(100*time.Millisecond))
	return good == len(sts)
}
