package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// ecsFaults are every fault the simulator injects, by name.
func ecsFaults() []struct {
	name  string
	fault ecstest.Fault
} {
	return []struct {
		name  string
		fault ecstest.Fault
	}{
		{"gateway throttle", ecstest.GatewayThrottle()}, {"API throttle", ecstest.APIThrottle()}, {"flow limit", ecstest.FlowLimit()},
		{"500", ecstest.ServerError(500)}, {"501", ecstest.ServerError(501)}, {"503", ecstest.ServerError(503)},
		{"504", ecstest.ServerError(504)}, {"connection reset", ecstest.ConnectionReset()}, {"latency", ecstest.Latency(20 * time.Millisecond)},
		{"malformed body", ecstest.MalformedBody()}, {"truncated body", ecstest.TruncatedBody()}, {"response lost", ecstest.ResponseLost()},
	}
}

// refusedUnprocessed reports whether a fault answered a call with an
// explicit "not done, try again" (throttling, flow limit, Ecs.0603 busy):
// a call coldmove may send again. Every other call that reached the API
// may have been processed, and counts towards the one call a request may
// make.
func refusedUnprocessed(fault string) bool {
	switch fault {
	case "gateway-throttle", "api-throttle", "flow-limit", "server-error-501":
		return true
	}
	return false
}

// possibleCalls counts the MigrateServer calls for a server that the API
// may have processed (see refusedUnprocessed), from a request log.
func possibleCalls(log []ecstest.Request, server string) int {
	n := 0
	for _, r := range log {
		if r.Op == ecstest.OpMigrateServer && r.ServerID == server && r.Authenticated && !refusedUnprocessed(r.Fault) {
			n++
		}
	}
	return n
}

// TestTrouble_everyFaultOnEveryCallOfMigrate injects every simulator
// fault on each call the migrate handler makes (ShowServer, MigrateServer),
// once and for every call, then clears it, redelivering the request as a
// runtime would until it is settled. The cases run one after the other in
// one stack, so each fault hits exactly the call it is meant for. After
// each, what the handler and the ledger say must be what the simulator
// knows: a rejected request moved nothing; an accepted one has the job
// that moves its server; a tracked one (answer lost) made a call that may
// have been processed; never more than one call the API may have
// processed, never more than one migration.
func TestTrouble_everyFaultOnEveryCallOfMigrate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seen := map[Status]int{}
	for _, op := range []ecstest.Op{ecstest.OpShowServer, ecstest.OpMigrateServer} {
		for _, f := range ecsFaults() {
			for _, always := range []bool{false, true} {
				name := fmt.Sprintf("%s %s once", op, f.name)
				if always {
					name = fmt.Sprintf("%s %s on every call", op, f.name)
				}
				srv := e.sim.AddServer(ecstest.ServerSpec{})
				req := e.request(srv, events.HostTarget(e.host))
				if always {
					e.sim.InjectRandom(op, 1, f.fault)
				} else {
					e.sim.InjectNext(op, 1, f.fault)
				}
				var trail []string
				deliver := func() Outcome {
					var o Outcome
					for range 5 {
						o = e.h.HandleMessage(t.Context(), nil, req)
						trail = append(trail, string(o.Status)+"/"+o.Reason)
						if !o.Retryable() {
							break
						}
					}
					return o
				}
				first := deliver()
				e.sim.ClearFaults()
				final := first
				if first.Retryable() {
					final = deliver()
				}
				seen[final.Status]++
				checkAgainstTruth(t, e, name, req, srv, final, trail)
			}
		}
	}
	t.Logf("settled outcomes: %v", seen)
}

// checkAgainstTruth checks a settled request against the simulator.
func checkAgainstTruth(t *testing.T, e *env, name string, req []byte, srv string, o Outcome, trail []string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("%s (deliveries %s): %s", name, strings.Join(trail, " → "), fmt.Sprintf(format, args...))
	}
	migrations, calls := e.sim.Migrations(srv), possibleCalls(e.sim.Requests(), srv)
	if migrations > 1 || calls > 1 {
		fail("%d migrations, %d calls the API may have processed; want at most one", migrations, calls)
	}
	p, err := events.Decode(nil, req)
	if err != nil {
		t.Fatal(err)
	}
	c := e.Snapshot().Claim(p.Source, p.ID)
	if c == nil {
		fail("no claim")
		return
	}
	switch {
	case o.Retryable():
		fail("still retried once the trouble passed: %+v", o)
	case c.State == ledger.StateFinished:
		out, err := events.ParseStructured(c.Outcome)
		if err != nil {
			t.Fatal(err)
		}
		if out.Type() == events.TypeRejected && migrations != 0 {
			fail("rejected (%s), but the simulator started a migration", o.Reason)
		}
		if out.Type() == events.TypeCompleted {
			st, _ := e.sim.Server(srv)
			if st.DedicatedHostID != e.host {
				fail("completed, but the server is on %q", st.DedicatedHostID)
			}
		}
	case c.State == ledger.StateSubmitted && c.JobUnknown:
		if calls != 1 {
			fail("tracked as sent with its answer lost, but %d calls reached the API", calls)
		}
		if e.Snapshot().Job(ledger.WatchRecordID(c.RequestKey)) == nil {
			fail("tracked without a watch record")
		}
	case c.State == ledger.StateSubmitted:
		j, ok := e.sim.Job(c.JobID)
		if !ok || migrations != 1 || len(j.ServerIDs) != 1 || j.ServerIDs[0] != srv {
			fail("accepted with job %s, simulator job %+v (%t), %d migrations", c.JobID, j, ok, migrations)
		}
	default:
		fail("claim left %s: %+v", c.State, o)
	}
	if migrations == 1 && c.State != ledger.StateSubmitted {
		st, _ := e.sim.Server(srv)
		if c.State != ledger.StateFinished || st.DedicatedHostID != e.host {
			fail("the simulator migrated the server, but the claim is %s", c.State)
		}
	}
}
