package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
)

// bulkPoller returns a poller with bulk observation over ecs, wrapped by
// wrap when it is set.
func (e *env) bulkPoller(owner string, wrap func(ECS) ECS, edit ...func(*Policy)) *Poller {
	e.t.Helper()
	real, led := e.poller(owner)
	ecs := real.ecs
	if wrap != nil {
		ecs = wrap(ecs)
	}
	pol := DefaultPolicy(e.cfg.Concurrency)
	pol.Limiter = real.ecs.(poolECS).pool.Limiter()
	for _, f := range edit {
		f(&pol)
	}
	return NewPoller(ecs, e.bus, led, pol, WithClock(e.clock.Now), WithLogger(testLogger(e.t)))
}

// calls counts the simulator's answers to op so far.
func (e *env) calls(op ecstest.Op) int { return e.sim.Calls(op) }

// Many outstanding servers cost a list call per hundred each tick; a job
// is asked about only once its server settled, and its placement is
// verified on the list answer.
func TestBulk_manyServersOnFewCalls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 150
	reqs := make([]request, n)
	for i := range reqs {
		reqs[i] = e.submit(submission{})
	}
	p := e.bulkPoller("poll-1", nil)

	// First tick: every job is due for its first look, and every server
	// shows the migration running.
	got := mustTick(t, t.Context(), p)
	if got.Due != n || got.Rescheduled != n || got.Polled != 0 || got.ListCalls != 2 || got.Listed != n || got.Errors != 0 {
		t.Fatalf("first tick %+v: want %d jobs rescheduled on 2 list calls, none asked about", got, n)
	}
	if c := e.calls(ecstest.OpShowJob); c != 0 {
		t.Errorf("%d ShowJob calls while every server was busy", c)
	}
	if m := e.sim.MaxListIDsSeen(); m != ecsclient.MaxListIDs {
		t.Errorf("largest list call asked for %d ids, want %d", m, ecsclient.MaxListIDs)
	}
	j := e.job(reqs[0])
	if back := DefaultSchedule().Backstop; j.NextPoll.Before(e.clock.Now().Add(back)) {
		t.Errorf("next poll in %s, want the backstop %s", j.NextPoll.Sub(e.clock.Now()), back)
	}

	// A tick while they still move asks nothing but the list.
	e.clock.Advance(10 * time.Second)
	got = mustTick(t, t.Context(), p)
	if got.Due != 0 || got.Leased != 0 || got.ListCalls != 2 || e.calls(ecstest.OpShowJob) != 0 {
		t.Fatalf("tick while moving %+v, %d ShowJob calls", got, e.calls(ecstest.OpShowJob))
	}

	// Settled: each job is taken early, asked about once, and verified on
	// the list answer.
	e.sim.Advance(migration)
	got = mustTick(t, t.Context(), p)
	if got.Early != n || got.Completed != n || got.ListCalls != 2 || got.Errors != 0 {
		t.Fatalf("tick after the moves %+v, want all %d completed early", got, n)
	}
	if sj, ss := e.calls(ecstest.OpShowJob), e.calls(ecstest.OpShowServer); sj != n || ss != 0 {
		t.Errorf("ShowJob %d, ShowServer %d; want %d and none", sj, ss, n)
	}
	if m := e.sim.MaxListIDsSeen(); m > ecsclient.MaxListIDs {
		t.Errorf("a list call asked for %d ids", m)
	}
	for _, r := range reqs[:3] {
		e.checkFinished(r, e.outcomeOf(r))
	}
}

// outcomeOf returns the outcome event published for r.
func (e *env) outcomeOf(r request) published {
	e.t.Helper()
	for _, o := range e.outcomes() {
		if o.Event.Extensions()["serverid"] == r.ServerID || o.Subject[len(o.Subject)-len(r.ServerID):] == r.ServerID {
			return o
		}
	}
	e.t.Fatalf("no outcome for %s", r.ServerID)
	return published{}
}

// listScript is the simulator's ECS with a list answer the test writes:
// frozen at an earlier answer (lagging behind the job), or changed by
// edit (lying about the server).
type listScript struct {
	ECS
	mu     sync.Mutex
	frozen []ecsclient.ServerLookup
	freeze bool
	edit   func([]ecsclient.ServerLookup)
}

func (l *listScript) ListServers(ctx context.Context, region, projectID string, ids []string) ([]ecsclient.ServerLookup, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.freeze && l.frozen != nil {
		return l.frozen, nil
	}
	ls, err := l.ECS.ListServers(ctx, region, projectID, ids)
	if err != nil {
		return nil, err
	}
	if l.edit != nil {
		l.edit(ls)
	}
	l.frozen = ls
	return ls, nil
}

func (l *listScript) set(f func(*listScript)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// A list answer that lags behind the job (the server still shown moving
// after the job ended) produces no outcome and no ShowJob; the outcome
// comes once the list shows the server settled.
func TestBulk_listLagsBehindTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submit(submission{})
	script := &listScript{}
	p := e.bulkPoller("poll-1", func(real ECS) ECS { script.ECS = real; return script })

	mustTick(t, t.Context(), p) // moving: rescheduled to the backstop
	script.set(func(l *listScript) { l.freeze = true })
	e.sim.Advance(migration) // the job succeeded; the list still says RESIZE
	for range 3 {
		e.clock.Advance(10 * time.Second)
		if got := mustTick(t, t.Context(), p); got.Leased != 0 || len(e.outcomes()) != 0 {
			t.Fatalf("tick on a lagging list %+v, %d outcomes", got, len(e.outcomes()))
		}
	}
	if c := e.calls(ecstest.OpShowJob); c != 0 {
		t.Fatalf("%d ShowJob calls on a lagging list", c)
	}
	script.set(func(l *listScript) { l.freeze = false })
	e.clock.Advance(10 * time.Second)
	if got := mustTick(t, t.Context(), p); got.Completed != 1 || got.Early != 1 {
		t.Fatalf("tick once the list caught up %+v, want completed early", got)
	}
	e.checkFinished(r, e.only())
}

// A list answer that lies (the server shown settled on its target while
// its job runs) costs one ShowJob, which says the job runs: no outcome,
// and the same lie costs nothing more. The deadline is still kept, by
// ShowJob.
func TestBulk_listLiesAboutTheServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: time.Second, Migrating: 2 * time.Hour}))
	r := e.submit(submission{deadline: 10 * time.Minute})
	script := &listScript{edit: func(ls []ecsclient.ServerLookup) {
		for i := range ls {
			if s := ls[i].Server; s != nil {
				c := *s
				c.Status, c.TaskState, c.DedicatedHostID, c.Updated = "SHUTOFF", "", r.Target.DedicatedHostID, "2030-01-01T00:00:00Z"
				ls[i].Server = &c
			}
		}
	}}
	p := e.bulkPoller("poll-1", func(real ECS) ECS { script.ECS = real; return script })
	e.sim.Advance(2 * time.Second)

	got := mustTick(t, t.Context(), p)
	if got.Polled != 1 || got.Rescheduled != 1 || len(e.outcomes()) != 0 {
		t.Fatalf("first tick %+v, %d outcomes: want the job asked about and rescheduled", got, len(e.outcomes()))
	}
	// Until the job's next poll on the per-job schedule (the lie shows
	// the server settled, and a job may end without changing a settled
	// server), ticks take nothing.
	for range 3 {
		e.clock.Advance(4 * time.Second)
		if got := mustTick(t, t.Context(), p); got.Leased != 0 {
			t.Fatalf("tick on the same lie %+v, want nothing taken", got)
		}
	}
	if c := e.calls(ecstest.OpShowJob); c != 1 {
		t.Errorf("%d ShowJob calls, want 1", c)
	}
	// The deadline ends the request on ShowJob's word.
	for i := 0; len(e.outcomes()) == 0; i++ {
		if i > 40 {
			t.Fatal("no outcome by the deadline")
		}
		e.clock.Set(e.job(r).NextPoll)
		mustTick(t, t.Context(), p)
	}
	out := e.only()
	if out.Event.Type() != events.TypeTimedOut {
		t.Fatalf("outcome %s, want timedout", out.Event.Type())
	}
	if to := data[events.TimedOut](t, out.Event); to.LastStatus != "RUNNING" {
		t.Errorf("last status %q, want RUNNING (ShowJob's)", to.LastStatus)
	}
}

// An id the list does not know fails the request only once ShowServer
// confirms the server is gone; a list that wrongly says it is gone costs
// one look, then nothing.
func TestBulk_unknownServer(t *testing.T) {
	t.Parallel()
	t.Run("gone", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.submit(submission{server: goneServer, jobID: unknownJob})
		p := e.bulkPoller("poll-1", nil)
		got := mustTick(t, t.Context(), p)
		if got.Failed != 1 || got.Listed != 1 {
			t.Fatalf("summary %+v, want one failed", got)
		}
		out := e.only()
		if f := data[events.Failed](t, out.Event); f.Reason != events.FailServerNotFound {
			t.Errorf("failed %+v, want server_not_found", f)
		}
		if c := e.calls(ecstest.OpShowServer); c != 1 {
			t.Errorf("%d ShowServer calls, want 1: the list's word is confirmed", c)
		}
		e.checkFinished(r, out)
	})
	t.Run("wrongly missing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: time.Second, Migrating: time.Hour}))
		e.submit(submission{})
		script := &listScript{edit: func(ls []ecsclient.ServerLookup) {
			for i := range ls {
				ls[i].Presence, ls[i].Server = ecsclient.ServerMissing, nil
			}
		}}
		p := e.bulkPoller("poll-1", func(real ECS) ECS { script.ECS = real; return script })
		got := mustTick(t, t.Context(), p)
		if got.Polled != 1 || got.Rescheduled != 1 || len(e.outcomes()) != 0 {
			t.Fatalf("summary %+v, want the job asked about and kept", got)
		}
		e.clock.Advance(10 * time.Second)
		if got := mustTick(t, t.Context(), p); got.Leased != 0 {
			t.Fatalf("second tick %+v, want nothing taken", got)
		}
		if c := e.calls(ecstest.OpShowJob); c != 1 {
			t.Errorf("%d ShowJob calls, want 1", c)
		}
	})
}

// A list call that fails leaves its jobs to the per-job schedule: asked
// about with ShowJob and verified with ShowServer, as without the list.
func TestBulk_listFailureFallsBackToTheSchedule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submit(submission{})
	e.sim.Advance(migration)
	e.sim.InjectNext(ecstest.OpListServersDetails, 10, ecstest.ServerError(503)) // every retry too
	p := e.bulkPoller("poll-1", nil, func(pol *Policy) { pol.Concurrency = 1 })
	got := mustTick(t, t.Context(), p)
	if got.Completed != 1 || got.Errors != 1 || got.Listed != 0 {
		t.Fatalf("summary %+v, want completed and the list's error counted", got)
	}
	if sj, ss := e.calls(ecstest.OpShowJob), e.calls(ecstest.OpShowServer); sj != 1 || ss != 1 {
		t.Errorf("ShowJob %d, ShowServer %d; want 1 and 1", sj, ss)
	}
	e.checkFinished(r, e.only())
}

// deniedList is the simulator's ECS without the right to list servers.
type deniedList struct {
	ECS
	mu    sync.Mutex
	tries int
}

func (d *deniedList) ListServers(context.Context, string, string, []string) ([]ecsclient.ServerLookup, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tries++
	return nil, errors.New("403 Forbidden: Ecs.0013: no permission to list servers")
}

// A project whose servers cannot be listed (no permission, an API without
// the call) is not listed again for Schedule.Max; its jobs follow the
// per-job schedule meanwhile.
func TestBulk_listDeniedIsHeldBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: time.Second, Migrating: time.Hour}))
	for range 3 {
		e.submit(submission{})
	}
	denied := &deniedList{}
	p := e.bulkPoller("poll-1", func(real ECS) ECS { denied.ECS = real; return denied })
	got := mustTick(t, t.Context(), p)
	if got.Errors != 1 || got.Polled != 3 || denied.tries != 1 {
		t.Fatalf("summary %+v after %d list tries, want one failed try and every job asked about", got, denied.tries)
	}
	e.clock.Advance(time.Minute)
	mustTick(t, t.Context(), p)
	if denied.tries != 1 {
		t.Errorf("%d list tries within the hold, want 1", denied.tries)
	}
	e.clock.Advance(DefaultSchedule().Max)
	mustTick(t, t.Context(), p)
	if denied.tries != 2 {
		t.Errorf("%d list tries after the hold, want 2", denied.tries)
	}
}

// A tick takes only the jobs whose calls the request rate pays for before
// its budget ends, and leaves the rest, untouched, for the next tick: no
// job is leased only to fail waiting for the rate limiter.
func TestBulk_leasesOnlyWhatTheRatePaysFor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.cfg.ECS.Rate = 10
	const n = 40
	for range n {
		e.submit(submission{})
	}
	e.sim.Advance(migration)
	p := e.bulkPoller("poll-1", nil, func(pol *Policy) { pol.Budget, pol.Headroom = 3*time.Second, time.Second })
	got := mustTick(t, t.Context(), p)
	// The headroom is cut to a quarter of the budget: 2.25s of calls, at
	// 10/s less the 250ms margin, plus a burst of 10: 30 calls, one of
	// them the list.
	if got.Errors != 0 || got.Deferred == 0 || got.Completed != got.Leased || got.Completed+got.Deferred != n || got.Completed > 29 {
		t.Fatalf("summary %+v: want at most 29 completed, the rest deferred, no error", got)
	}
	done := got.Completed
	for range 2 {
		got = mustTick(t, t.Context(), p)
		if got.Errors != 0 {
			t.Fatalf("later tick %+v", got)
		}
		done += got.Completed
	}
	if done != n {
		t.Errorf("%d completed after 3 ticks, want %d", done, n)
	}
}
