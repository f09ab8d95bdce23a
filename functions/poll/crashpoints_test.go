package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// The crash harness of poll: pollers are stopped at a step boundary as a
// crash would stop them, and fresh pollers (new ledger owners, the same
// NATS store and clock) tick until every request is done.
//
// It starts from the states migrate's harness (functions/migrate,
// crash_test.go) shows a request can be handed on in, built as migrate
// builds them: a job record (the call answered), a watch record (the
// answer lost, or a takeover of a claim that was submitting: the call may
// never have been sent), and a pending record (no delivery came again
// after a crash: before the claim, with the claim claimed or submitting,
// or finished but its outcome not published). Together the two harnesses
// cover a request from its first delivery to its terminal event.

// pollCrashPoints lists poll's boundaries in the order a job passes them.
var pollCrashPoints = []string{crashLeased, crashPolled, crashRecorded, crashPublished, crashFinished}

// pollProcess is one poll process: a poller with a ledger owner of its
// own that dies when a job reaches its armed boundary. The job's worker
// ends there (runtime.Goexit: nothing of the poller's own recovery runs),
// and every other worker of the process ends at its next boundary, as
// if the process had died at once.
type pollProcess struct {
	p     *Poller
	armed string
	// skip is how many passes of the armed boundary the process lives
	// through before it dies at the next (0: at the first).
	skip atomic.Int64
	dead atomic.Bool
	// stop, when set, cancels the tick the process is in once it dies, so
	// that it leases no more jobs (otherwise it takes the rest of the
	// tick's due jobs and leaves them leased, each worker dying at its
	// first boundary).
	stop context.CancelFunc
}

func (pp *pollProcess) at(point string) {
	if pp.dead.Load() || (point == pp.armed && pp.skip.Add(-1) < 0 && pp.dead.CompareAndSwap(false, true)) {
		if pp.stop != nil {
			pp.stop()
		}
		runtime.Goexit()
	}
}

// pollSource is a state migrate hands a request on in, and the outcome
// poll must end it with.
type pollSource struct {
	name   string
	make   func(e *env) request
	want   string
	reason events.RejectReason
}

var pollSources = []pollSource{
	{name: "job that completes", want: events.TypeCompleted, make: func(e *env) request { return e.submit(submission{}) }},
	{name: "job that fails", want: events.TypeFailed, make: func(e *env) request {
		srv := e.sim.AddServer(ecstest.ServerSpec{})
		if err := e.sim.FailMigrations(srv, "Ecs.0001", "the host ran out of capacity"); err != nil {
			e.t.Fatal(err)
		}
		return e.submit(submission{server: srv})
	}},
	{name: "watch, the call made", want: events.TypeCompleted, make: func(e *env) request {
		return e.submit(submission{watch: true})
	}},
	{name: "watch, the call never sent", want: events.TypeTimedOut, make: func(e *env) request {
		return e.submit(submission{watch: true, noCall: true, deadline: 20 * time.Minute})
	}},
	{name: "pending, never claimed", want: events.TypeRejected, reason: events.RejectDeadlineExceeded, make: func(e *env) request {
		r, _ := e.claimPending("unclaimed")
		return r
	}},
	{name: "pending, claimed", want: events.TypeRejected, reason: events.RejectDeadlineExceeded, make: func(e *env) request {
		r, _ := e.claimPending("claimed")
		return r
	}},
	{name: "pending, submitting", want: events.TypeTimedOut, make: func(e *env) request {
		r, _ := e.claimPending("submitting")
		return r
	}},
	{name: "pending, finished but not published", want: events.TypeRejected, reason: events.RejectServerNotStopped,
		make: func(e *env) request { return e.finishedUnpublished() }},
}

// finishedUnpublished is a request migrate rejected and then stopped
// before publishing: the claim holds the outcome, the pending record and
// the server lock are left.
func (e *env) finishedUnpublished() request {
	e.t.Helper()
	r, c := e.claimPending("claimed")
	o := events.Origin{RequestID: r.ID, RequestSource: r.Source, ServerID: r.ServerID, ProjectID: e.sim.ProjectID(),
		Region: testRegion, Target: &r.Target}
	rej, err := events.NewRejected(o, events.Rejection{Reason: events.RejectServerNotStopped, Message: "server is ACTIVE"}, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.migrate.FinishClaim(context.Background(), c, mustStructured(e.t, rej)); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// pollCrashRequest is one request of a batch.
type pollCrashRequest struct {
	request
	src *pollSource
}

// TestCrash_poll crashes pollers at every boundary: for each seed and
// boundary, a batch of requests (each state once; more in the long form,
// COLDMOVE_SOAK=1) on one stack whose simulator fails ShowJob and
// ShowServer at random (by the seed). Pollers armed at the boundary tick
// until the set number of them died there; then fresh pollers tick until
// every request is done, in a bounded number of rounds.
func TestCrash_poll(t *testing.T) {
	t.Parallel()
	perSource := stacktest.Scale(1, 3)
	for _, seed := range stacktest.Seeds(t, 1, 12) {
		for _, point := range pollCrashPoints {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, point), func(t *testing.T) {
				t.Parallel()
				runPollCrash(t, seed, point, perSource)
			})
		}
	}
}

func runPollCrash(t *testing.T, seed uint64, point string, perSource int) {
	ctx := t.Context()
	e := newEnv(t, ecstest.WithSeed(seed))
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	var reqs []pollCrashRequest
	for i := range pollSources {
		for range perSource {
			reqs = append(reqs, pollCrashRequest{request: pollSources[i].make(e), src: &pollSources[i]})
		}
	}
	e.sim.InjectRandom(ecstest.OpAny, 0.4, ecstest.ServerError(503))
	// One worker keeps the simulator's calls, and so its faults, in the
	// seed's order; the long form mixes in concurrent workers.
	concurrency := 1
	if stacktest.Soak() {
		concurrency = 1 + rng.IntN(4)
	}
	crashes := stacktest.Scale(3, len(reqs))

	var (
		proc    *pollProcess
		died    int
		rounds  int
		owners  int
		summary Summary
	)
	const maxRounds = 400
	for ; rounds < maxRounds; rounds++ {
		if proc == nil || proc.dead.Load() {
			owners++
			proc = &pollProcess{}
			if died < crashes {
				proc.armed = point
			}
			proc.p, _ = e.poller(fmt.Sprintf("poll-%d", owners), func(p *Policy) { p.Concurrency = concurrency })
			proc.p.crash = proc.at
		}
		s := mustTick(t, ctx, proc.p)
		summary.Errors += s.Errors
		if proc.dead.Load() {
			died++
		}
		checkPollCrash(t, e, reqs, fmt.Sprintf("after round %d", rounds))
		refs, err := e.migrate.Scan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(refs) == 0 {
			break
		}
		// On to the next due record, or a second on.
		now := e.clock.Now()
		if next := refs[0].DueAt; next.After(now) {
			e.clock.Set(next)
		} else {
			e.clock.Advance(time.Second)
		}
	}
	if rounds == maxRounds {
		t.Fatalf("records left after %d rounds", rounds)
	}
	if died < min(crashes, 1) {
		t.Errorf("no poller died at %s", point)
	}
	faults := 0
	for _, rq := range e.sim.Requests() {
		faults += b2i(rq.Status == 503)
	}
	t.Logf("seed %d, crash at %s: %d requests, %d pollers died there, %d pollers, %d rounds, %d ECS faults, %d errors counted",
		seed, point, len(reqs), died, owners, rounds+1, faults, summary.Errors)

	checkAllDone(t, e, reqs)
}

// checkAllDone checks that every request is done: exactly the terminal
// event its state leads to, once (by id and by content), its claim
// finished with that event and marked published, and nothing left: no
// job, watch or pending record, no lock.
func checkAllDone(t *testing.T, e *env, reqs []pollCrashRequest) {
	t.Helper()
	snap := e.Snapshot()
	byReq := e.ByRequest()
	for _, r := range reqs {
		name := fmt.Sprintf("%s (%s)", r.ID, r.src.name)
		re := byReq[r.Key]
		if re == nil || !stacktest.CountOf(re.Terminal).Once() {
			t.Errorf("%s: terminal events %+v", name, re)
			continue
		}
		out := re.Terminal[0].Event
		if out.Type() != r.src.want {
			t.Errorf("%s: ends %s, want %s", name, out.Type(), r.src.want)
		}
		if r.src.reason != "" {
			if rj := data[events.Rejected](t, out); rj.Reason != r.src.reason {
				t.Errorf("%s: rejected %s, want %s", name, rj.Reason, r.src.reason)
			}
		}
		c := snap.Claim(r.Source, r.ID)
		if c == nil {
			t.Errorf("%s: no claim", name)
		} else if c.State != ledger.StateFinished || !c.OutcomePublished {
			t.Errorf("%s: claim %s (outcome published %t), want finished and published", name, c.State, c.OutcomePublished)
		} else if stored, err := events.ParseStructured(c.Outcome); err != nil || stored.ID() != out.ID() {
			t.Errorf("%s: the claim's outcome is not the event published", name)
		}
		for _, id := range []string{r.JobID, ledger.WatchRecordID(r.Key), ledger.PendingRecordID(r.Key)} {
			if id != "" && snap.Job(id) != nil {
				t.Errorf("%s: record %s left", name, id)
			}
		}
		if lk := snap.Lock(r.ServerID); lk != nil {
			t.Errorf("%s: lock left: %+v", name, lk)
		}
	}
}

// checkPollCrash checks, at any moment, guarantees 1 and 2 for every
// request: at most one MigrateServer call on its server, at most one
// terminal event, counted by id and by content, and none other than the
// one its state leads to (no outcome is invented).
func checkPollCrash(t *testing.T, e *env, reqs []pollCrashRequest, when string) {
	t.Helper()
	byReq := e.ByRequest()
	for _, r := range reqs {
		if n := e.sim.MigrateCalls(r.ServerID); n > 1 {
			t.Errorf("%s (%s) %s: %d MigrateServer calls", r.ID, r.src.name, when, n)
		}
		re := byReq[r.Key]
		if re == nil {
			continue
		}
		c := stacktest.CountOf(re.Terminal)
		if !c.AtMostOnce() {
			t.Errorf("%s (%s) %s: terminal events: %s", r.ID, r.src.name, when, c)
		}
		for _, p := range re.Terminal {
			if p.Event.Type() != r.src.want {
				t.Errorf("%s (%s) %s: published %s, want only %s", r.ID, r.src.name, when,
					strings.TrimPrefix(p.Event.Type(), "dev.coldmove.placement."), r.src.want)
			}
		}
	}
}
