package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// The crash harness of poll's power steps (power.go), built like
// crashpoints_test.go: pollers are stopped at a step boundary as a crash
// would stop them, fresh pollers take the records over once the dead
// ones' leases end, and every request must still end once, with no call
// sent twice and no server left stopped that coldmove stopped and was
// asked to start again.
//
// It starts from the power records migrate hands on (functions/migrate,
// powercrash_test.go, checks that it leaves exactly these): the stop of a
// running server submitted, its answer lost, or never sent (a takeover of
// a claim that was submitting); or, for a server already stopped, the
// move submitted.

// pollPowerCrashPoints lists the boundaries a request with power steps
// passes, in order: per call poll makes, named, announced (what was done
// before), called, submitted, announced (the call); then the terminal
// event's.
var pollPowerCrashPoints = []string{crashLeased, crashPolled, crashNamed, crashCalled, crashSubmitted, crashAnnounced,
	crashRecorded, crashPublished, crashFinished}

// tri is a power flag of an end: false, true, or either way.
type tri int

const (
	no tri = iota
	yes
	maybe
)

func (f tri) allows(b bool) bool { return f == maybe || (f == yes) == b }

func (f tri) String() string { return [...]string{"false", "true", "either"}[f] }

// powerEnd is one way a request with power steps may end: its terminal
// event (type, and reason for failed), what it says was done, and where
// the server is once every job it started has run.
type powerEnd struct {
	typ       string
	reason    events.FailReason
	stopped   bool
	restarted tri
	status    string // the server's final status
	onTarget  bool
}

func (p powerEnd) String() string {
	s := strings.TrimPrefix(p.typ, "dev.coldmove.placement.")
	if p.reason != "" {
		s += "/" + string(p.reason)
	}
	return fmt.Sprintf("%s stopped=%t restarted=%v %s on target %t", s, p.stopped, p.restarted, p.status, p.onTarget)
}

// matches reports whether what a request ended with fits p.
func (p powerEnd) matches(got powerEnd) bool {
	return p.typ == got.typ && p.reason == got.reason && p.stopped == got.stopped && p.restarted.allows(got.restarted == yes) &&
		p.status == got.status && p.onTarget == got.onTarget
}

// powerSource is a state migrate hands a request with power steps on in,
// and the ends poll may give it. A request whose next call's answer a
// crash took (named, called) follows the server instead of the job: a
// move that was never sent, or whose failure is not seen, ends timedout
// at the deadline; a start whose failure is not seen ends as the move
// did, with restarted false.
type powerSource struct {
	name string
	pw   powered
	// failMove makes the move fail (ecstest FailMigrations).
	failMove bool
	// lockOnTarget locks the server once it is on its target and idle,
	// before the start is sent: the start fails.
	lockOnTarget bool
	ends         []powerEnd
}

var (
	completedRestarted = powerEnd{typ: events.TypeCompleted, stopped: true, restarted: yes, status: ecstest.StatusActive, onTarget: true}
	// notMovedRestarted: the move was never sent, or failed unseen; the
	// start was sent at the deadline, verified or not by then.
	notMovedRestarted = powerEnd{typ: events.TypeTimedOut, stopped: true, restarted: maybe, status: ecstest.StatusActive}
	stopFailed        = powerEnd{typ: events.TypeFailed, reason: events.FailStopFailed, status: ecstest.StatusActive}
)

var powerSources = []powerSource{
	{name: "stopped, moved, started", pw: powered{status: ecstest.StatusActive, restart: true},
		ends: []powerEnd{completedRestarted, notMovedRestarted}},
	{name: "stopped, moved, no restart", pw: powered{status: ecstest.StatusActive},
		ends: []powerEnd{
			{typ: events.TypeCompleted, stopped: true, status: ecstest.StatusShutoff, onTarget: true},
			{typ: events.TypeTimedOut, stopped: true, status: ecstest.StatusShutoff},
		}},
	{name: "the stop fails", pw: powered{status: ecstest.StatusActive, restart: true, lockStop: true},
		ends: []powerEnd{stopFailed}},
	{name: "the move fails, started again", pw: powered{status: ecstest.StatusActive, restart: true}, failMove: true,
		ends: []powerEnd{
			{typ: events.TypeFailed, reason: events.FailJobFailed, stopped: true, restarted: yes, status: ecstest.StatusActive},
			notMovedRestarted,
		}},
	{name: "moved, the start fails", pw: powered{status: ecstest.StatusActive, restart: true}, lockOnTarget: true,
		ends: []powerEnd{
			{typ: events.TypeFailed, reason: events.FailRestartFailed, stopped: true, status: ecstest.StatusShutoff, onTarget: true},
			// The start's failure unseen: the request ends as its move did.
			{typ: events.TypeCompleted, stopped: true, status: ecstest.StatusShutoff, onTarget: true},
			notMovedRestarted,
		}},
	{name: "the stop's answer lost", pw: powered{status: ecstest.StatusActive, restart: true, watch: true},
		ends: []powerEnd{completedRestarted, notMovedRestarted}},
	{name: "the stop never sent", pw: powered{status: ecstest.StatusActive, restart: true, watch: true, noCall: true},
		ends: []powerEnd{stopFailed}},
	{name: "already stopped", pw: powered{status: ecstest.StatusShutoff, restart: true},
		ends: []powerEnd{{typ: events.TypeCompleted, status: ecstest.StatusShutoff, onTarget: true}}},
}

// powerCrashTimings are the simulator's job timings in the harness: a
// stop, a move and a start take about a minute together.
var powerCrashTimings = ecstest.JobTimings{Queued: time.Second, Migrating: 20 * time.Second, Finishing: 5 * time.Second, Power: 5 * time.Second}

// powerCrashLease is what a poller of the harness leases a job for (its
// tick's budget and the lease margin, cut short so that a job a dead
// poller held is soon taken over).
const powerCrashLease = 15 * time.Second

// powerCrashDeadline is the deadline of the harness's requests, given how
// many pollers die: enough for every step, with the polls between them,
// the ECS faults, and a dead poller's lease for each crash; short enough
// that the requests a crash makes wait for it take few rounds.
func powerCrashDeadline(crashes int) time.Duration {
	return 5*time.Minute + time.Duration(crashes)*powerCrashLease
}

// powerCrashRequest is one request of a batch.
type powerCrashRequest struct {
	request
	src *powerSource
	// locked: the server was locked on its target (lockOnTarget).
	locked bool
}

func (r *powerCrashRequest) String() string {
	return fmt.Sprintf("%s (%s, server %s)", r.ID, r.src.name, r.ServerID)
}

// TestCrash_pollPower crashes pollers at every boundary of the power
// steps: for each seed and boundary, a batch of requests with power steps
// (each source once; more in the long form, COLDMOVE_SOAK=1) on one stack
// whose simulator fails reads at random (by the seed). Pollers armed at
// the boundary tick until the set number of them died there; then fresh
// pollers tick until every request is done.
func TestCrash_pollPower(t *testing.T) {
	t.Parallel()
	perSource := stacktest.Scale(1, 3)
	for _, seed := range stacktest.Seeds(t, 1, 12) {
		for _, point := range pollPowerCrashPoints {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, point), func(t *testing.T) {
				t.Parallel()
				runPollPowerCrash(t, seed, point, perSource)
			})
		}
	}
}

func runPollPowerCrash(t *testing.T, seed uint64, point string, perSource int) {
	ctx := t.Context()
	e := newEnv(t, ecstest.WithSeed(seed), ecstest.WithJobTimings(powerCrashTimings))
	rng := rand.New(rand.NewPCG(seed, 0x90e4))
	crashes := stacktest.Scale(4, 2*len(powerSources)*perSource)
	var reqs []*powerCrashRequest
	for i := range powerSources {
		src := &powerSources[i]
		for range perSource {
			pw := src.pw
			pw.deadline = powerCrashDeadline(crashes)
			r := &powerCrashRequest{request: e.submitPowered(pw), src: src}
			if src.failMove {
				if err := e.sim.FailMigrations(r.ServerID, "Ecs.0319", "no NUMA node has room"); err != nil {
					t.Fatal(err)
				}
			}
			reqs = append(reqs, r)
		}
	}
	// Reads fail at random; the calls do not, so that every call that
	// reaches the simulator is one coldmove made.
	for _, op := range []ecstest.Op{ecstest.OpShowJob, ecstest.OpShowServer, ecstest.OpListServersDetails} {
		e.sim.InjectRandom(op, 0.3, ecstest.ServerError(503))
	}
	concurrency := 1
	if stacktest.Soak() {
		concurrency = 1 + rng.IntN(4)
	}
	stream := e.Follow()

	var (
		proc   *pollProcess
		died   int
		rounds int
		owners int
	)
	const maxRounds = 400
	for ; rounds < maxRounds; rounds++ {
		if proc == nil || proc.dead.Load() {
			owners++
			proc = &pollProcess{}
			if died < crashes {
				// Not always at the first pass: the boundaries of the
				// power steps are passed several times in a row (each
				// announcement, the move's call, then the start's).
				proc.armed = point
				proc.skip.Store(int64(rng.IntN(3)))
			}
			proc.p, _ = e.poller(fmt.Sprintf("poll-%d", owners), func(p *Policy) {
				p.Concurrency = concurrency
				p.Budget, p.LeaseMargin = powerCrashLease*2/3, powerCrashLease/3
			})
			proc.p.crash = proc.at
		}
		tick, stop := context.WithCancel(ctx)
		proc.stop = stop
		sum := mustTick(t, tick, proc.p)
		stop()
		checkPowerCrash(t, e, stream, reqs, fmt.Sprintf("after round %d", rounds))
		if proc.dead.Load() {
			// The process that takes over ticks at once, at the same
			// time: the jobs the dead one did not get to are not held up.
			died++
			continue
		}
		if sum.Jobs == 0 {
			break
		}
		// On to the next tick of a long-running poll: bulk observation
		// wakes a record early when its server changes, which only a tick
		// in between sees.
		e.clock.Advance(e.cfg.Interval)
		for _, r := range reqs {
			lockOnTarget(t, e, r)
		}
	}
	if rounds == maxRounds {
		t.Fatalf("records left after %d rounds", rounds)
	}
	if died < min(crashes, 1) {
		t.Errorf("no poller died at %s", point)
	}
	t.Logf("seed %d, crash at %s: %d requests, %d pollers died there, %d pollers, %d rounds",
		seed, point, len(reqs), died, owners, rounds+1)

	// Every job coldmove started runs to its end.
	e.sim.Advance(2 * time.Hour)
	// A start named and never sent is left by a poller that died between
	// the two: at its own crash point (named), or at any other, since a
	// crash stops every worker of the poller where it is — one of them may
	// be just past naming its start. Its outcome is unknown, so it is
	// never sent again (at most one call each); at most one per worker of
	// each poller that died.
	if unsent := checkPowerDone(t, e, reqs); unsent > died*concurrency {
		t.Errorf("%d requests were left stopped without a start, %d pollers of %d workers died", unsent, died, concurrency)
	}
}

// lockOnTarget locks the server of a request that asks for it once the
// move put it on its target, before the start is sent.
func lockOnTarget(t *testing.T, e *env, r *powerCrashRequest) {
	if !r.src.lockOnTarget || r.locked {
		return
	}
	if s, ok := e.sim.Server(r.ServerID); ok && s.DedicatedHostID == r.Target.DedicatedHostID && s.TaskState == "" {
		if err := e.sim.SetServerLocked(r.ServerID, true); err != nil {
			t.Fatal(err)
		}
		r.locked = true
	}
}

// checkPowerCrash checks, at any moment, that no call was sent twice for
// a request (stop, migrate, start, counted by the simulator per server),
// that no start was sent for a server coldmove did not stop, and that
// every event of the request is on the stream at most once: its terminal
// event, of a type one of its ends has, its accepted event, and each step
// it announced.
func checkPowerCrash(t *testing.T, e *env, stream *stacktest.Follower, reqs []*powerCrashRequest, when string) {
	t.Helper()
	byReq := stream.ByRequest()
	for _, r := range reqs {
		stops, moves, starts := e.sim.StopCalls(r.ServerID), e.sim.MigrateCalls(r.ServerID), e.sim.StartCalls(r.ServerID)
		if stops > 1 || moves > 1 || starts > 1 {
			t.Errorf("%s %s: calls sent: %d stops, %d moves, %d starts", r, when, stops, moves, starts)
		}
		if starts > 0 && (stops == 0 || !r.src.pw.restart) {
			t.Errorf("%s %s: a start sent for a server coldmove did not stop, or not asked to", r, when)
		}
		re := byReq[r.Key]
		if re == nil {
			continue
		}
		for what, ps := range map[string][]published{"terminal": re.Terminal, "accepted": re.Accepted} {
			if c := stacktest.CountOf(ps); !c.AtMostOnce() {
				t.Errorf("%s %s: %s events: %s", r, when, what, c)
			}
		}
		for step, ps := range re.Steps(t) {
			if c := stacktest.CountOf(ps); c.Messages > 1 || len(c.IDs) > 1 {
				t.Errorf("%s %s: progressed/%s events: %s", r, when, step, c)
			}
		}
		for _, p := range re.Terminal {
			if !slices.ContainsFunc(r.src.ends, func(end powerEnd) bool { return end.typ == p.Event.Type() }) {
				t.Errorf("%s %s: published %s, which none of its ends has", r, when, p.Event.Type())
			}
		}
	}
}

// checkPowerDone checks that every request is done: one terminal event,
// one of the ends its source allows (what it says was done, and where the
// simulator has the server once its jobs ran), consistent with every
// event announced before it (the steps, the job ids) and with the calls
// the simulator saw; its claim finished with that event and marked
// published, and nothing left in the ledger.
//
// One end no source lists: a poller that died after naming the start
// (crashNamed) may or may not have sent it, so no poller sends it again
// (design.md, Power: never repeated after an unknown outcome); the
// server, stopped by coldmove, stays stopped, and the request ends as its
// move did, restarted false. It returns how many requests ended so, which
// only a crash at crashNamed may leave, at most one per poller that died.
func checkPowerDone(t *testing.T, e *env, reqs []*powerCrashRequest) (unsent int) {
	t.Helper()
	snap := e.Snapshot()
	byReq := e.ByRequest()
	for _, r := range reqs {
		re := byReq[r.Key]
		if re == nil || !stacktest.CountOf(re.Terminal).Once() {
			t.Errorf("%s: terminal events %+v", r, re)
			continue
		}
		out := re.Terminal[0].Event
		got := data[struct {
			events.Correlation
			Power             *events.PowerOutcome `json:"power"`
			Reason            events.FailReason    `json:"reason"`
			PlacementVerified bool                 `json:"placement_verified"`
		}](t, out)
		if got.Power == nil {
			t.Errorf("%s: the terminal event carries no power: %s", r, out.Data())
			continue
		}
		pw := *got.Power
		srv, _ := e.sim.Server(r.ServerID)
		end := powerEnd{typ: out.Type(), stopped: pw.Stopped, restarted: no, status: srv.Status,
			onTarget: srv.DedicatedHostID == r.Target.DedicatedHostID}
		if out.Type() == events.TypeFailed {
			end.reason = got.Reason
		}
		if pw.Restarted {
			end.restarted = yes
		}
		stops, moves, starts := e.sim.StopCalls(r.ServerID), e.sim.MigrateCalls(r.ServerID), e.sim.StartCalls(r.ServerID)
		switch {
		case slices.ContainsFunc(r.src.ends, func(want powerEnd) bool { return want.matches(end) }):
		case startUnsent(r, end, starts):
			unsent++
		default:
			t.Errorf("%s: ends %s; want one of %v", r, end, r.src.ends)
		}
		if end.reason == events.FailRestartFailed && !got.PlacementVerified {
			t.Errorf("%s: restart_failed without placement_verified", r)
		}

		// What the terminal event says agrees with what was announced
		// and with what the simulator saw.
		steps := re.Steps(t)
		if pw.Stopped != (len(steps[events.StepStopped]) == 1) || pw.Stopped && stops != 1 {
			t.Errorf("%s: power.stopped %t; progressed/stopped ×%d, %d stops", r, pw.Stopped, len(steps[events.StepStopped]), stops)
		}
		if pw.StopJobID != r.JobID && pw.Stopped {
			t.Errorf("%s: power.stop_job_id %q, the stop's job %q", r, pw.StopJobID, r.JobID)
		}
		if pw.Restarted != (len(steps[events.StepStarted]) == 1) || pw.Restarted && starts != 1 {
			t.Errorf("%s: power.restarted %t; progressed/started ×%d, %d starts", r, pw.Restarted, len(steps[events.StepStarted]), starts)
		}
		if ss := steps[events.StepStartSubmitted]; len(ss) == 1 {
			if id := data[events.Progressed](t, ss[0].Event).JobID; id != pw.StartJobID {
				t.Errorf("%s: start_submitted announced job %q, the terminal event's power.start_job_id is %q", r, id, pw.StartJobID)
			}
		}
		if pw.Stopped && r.src.pw.restart && starts != 1 && !startUnsent(r, end, starts) {
			t.Errorf("%s: coldmove stopped the server, a restart was asked, and %d starts were sent", r, starts)
		}
		if acc := re.Accepted; len(acc) == 1 && r.src.pw.status == ecstest.StatusActive {
			if id := data[events.Accepted](t, acc[0].Event).JobID; id != got.JobID {
				t.Errorf("%s: accepted announced job %q, the terminal event's job_id is %q", r, id, got.JobID)
			}
		}
		if moves == 1 && !pw.Stopped && r.src.pw.status == ecstest.StatusActive {
			t.Errorf("%s: moved without a verified stop", r)
		}

		c := snap.Claim(r.Source, r.ID)
		switch {
		case c == nil:
			t.Errorf("%s: no claim", r)
		case c.State != ledger.StateFinished || !c.OutcomePublished:
			t.Errorf("%s: claim %s (outcome published %t), want finished and published", r, c.State, c.OutcomePublished)
		default:
			if stored, err := events.ParseStructured(c.Outcome); err != nil || stored.ID() != out.ID() {
				t.Errorf("%s: the claim's outcome is not the event published", r)
			}
		}
		if snap.Job(ledger.PowerRecordID(r.Key)) != nil {
			t.Errorf("%s: power record left", r)
		}
		if lk := snap.Lock(r.ServerID); lk != nil {
			t.Errorf("%s: lock left: %+v", r, lk)
		}
	}
	return unsent
}

// startUnsent reports whether a request ended as one whose start was named
// and never sent: stopped by coldmove, with a restart asked, no start
// sent, and ended as its move did (completed on the target, or the move's
// failure or time-out off it), the server stopped.
func startUnsent(r *powerCrashRequest, end powerEnd, starts int) bool {
	moveEnded := end.typ == events.TypeCompleted && end.onTarget ||
		end.typ == events.TypeFailed && end.reason == events.FailJobFailed && !end.onTarget ||
		end.typ == events.TypeTimedOut && !end.onTarget
	return r.src.pw.restart && starts == 0 && end.stopped && end.restarted == no && end.status == ecstest.StatusShutoff && moveEnded
}

// A poller that stops right after announcing a call it made (accepted for
// the move, progressed/start_submitted for the start) leaves a record that
// follows the call's job: the request ends with the job the stream
// announced. (When the announcement came before the record was written,
// the next poller found the call only named, took it for a call whose
// answer was lost and followed the server instead: the terminal event
// named no job, and a move that failed ended timedout at the deadline
// rather than failed.)
func TestCrash_pollPowerAnnouncedCall(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		skip         int64 // announcements before the one the poller stops after
		failMove     bool
		troubleAfter bool // the API fails every call once the poller stopped, and the clock passes the deadline
		want         []string
	}{
		"after accepted": {skip: 1,
			want: []string{"progressed/stopped", "accepted", "progressed/start_submitted", "progressed/started", "completed"}},
		"after accepted, the move fails": {skip: 1, failMove: true,
			want: []string{"progressed/stopped", "accepted", "progressed/start_submitted", "progressed/started", "failed/job_failed"}},
		"after start_submitted": {skip: 2,
			want: []string{"progressed/stopped", "accepted", "progressed/start_submitted", "progressed/started", "completed"}},
		// The start seen done and announced; then the API fails every
		// read until past the deadline: the next poller cannot verify the
		// start again, and the terminal event must still say what the
		// stream announced (the record knew it before the announcement).
		"after started, then no answer until the deadline": {skip: 3, troubleAfter: true,
			want: []string{"progressed/stopped", "accepted", "progressed/start_submitted", "progressed/started", "completed"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.submitPowered(powered{status: ecstest.StatusActive, restart: true})
			if tc.failMove {
				if err := e.sim.FailMigrations(r.ServerID, "Ecs.0319", "no NUMA node has room"); err != nil {
					t.Fatal(err)
				}
			}
			proc := &pollProcess{armed: crashAnnounced}
			proc.skip.Store(tc.skip)
			proc.p, _ = e.poller("poll-crashing")
			proc.p.crash = proc.at
			fresh, _ := e.poller("poll-fresh")
			var evs []published
			troubled := false
			for round := 0; ; round++ {
				if round == 200 {
					t.Fatalf("not ended after %d rounds: %v", round, kinds(t, evs))
				}
				p := proc.p
				if proc.dead.Load() {
					p = fresh
					if tc.troubleAfter && !troubled {
						troubled = true
						e.sim.InjectNext(ecstest.OpAny, 1_000_000, ecstest.ServerError(503))
						e.clock.Advance(2 * time.Hour)
					}
				}
				mustTick(t, t.Context(), p)
				evs = e.ByRequest()[r.Key].All()
				if n := len(evs); n > 0 && events.IsTerminal(evs[n-1].Event.Type()) {
					break
				}
				e.clock.Advance(e.cfg.Interval)
			}
			if !proc.dead.Load() {
				t.Fatal("the poller never stopped")
			}
			if diff := cmp.Diff(tc.want, kinds(t, evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			re := e.ByRequest()[r.Key]
			last := data[struct {
				events.Correlation
				Power events.PowerOutcome `json:"power"`
			}](t, re.Terminal[0].Event)
			accepted := data[events.Accepted](t, re.Accepted[0].Event)
			started := data[events.Progressed](t, re.Steps(t)[events.StepStartSubmitted][0].Event)
			if !last.Power.Restarted {
				t.Errorf("terminal event: power.restarted false, after progressed/started was announced")
			}
			if last.JobID != accepted.JobID || last.Power.StartJobID != started.JobID {
				t.Errorf("terminal event: job %q, start job %q; announced: move %q, start %q",
					last.JobID, last.Power.StartJobID, accepted.JobID, started.JobID)
			}
			if m, s := e.sim.MigrateCalls(r.ServerID), e.sim.StartCalls(r.ServerID); m != 1 || s != 1 {
				t.Errorf("%d moves, %d starts sent", m, s)
			}
		})
	}
}
