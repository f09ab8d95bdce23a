package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// pollFaults are every fault the simulator injects, by name.
var pollFaults = []struct {
	name  string
	fault ecstest.Fault
}{
	{"gateway throttle", ecstest.GatewayThrottle()}, {"API throttle", ecstest.APIThrottle()}, {"flow limit", ecstest.FlowLimit()},
	{"500", ecstest.ServerError(500)}, {"501", ecstest.ServerError(501)}, {"503", ecstest.ServerError(503)},
	{"504", ecstest.ServerError(504)}, {"connection reset", ecstest.ConnectionReset()}, {"latency", ecstest.Latency(20 * time.Millisecond)},
	{"malformed body", ecstest.MalformedBody()}, {"truncated body", ecstest.TruncatedBody()}, {"response lost", ecstest.ResponseLost()},
}

// TestTrouble_everyFaultOnEveryCallOfPoll injects every simulator fault on
// each call poll makes (ShowJob, ShowServer), once and on every call, for
// a job it follows by id, a request whose migrate answer was lost (watch
// record) and one whose migrate call never arrived, and ticks until the
// request ends. The cases run one after the other on one stack and one
// clock, each with a fresh poller, so each fault hits exactly the calls it
// is meant for. The request submitted here calls MigrateServer the way
// migrate does (TestTrouble_everyFaultOnEveryCallOfMigrate covers
// migrate's side of each fault); what is under test is poll's reading of
// each answer: the outcome must be the simulator's truth — completed only
// with the server on its target, failed or rejected never with it there, a
// request whose call never arrived never completed — and trouble that
// never passes ends timedout at the deadline, never a guess.
func TestTrouble_everyFaultOnEveryCallOfPoll(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kinds := []struct {
		name string
		sub  submission
	}{
		{"job", submission{deadline: time.Minute}},
		{"answer lost", submission{watch: true, deadline: time.Minute}},
		{"call never arrived", submission{watch: true, noCall: true, deadline: time.Minute}},
	}
	tally := map[string]int{}
	for _, kind := range kinds {
		for _, op := range []ecstest.Op{ecstest.OpShowJob, ecstest.OpShowServer} {
			for _, f := range pollFaults {
				for _, always := range []bool{false, true} {
					name := fmt.Sprintf("%s: %s %s (every call %t)", kind.name, op, f.name, always)
					r := e.submit(kind.sub)
					e.sim.Advance(migration)
					if always {
						e.sim.InjectRandom(op, 1, f.fault)
					} else {
						e.sim.InjectNext(op, 1, f.fault)
					}
					p, led := quietPoller(t, e, "poll-"+name)
					recordID := r.JobID
					if recordID == "" {
						recordID = ledger.WatchRecordID(r.Key)
					}
					for tick := 0; tick < 40; tick++ {
						mustTick(t, t.Context(), p)
						j, err := led.GetJob(t.Context(), recordID)
						if errors.Is(err, ledger.ErrNotFound) {
							break
						}
						if err != nil {
							t.Fatal(err)
						}
						e.clock.Set(j.NextPoll)
					}
					e.sim.ClearFaults()
					c, err := led.Claim(t.Context(), r.Key)
					if err != nil {
						t.Fatal(err)
					}
					if c.State != ledger.StateFinished || !c.OutcomePublished {
						t.Errorf("%s: claim %s (outcome published %t) after 40 ticks", name, c.State, c.OutcomePublished)
						continue
					}
					out, err := events.ParseStructured(c.Outcome)
					if err != nil {
						t.Fatal(err)
					}
					tally[out.Type()]++
					st, _ := e.sim.Server(r.ServerID)
					moved := st.DedicatedHostID == r.Target.DedicatedHostID
					switch typ := out.Type(); {
					case typ == events.TypeCompleted && !moved:
						t.Errorf("%s: completed, but the server is on %q", name, st.DedicatedHostID)
					case (typ == events.TypeFailed || typ == events.TypeRejected) && moved:
						t.Errorf("%s: %s, but the server is on its target", name, typ)
					case typ == events.TypeCompleted && kind.sub.noCall:
						t.Errorf("%s: completed, but no migrate call reached the API", name)
					case typ == events.TypeTimedOut && !always && !kind.sub.noCall:
						t.Errorf("%s: timed out after trouble that passed", name)
					case typ != events.TypeTimedOut && typ != events.TypeCompleted:
						t.Errorf("%s: ended %s", name, typ)
					}
					if n := e.sim.MigrateCalls(r.ServerID); n > 1 {
						t.Errorf("%s: %d migrate calls", name, n)
					}
				}
			}
		}
	}
	if snap := e.Snapshot(); len(snap.Locks) != 0 || len(snap.Jobs) != 0 {
		t.Errorf("left in the ledger: %d locks, %d job records", len(snap.Locks), len(snap.Jobs))
	}
	if n := len(e.outcomes()); n != 3*2*len(pollFaults)*2 {
		t.Errorf("%d outcomes on the stream, want one per case", n)
	}
	t.Logf("outcomes of %d cases: %v", 3*2*len(pollFaults)*2, tally)
}

// quietPoller is e.poller logging nowhere: the cases here make thousands
// of decisions.
func quietPoller(t *testing.T, e *env, owner string) (*Poller, *ledger.Ledger) {
	t.Helper()
	ecs, err := newECS(e.cfg, stacktest.FastRetries)
	if err != nil {
		t.Fatal(err)
	}
	led := e.ledger(owner)
	return NewPoller(ecs, e.bus, led, DefaultPolicy(e.cfg.Concurrency), WithClock(e.clock.Now),
		WithLogger(slog.New(slog.NewJSONHandler(io.Discard, nil)))), led
}
