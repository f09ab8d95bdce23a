package e2e_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
)

// laneFaults are the simulator's faults, each of which gets a lane of its
// own.
var laneFaults = []struct {
	name  string
	fault ecstest.Fault
}{
	{"gateway-throttle", ecstest.GatewayThrottle()}, {"api-throttle", ecstest.APIThrottle()}, {"flow-limit", ecstest.FlowLimit()},
	{"500", ecstest.ServerError(500)}, {"501", ecstest.ServerError(501)}, {"503", ecstest.ServerError(503)},
	{"504", ecstest.ServerError(504)}, {"connection-reset", ecstest.ConnectionReset()}, {"latency", ecstest.Latency(200 * time.Millisecond)},
	{"malformed-body", ecstest.MalformedBody()}, {"truncated-body", ecstest.TruncatedBody()}, {"response-lost", ecstest.ResponseLost()},
}

// TestTrouble_ecsFaultsEndToEnd runs placement requests through both real
// binaries (two migrate and two poll processes) against a simulated ECS
// in trouble, and checks every request's end against the simulator's
// truth (see judge): exactly one terminal event, at most one MigrateServer
// call the API may have processed, completed only when the server is on
// its target, never failed or rejected when it moved.
//
// Each fault has a lane of its own (a simulator with its own project,
// behind the one endpoint) where it hits 35% of all calls, of every
// operation; "mixed" lanes roll every fault at once (3% each); a clean
// lane is the control. Faults are rolled on each simulator's PRNG, seeded
// from COLDMOVE_SEED (default 1); which call gets which roll depends on
// the order calls arrive in, so the invariants, not the exact outcomes,
// are what is checked. Short form: 12 requests per fault lane, 120 in one
// mixed lane, 6 clean, deadlines 20 s ahead; COLDMOVE_SOAK=1: 80 per
// fault lane, 100 in each of ten mixed lanes, 20 clean, 45 s.
//
// Why end to end: the outcome of a fault depends on how the ECS client
// classifies it, what migrate makes of that (reject, retry, track) and
// what poll concludes later — only the real binaries, configured as
// operators configure them, put all three together honestly. The
// in-process tests (TestTrouble_everyFaultOnEveryCallOf*) pin each
// function's reading of each fault deterministically.
func TestTrouble_ecsFaultsEndToEnd(t *testing.T) {
	t.Parallel()
	migrate, poll := binaries(t)
	seed := seedFor(t, 1)
	perLane, mixedLanes, mixed, clean, ahead := 12, 1, 120, 6, 20*time.Second
	if soak {
		// Ten mixed lanes: throttling holds a whole project back, and one
		// project of a thousand jobs would spend its time held.
		perLane, mixedLanes, mixed, clean, ahead = 80, 10, 100, 20, 45*time.Second
	}
	names := []string{"clean"}
	for i := range mixedLanes {
		names = append(names, fmt.Sprintf("mixed-%d", i))
	}
	for _, f := range laneFaults {
		names = append(names, f.name)
	}
	l := newLanes(t, ecstest.GenerateCredential(), seed, names...)
	ns := natstest.Run(t)
	w := watch(t, ns.Conn())

	env := l.env(ns.ClientURL(), "COLDMOVE_CONSUMER_BACKOFF=250ms,500ms,1s,2s", "COLDMOVE_CONSUMER_MAX_DELIVER=30",
		"COLDMOVE_CONSUMER_CONCURRENCY=32", "COLDMOVE_POLL_CONCURRENCY=64", "COLDMOVE_CLAIM_STALE_AFTER=30s")
	for i := range 2 {
		startProc(t, fmt.Sprintf("migrate-%d", i), migrate, env)
		startProc(t, fmt.Sprintf("poll-%d", i), poll, env)
	}

	deadline := time.Now().Add(ahead)
	var reqs []*placement
	for _, ln := range l.all {
		n := perLane
		switch {
		case ln.name == "clean":
			n = clean
		case strings.HasPrefix(ln.name, "mixed"):
			n = mixed
			for _, f := range laneFaults {
				ln.sim.InjectRandom(ecstest.OpAny, 0.03, f.fault)
			}
		default:
			for _, f := range laneFaults {
				if f.name == ln.name {
					ln.sim.InjectRandom(ecstest.OpAny, 0.35, f.fault)
				}
			}
		}
		for i := range n {
			reqs = append(reqs, newPlacement(t, ln, fmt.Sprintf("trouble-%s-%d", ln.name, i), deadline))
		}
	}
	js := ns.JetStream()
	start := time.Now()
	for _, p := range reqs {
		publish(t, js, events.RequestSubject("coldmove", p.server), p.body)
	}
	ids := make([]string, len(reqs))
	for i, p := range reqs {
		ids[i] = p.id
	}
	if missing := w.wait(ids, ahead+90*time.Second); len(missing) > 0 {
		t.Errorf("%d requests without a terminal event after %s: %v", len(missing), time.Since(start).Round(time.Second), first(missing, 10))
	}
	took := time.Since(start)
	time.Sleep(time.Second) // let a straggling re-publish reach the stream
	onStream := storedOutcomes(t, js)

	logs := map[*lane][]ecstest.Request{}
	byLane := map[string][]verdict{}
	failures := 0
	for _, p := range reqs {
		log, ok := logs[p.lane]
		if !ok {
			log = p.lane.sim.Requests()
			logs[p.lane] = log
		}
		v := judge(p, onStream[p.id], log)
		byLane[p.lane.name] = append(byLane[p.lane.name], v)
		if len(v.problems) > 0 {
			failures++
			if failures <= 20 {
				t.Errorf("%s (server %s, lane %s): %s", p.id, p.server, p.lane.name, strings.Join(v.problems, "; "))
			}
		}
	}
	totalFaults := 0
	for _, ln := range l.all {
		faults := faultsInjected(logs[ln])
		n := 0
		for _, c := range faults {
			n += c
		}
		totalFaults += n
		vs := byLane[ln.name]
		possible := 0
		for _, v := range vs {
			possible += v.possible
		}
		t.Logf("lane %-16s %4d requests, %5d calls, %4d faults %v; migrate calls possibly processed %d; outcomes %v",
			ln.name, len(vs), len(logs[ln]), n, faults, possible, sorted(terminalKinds(vs)))
	}
	t.Logf("seed %d: %d requests, %d faults injected, every request ended in %s; %d failed the truth check",
		seed, len(reqs), totalFaults, took.Round(100*time.Millisecond), failures)
}

func first(s []string, n int) []string { return s[:min(n, len(s))] }

// sorted formats a tally in key order.
func sorted(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s:%d ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}
