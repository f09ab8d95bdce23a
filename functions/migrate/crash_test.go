package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// The crash harness of migrate: every request is stopped at one step
// boundary as a crash would stop it, then delivered again to a fresh
// process, and what it leaves behind is checked against the guarantees.
//
// How it composes with poll's harness (functions/poll/crash_test.go):
// here a request ends in one of the states below, and poll's harness
// starts from each of them (built as migrate builds them,
// submit_helpers_test.go and pending_test.go) and crashes poll at each of
// its boundaries:
//
//   - finished: the claim holds the terminal event, JetStream has it
//     once, and no record is left; poll has nothing to do;
//   - job: the claim is submitted with the job id, the accepted event is on
//     the stream once, the job record and the server lock wait for poll
//     (poll: completed);
//   - watch: the claim is submitted with the job unknown, a watch record
//     and the lock wait for poll, no event was published; poll ends it
//     completed when the call moved the server, timedout at the deadline
//     when it did not (the call was never sent, or refused unseen);
//   - left alone (no delivery ever comes again, checked right after the
//     crash): a pending record that poll settles at the deadline (no claim
//     yet, a claim claimed or submitting, or finished but not marked
//     published), or the job or watch record of a submitted claim.
//
// Requests with power steps go through the same harness
// (powercrash_test.go): their first call may be a stop, and they hand on
// one power record instead of a job or watch record.

// Two boundaries lie in the wrappers the tests put around the handler's
// ECS client and publisher.
const (
	// crashSent: the migrate call was written and the simulator applied
	// it, but the handler never sees the answer.
	crashSent = "sent"
	// crashPublishing: an event is about to be written to JetStream.
	crashPublishing = "publishing"
)

// crashPoints lists every boundary in the order a request passes them.
var crashPoints = []string{
	crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent,
	crashAnswered, crashRecorded, crashFinished, crashPublishing, crashPublished,
}

// crashSignal is what a crash hook panics with.
type crashSignal struct{ point string }

// process is one migrate process: a handler with a ledger owner of its
// own, which crashes when it reaches its armed boundary.
type process struct {
	h     *Handler
	armed string // the boundary to crash at; "" never
	hit   bool
	seen  []string
}

// at is the handler's crash hook.
func (p *process) at(point string) {
	p.seen = append(p.seen, point)
	if point == p.armed && !p.hit {
		p.hit = true
		panic(crashSignal{point})
	}
}

// crashesAt reports whether the process crashes when it reaches point.
func (p *process) crashesAt(point string) bool { return p.armed == point && !p.hit }

// handle delivers a request; a crash ends it without an outcome.
func (p *process) handle(ctx context.Context, req []byte) (o Outcome, crashed bool) {
	defer func() {
		if v := recover(); v != nil {
			if _, ok := v.(crashSignal); !ok {
				panic(v)
			}
			crashed = true
		}
	}()
	return p.h.HandleMessage(ctx, nil, req), false
}

// crashTransport is the ECS client's transport: it loses the answers of
// the first calls (migrate, or the stop of a request with power steps) on
// servers the world says to, and crashes the process after such a call
// was written when the process is armed to.
type crashTransport struct {
	base http.RoundTripper
	p    *process
	lose func(serverID string) bool
}

var errAnswerLost = errors.New("crash test: connection reset after the request was written")

func (t *crashTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	srv, ok := firstCallOn(req)
	resp, err := t.base.RoundTrip(req)
	if !ok {
		return resp, err
	}
	if err == nil && t.lose(srv) {
		discardBody(resp)
		resp, err = nil, errAnswerLost
	}
	if t.p.crashesAt(crashSent) && resp != nil {
		discardBody(resp)
	}
	t.p.at(crashSent)
	return resp, err
}

// firstCallOn returns the server of a call migrate may make first: a
// MigrateServer request (POST /v1/{project_id}/cloudservers/{server_id}/migrate)
// or an os-stop of one server (POST /v1/{project_id}/cloudservers/action).
func firstCallOn(req *http.Request) (string, bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	if req.Method != http.MethodPost || len(parts) < 2 {
		return "", false
	}
	switch parts[len(parts)-1] {
	case "migrate":
		return parts[len(parts)-2], true
	case "action":
		return stoppedBy(req)
	}
	return "", false
}

// stoppedBy returns the one server an os-stop request names, read from a
// copy of its body.
func stoppedBy(req *http.Request) (string, bool) {
	if req.GetBody == nil {
		return "", false
	}
	body, err := req.GetBody()
	if err != nil {
		return "", false
	}
	defer body.Close()
	var action struct {
		Stop *struct {
			Servers []struct {
				ID string `json:"id"`
			} `json:"servers"`
		} `json:"os-stop"`
	}
	if err := json.NewDecoder(body).Decode(&action); err != nil || action.Stop == nil || len(action.Stop.Servers) != 1 {
		return "", false
	}
	return action.Stop.Servers[0].ID, true
}

func discardBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// crashPublisher crashes the process before an event is written when the
// process is armed to.
type crashPublisher struct {
	base Publisher
	p    *process
}

func (c crashPublisher) Publish(ctx context.Context, e event.Event) (bus.PublishResult, error) {
	c.p.at(crashPublishing)
	return c.base.Publish(ctx, e)
}

// crashWorld is the stack one batch of requests runs on: the simulator
// (seeded: its random faults follow the seed), JetStream and the clock.
type crashWorld struct {
	*stacktest.Stack
	t    *testing.T
	host string          // a dedicated host with room for every server
	lost map[string]bool // servers whose migrate answers are lost
	pub  Publisher       // what the processes publish through
}

func newCrashWorld(t *testing.T, seed uint64) *crashWorld {
	s := stacktest.New(t, ecstest.WithSeed(seed))
	return &crashWorld{Stack: s, t: t, lost: map[string]bool{}, pub: s.Bus,
		host: s.Sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 4096, MemoryMB: 4096 * 8192})}
}

// process starts a migrate process whose ledger owner is owner, armed to
// crash at armed ("" never).
func (w *crashWorld) process(owner, armed string) *process {
	p := &process{armed: armed}
	tr := &crashTransport{base: w.Sim.HTTPClient().Transport, p: p, lose: func(s string) bool { return w.lost[s] }}
	client := w.Sim.Client(ecsclient.WithHTTPClient(&http.Client{Transport: tr, Timeout: 10 * time.Second}))
	p.h = NewHandler(HandlerConfig{ProjectID: w.Sim.ProjectID(), Region: stacktest.Region, MigrationTimeout: time.Hour, Now: w.Clock.Now},
		func(string) (ECS, error) { return client, nil }, w.Ledger(owner), crashPublisher{base: w.pub, p: p},
		slog.New(slog.NewJSONHandler(io.Discard, nil)))
	p.h.crash = p.at
	return p
}

// migrateEnd is the state migrate leaves a request in, once delivered
// again after its crash.
type migrateEnd struct {
	kind string // "finished", "job" or "watch"
	// typ and reason are the terminal event's type and reason (finished).
	typ    string
	reason string
	// migrated says whether the simulator started the migration, so that
	// poll finds the server on its target (job and watch).
	migrated bool
	// stopped says whether the simulator took the stop of a request with
	// power steps, so that poll finds the server stopping (job and
	// watch).
	stopped bool
}

func (m migrateEnd) String() string {
	if m.kind == "finished" {
		return fmt.Sprintf("finished %s %s", strings.TrimPrefix(m.typ, "dev.coldmove.placement."), m.reason)
	}
	return fmt.Sprintf("%s (migrated %t, stopped %t)", m.kind, m.migrated, m.stopped)
}

func finished(typ string, reason events.RejectReason) migrateEnd {
	return migrateEnd{kind: "finished", typ: typ, reason: string(reason)}
}

// crashCase is a kind of request the harness crashes.
type crashCase struct {
	name string
	// setup makes the request's server and target.
	setup func(w *crashWorld) (server string, target *events.Target)
	// power is the request's power steps (events.Power as JSON); nil
	// for none.
	power map[string]any
	// lost: the answer of its first call (migrate, or stop) is lost.
	lost bool
	// passes lists the boundaries the request passes, in order.
	passes []string
	// want is its end state after a crash at point and a redelivery.
	want func(point string) migrateEnd
}

var crashCases = []crashCase{
	{
		name: "completes",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{}), events.HostTarget(w.host)
		},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent, crashAnswered,
			crashRecorded, crashPublishing, crashPublished},
		want: func(point string) migrateEnd {
			switch point {
			case crashSubmitting: // never sent; its redelivery cannot know
				return migrateEnd{kind: "watch"}
			case crashSent, crashAnswered:
				return migrateEnd{kind: "watch", migrated: true}
			}
			return migrateEnd{kind: "job", migrated: true}
		},
	},
	{
		name: "answer lost",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{}), events.HostTarget(w.host)
		},
		lost:   true,
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent, crashAnswered, crashRecorded},
		want: func(point string) migrateEnd {
			return migrateEnd{kind: "watch", migrated: point != crashSubmitting}
		},
	},
	{
		name: "rejected in pre-flight",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"}), events.HostTarget(w.host)
		},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashFinished, crashPublishing, crashPublished},
		want: func(string) migrateEnd {
			return finished(events.TypeRejected, events.RejectServerNotStopped)
		},
	},
	{
		name: "already in place",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{DedicatedHostID: w.host}), events.HostTarget(w.host)
		},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashFinished, crashPublishing, crashPublished},
		want:   func(string) migrateEnd { return finished(events.TypeCompleted, "") },
	},
	{
		name: "refused by the API",
		setup: func(w *crashWorld) (string, *events.Target) {
			full := w.Sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 1, MemoryMB: 1024, RejectWhenFull: true})
			return w.Sim.AddServer(ecstest.ServerSpec{}), events.HostTarget(full)
		},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent, crashAnswered,
			crashFinished, crashPublishing, crashPublished},
		want: func(point string) migrateEnd {
			switch point {
			case crashSubmitting, crashSent, crashAnswered:
				// The refusal was never seen: the server is watched, stays
				// where it is, and the request times out at its deadline.
				return migrateEnd{kind: "watch"}
			}
			return finished(events.TypeRejected, events.RejectInsufficientCapacity)
		},
	},
}

// crashRequest is one request of a batch.
type crashRequest struct {
	c       *crashCase
	crashed bool // the first process crashed at the point
	id      string
	key     string
	server  string
	target  *events.Target
	initial string // the server's status before the request
	body    []byte
}

// want is the request's end state after a crash at point, or as if it
// had not crashed if it did not get there (its kind never passes point,
// or trouble gave it back first).
func (r *crashRequest) want(point string) migrateEnd {
	if !r.crashed {
		return r.c.want("")
	}
	return r.c.want(point)
}

// TestCrash_migrate crashes requests of every kind at every boundary and
// delivers them again: for each seed and boundary, a batch of requests
// (each kind once; more in the long form, COLDMOVE_SOAK=1) on one stack
// whose simulator fails pre-flight reads at random (by the seed).
func TestCrash_migrate(t *testing.T) {
	t.Parallel()
	perCase := stacktest.Scale(1, 4)
	for _, seed := range stacktest.Seeds(t, 1, 12) {
		for _, point := range crashPoints {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, point), func(t *testing.T) {
				t.Parallel()
				runMigrateCrash(t, seed, point, perCase, crashCases)
			})
		}
	}
}

func runMigrateCrash(t *testing.T, seed uint64, point string, perCase int, cases []crashCase) {
	ctx := t.Context()
	w := newCrashWorld(t, seed)
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	// Transient trouble the ECS client retries: a request it outlasts is
	// given back and delivered again.
	w.Sim.InjectRandom(ecstest.OpShowServer, 0.4, ecstest.ServerError(503))

	reqs := w.batch(fmt.Sprintf("crash-%d-%s", seed, point), perCase, cases)
	rng.Shuffle(len(reqs), func(i, j int) { reqs[i], reqs[j] = reqs[j], reqs[i] })

	// Each request crashes its own process at the boundary.
	for i, r := range reqs {
		p := w.process(fmt.Sprintf("migrate-%d", i), point)
		o, crashed := p.handle(ctx, r.body)
		if !slices.Equal(p.seen, r.c.passes[:min(len(p.seen), len(r.c.passes))]) {
			t.Errorf("%s (%s): boundaries passed %v, want a prefix of %v", r.id, r.c.name, p.seen, r.c.passes)
		}
		r.crashed = crashed
		reaches := slices.Contains(r.c.passes, point)
		switch {
		case crashed != reaches && o.Status != StatusRetry:
			t.Errorf("%s (%s): crashed %t at %s; outcome %+v", r.id, r.c.name, crashed, point, o)
		case crashed:
			// Left alone, no delivery ever comes again: poll must be
			// able to end the request from what the ledger holds.
			if msg := w.leftAlone(r); msg != "" {
				t.Errorf("%s (%s) crashed at %s, then no delivery: %s", r.id, r.c.name, point, msg)
			}
		}
	}
	w.checkCalls(reqs, "after the crashes")

	// A redelivery while the dead processes' claims are fresh: it may
	// finish what needs no claim, and must call nothing again.
	fresh := w.process("migrate-fresh", "")
	for _, r := range reqs {
		fresh.handle(ctx, r.body)
	}
	w.checkCalls(reqs, "after redelivering to claims still fresh")

	// Once the claims are stale, redeliveries take them over until each
	// request is handed on.
	w.Clock.Advance(ledger.DefaultConfig().ClaimStaleAfter + time.Second)
	next := w.process("migrate-next", "")
	for _, r := range reqs {
		for round := 0; ; round++ {
			o, _ := next.handle(ctx, r.body)
			if o.Status != StatusRetry {
				break
			}
			if round == 5 {
				t.Errorf("%s (%s): still %+v after %d redeliveries", r.id, r.c.name, o, round+1)
				break
			}
			w.Clock.Advance(max(o.RetryAfter, time.Second))
		}
	}
	w.checkCalls(reqs, "after the redeliveries")

	snap := w.Snapshot()
	byReq := w.ByRequest()
	for _, r := range reqs {
		want := r.want(point)
		got, problems := w.endOf(r, snap, byReq[r.key])
		for _, p := range problems {
			t.Errorf("%s (%s, crash at %s): %s", r.id, r.c.name, point, p)
		}
		if got != want {
			t.Errorf("%s (%s, crash at %s): ends %s, want %s", r.id, r.c.name, point, got, want)
		}
	}

	// The jobs run to their end: poll finds each server where the state
	// handed to it says.
	w.Sim.Advance(10 * time.Minute)
	for _, r := range reqs {
		st, ok := w.Sim.Server(r.server)
		if !ok {
			t.Fatalf("server %s gone", r.server)
		}
		want := r.want(point)
		onTarget := st.DedicatedHostID == r.target.DedicatedHostID
		if wantOn := want.migrated || want.typ == events.TypeCompleted; onTarget != wantOn {
			t.Errorf("%s (%s, crash at %s): server on %q, target %q: want on target %t", r.id, r.c.name, point,
				st.DedicatedHostID, r.target.DedicatedHostID, wantOn)
		}
		if wantOff := want.stopped || r.initial == ecstest.StatusShutoff; (st.Status == ecstest.StatusShutoff) != wantOff {
			t.Errorf("%s (%s, crash at %s): server %s, want stopped %t", r.id, r.c.name, point, st.Status, wantOff)
		}
	}
}

// batch makes perCase requests of each kind, their ids starting with
// prefix.
func (w *crashWorld) batch(prefix string, perCase int, cases []crashCase) []*crashRequest {
	var reqs []*crashRequest
	for i := range cases {
		for range perCase {
			c := &cases[i]
			srv, target := c.setup(w)
			if c.lost {
				w.lost[srv] = true
			}
			st, _ := w.Sim.Server(srv)
			id := fmt.Sprintf("%s-%d", prefix, len(reqs))
			data := map[string]any{"server_id": srv, "target": target}
			if c.power != nil {
				data["power"] = c.power
			}
			reqs = append(reqs, &crashRequest{c: c, id: id, key: events.RequestKey(stacktest.Source, id), server: srv, target: target,
				initial: st.Status, body: stacktest.RequestData(id, srv, data)})
		}
	}
	return reqs
}

// checkCalls checks guarantee 1 for every request of the batch: at most
// one MigrateServer call reached the simulator.
func (w *crashWorld) checkCalls(reqs []*crashRequest, when string) {
	w.t.Helper()
	for _, r := range reqs {
		if n := w.Sim.MigrateCalls(r.server); n > 1 {
			w.t.Errorf("%s (%s) %s: %d MigrateServer calls", r.id, r.c.name, when, n)
		}
		// Only poll makes the calls after the first: the move after a
		// stop, the start.
		stops, moves, starts := w.Sim.StopCalls(r.server), w.Sim.MigrateCalls(r.server), w.Sim.StartCalls(r.server)
		if stops > 1 || stops+moves > 1 || starts > 0 {
			w.t.Errorf("%s (%s) %s: %d stops, %d moves, %d starts sent", r.id, r.c.name, when, stops, moves, starts)
		}
	}
	for key, re := range w.ByRequest() {
		if c := stacktest.CountOf(re.Terminal); !c.AtMostOnce() {
			w.t.Errorf("request %s %s: terminal events: %s", key, when, c)
		}
		if c := stacktest.CountOf(re.Accepted); !c.AtMostOnce() {
			w.t.Errorf("request %s %s: accepted events: %s", key, when, c)
		}
		if c := stacktest.CountOf(re.Progressed); !c.AtMostOnce() {
			w.t.Errorf("request %s %s: progressed events: %s", key, when, c)
		}
	}
}

// leftAlone says what is wrong with the ledger of a request no delivery
// will come for again: "" when it is finished and published, or holds a
// record that poll settles (a pending record of a claim not submitted or
// not yet published; the job or watch record of a submitted one).
func (w *crashWorld) leftAlone(r *crashRequest) string {
	snap := w.Snapshot()
	c := snap.Claim(stacktest.Source, r.id)
	pending := snap.Job(ledger.PendingRecordID(r.key)) != nil
	switch {
	case c == nil && pending:
		return "" // poll closes it as never claimed
	case c == nil:
		return "no claim and no pending record"
	case c.State == ledger.StateFinished && c.OutcomePublished:
		return ""
	case c.State == ledger.StateSubmitted:
		id := r.recordID(c)
		if snap.Job(id) == nil {
			return fmt.Sprintf("claim submitted (job %q) without its record %s", c.JobID, id)
		}
		return ""
	case !pending:
		return fmt.Sprintf("claim %s (outcome published %t) and no pending record: nothing ends the request", c.State, c.OutcomePublished)
	}
	return ""
}

// endOf classifies what migrate left of a request once delivered again,
// with the problems found on the way: a state that breaks a guarantee, or
// that poll could not take on.
func (w *crashWorld) endOf(r *crashRequest, snap *ledger.Snapshot, re *stacktest.RequestEvents) (migrateEnd, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if re == nil {
		re = &stacktest.RequestEvents{}
	}
	terminal := stacktest.CountOf(re.Terminal)
	c := snap.Claim(stacktest.Source, r.id)
	if c == nil {
		bad("no claim")
		return migrateEnd{}, problems
	}
	// The event that announces the first call: accepted, or for a stop
	// progressed/stop_submitted; nothing else is published before the
	// terminal event.
	announced, others := re.Accepted, re.Progressed
	if c.Call == ledger.CallStop {
		announced, others = re.Progressed, re.Accepted
	}
	ann := stacktest.CountOf(announced)
	if len(others) != 0 {
		bad("events other than the first call's announcement: %s", stacktest.CountOf(others))
	}
	end := migrateEnd{migrated: w.Sim.Migrations(r.server) == 1, stopped: w.Sim.StopCalls(r.server) == 1}
	lock := snap.Lock(r.server)
	heldByIt := lock != nil && lock.RequestKey == r.key
	if snap.Job(ledger.PendingRecordID(r.key)) != nil {
		bad("pending record left (claim %s)", c.State)
	}
	switch c.State {
	case ledger.StateFinished:
		end = migrateEnd{kind: "finished"}
		if !terminal.Once() {
			bad("finished: terminal events: %s", terminal)
			break
		}
		ev := re.Terminal[0].Event
		end.typ = ev.Type()
		if ev.Type() == events.TypeRejected {
			end.reason = string(stacktest.Data[events.Rejected](w.t, ev).Reason)
		}
		stored, err := events.ParseStructured(c.Outcome)
		if err != nil || stored.ID() != ev.ID() {
			bad("claim outcome %v (%v) is not the event published, %s", stored.ID(), err, ev.ID())
		}
		if !c.OutcomePublished {
			bad("claim not marked published")
		}
		if ann.Messages != 0 {
			bad("finished without a call, yet announced: %s", ann)
		}
		if r.c.power != nil {
			if pw := stacktest.Data[struct {
				Power *events.PowerOutcome `json:"power"`
			}](w.t, ev).Power; pw == nil || *pw != (events.PowerOutcome{}) {
				bad("finished without a call: power %+v", pw)
			}
		}
		if snap.Job(ledger.WatchRecordID(r.key)) != nil || snap.Job(ledger.PowerRecordID(r.key)) != nil ||
			(c.JobID != "" && snap.Job(c.JobID) != nil) {
			bad("job record left for a finished request")
		}
		if heldByIt {
			bad("lock left on %s", r.server)
		}
	case ledger.StateSubmitted:
		if terminal.Messages != 0 {
			bad("submitted, yet terminal events: %s", terminal)
		}
		if !heldByIt {
			bad("submitted, but the server lock is %+v", lock)
		}
		j := snap.Job(r.recordID(c))
		if j == nil || j.RequestKey != r.key || j.JobID != c.JobID {
			bad("no record %s following job %q: %+v", r.recordID(c), c.JobID, j)
		} else if msg := r.checkPower(j, c); msg != "" {
			bad("record %s: %s", r.recordID(c), msg)
		}
		if c.JobUnknown {
			end.kind = "watch"
			if ann.Messages != 0 {
				bad("job unknown, yet announced: %s", ann)
			}
			break
		}
		end.kind = "job"
		if !ann.Once() || !c.AcceptedPublished {
			bad("announced: %s; marked %t", ann, c.AcceptedPublished)
		} else if id := stacktest.Data[events.Correlation](w.t, announced[0].Event).JobID; id != c.JobID {
			bad("announced job %s, claim job %s", id, c.JobID)
		}
	default:
		bad("claim %s (owner %q, last error %q): not handed on", c.State, c.Owner, c.LastError)
	}
	return end, problems
}

// recordID is the record a submitted claim of the request hands on to
// poll: the one power record of a request with power steps, else the
// job's record, or the watch record when the job is unknown.
func (r *crashRequest) recordID(c *ledger.Claim) string {
	switch {
	case r.c.power != nil:
		return ledger.PowerRecordID(r.key)
	case c.JobUnknown:
		return ledger.WatchRecordID(r.key)
	}
	return c.JobID
}

// checkPower says what is wrong with the power state of the request's
// record ("" when nothing is): absent for a request without power steps;
// for one with, the steps it asked for, following the claim's first call
// with its job.
func (r *crashRequest) checkPower(j *ledger.Job, c *ledger.Claim) string {
	ps := j.Power
	switch {
	case r.c.power == nil && ps == nil:
		return ""
	case r.c.power == nil || ps == nil:
		return fmt.Sprintf("power %+v, asked %v", ps, r.c.power)
	}
	want := ledger.PowerState{Stop: events.StopType(r.c.power["stop"].(string)), Call: c.Call}
	want.Restart, _ = r.c.power["restart"].(bool)
	if c.Call == ledger.CallStop {
		want.StopJobID = c.JobID
	} else {
		want.MoveJobID = c.JobID
	}
	if diff := cmp.Diff(want, *ps); diff != "" {
		return "power (-want +got):\n" + diff
	}
	return ""
}
