package main

import (
	"context"
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
// migrate calls on servers the world says to, and crashes the process
// after a migrate call was written when the process is armed to.
type crashTransport struct {
	base http.RoundTripper
	p    *process
	lose func(serverID string) bool
}

var errAnswerLost = errors.New("crash test: connection reset after the request was written")

func (t *crashTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	srv, ok := migrateCallOn(req)
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

// migrateCallOn returns the server of a MigrateServer request
// (POST /v1/{project_id}/cloudservers/{server_id}/migrate).
func migrateCallOn(req *http.Request) (string, bool) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	if req.Method != http.MethodPost || len(parts) < 2 || parts[len(parts)-1] != "migrate" {
		return "", false
	}
	return parts[len(parts)-2], true
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
}

func (m migrateEnd) String() string {
	if m.kind == "finished" {
		return fmt.Sprintf("finished %s %s", strings.TrimPrefix(m.typ, "dev.coldmove.placement."), m.reason)
	}
	return fmt.Sprintf("%s (migrated %t)", m.kind, m.migrated)
}

func finished(typ string, reason events.RejectReason) migrateEnd {
	return migrateEnd{kind: "finished", typ: typ, reason: string(reason)}
}

// crashCase is a kind of request the harness crashes.
type crashCase struct {
	name string
	// setup makes the request's server and target.
	setup func(w *crashWorld) (server string, target *events.Target)
	// lost: the answer of its migrate call is lost.
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
				runMigrateCrash(t, seed, point, perCase)
			})
		}
	}
}

func runMigrateCrash(t *testing.T, seed uint64, point string, perCase int) {
	ctx := t.Context()
	w := newCrashWorld(t, seed)
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))
	// Transient trouble the ECS client retries: a request it outlasts is
	// given back and delivered again.
	w.Sim.InjectRandom(ecstest.OpShowServer, 0.4, ecstest.ServerError(503))

	reqs := w.batch(fmt.Sprintf("crash-%d-%s", seed, point), perCase)
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
	}
}

// batch makes perCase requests of each kind, their ids starting with
// prefix.
func (w *crashWorld) batch(prefix string, perCase int) []*crashRequest {
	var reqs []*crashRequest
	for i := range crashCases {
		for range perCase {
			c := &crashCases[i]
			srv, target := c.setup(w)
			if c.lost {
				w.lost[srv] = true
			}
			id := fmt.Sprintf("%s-%d", prefix, len(reqs))
			reqs = append(reqs, &crashRequest{c: c, id: id, key: events.RequestKey(stacktest.Source, id), server: srv, target: target,
				body: stacktest.RequestData(id, srv, map[string]any{"server_id": srv, "target": target})})
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
	}
	for key, re := range w.ByRequest() {
		if c := stacktest.CountOf(re.Terminal); !c.AtMostOnce() {
			w.t.Errorf("request %s %s: terminal events: %s", key, when, c)
		}
		if c := stacktest.CountOf(re.Accepted); !c.AtMostOnce() {
			w.t.Errorf("request %s %s: accepted events: %s", key, when, c)
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
		id := c.JobID
		if c.JobUnknown {
			id = ledger.WatchRecordID(r.key)
		}
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
	terminal, accepted := stacktest.CountOf(re.Terminal), stacktest.CountOf(re.Accepted)
	c := snap.Claim(stacktest.Source, r.id)
	if c == nil {
		bad("no claim")
		return migrateEnd{}, problems
	}
	end := migrateEnd{migrated: w.Sim.Migrations(r.server) == 1}
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
		if accepted.Messages != 0 {
			bad("finished without a call, yet accepted: %s", accepted)
		}
		if snap.Job(ledger.WatchRecordID(r.key)) != nil || (c.JobID != "" && snap.Job(c.JobID) != nil) {
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
		if c.JobUnknown {
			end.kind = "watch"
			if j := snap.Job(ledger.WatchRecordID(r.key)); j == nil || !j.Watch() {
				bad("no watch record")
			}
			if accepted.Messages != 0 {
				bad("job unknown, yet accepted: %s", accepted)
			}
			break
		}
		end.kind = "job"
		if j := snap.Job(c.JobID); j == nil || j.RequestKey != r.key {
			bad("no job record %s", c.JobID)
		}
		if !accepted.Once() || !c.AcceptedPublished {
			bad("accepted events: %s; marked %t", accepted, c.AcceptedPublished)
		} else if a := stacktest.Data[events.Accepted](w.t, re.Accepted[0].Event); a.JobID != c.JobID {
			bad("accepted job %s, claim job %s", a.JobID, c.JobID)
		}
	default:
		bad("claim %s (owner %q, last error %q): not handed on", c.State, c.Owner, c.LastError)
	}
	return end, problems
}
