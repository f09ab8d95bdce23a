package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// steppingWall is a wall clock that reads real time for its first calls
// and then jumps an hour ahead, as if the tick had run out of time.
func steppingWall(realCalls int64) func() time.Time {
	var calls atomic.Int64
	base := time.Now()
	return func() time.Time {
		if calls.Add(1) > realCalls {
			return base.Add(time.Hour)
		}
		return base
	}
}

func TestTick_stopsTakingJobsWhenTheBudgetRunsOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 10
	for range n {
		e.submit(submission{})
	}
	e.sim.Advance(migration)
	p, _ := e.poller("poll-1", func(pol *Policy) { pol.Concurrency = 1 })
	// The start reads the clock once, the one list call once, then each
	// job taken once: the budget runs out after three jobs.
	p.wall = steppingWall(1 + 1 + 3)

	got := mustTick(t, t.Context(), p)
	if got.Leased != 3 || got.Completed != 3 || got.Deferred != n-3 {
		t.Fatalf("summary %+v, want 3 jobs worked and %d deferred", got, n-3)
	}
	if left := len(e.jobs()); left != n-3 {
		t.Errorf("%d records left, want %d for the next tick", left, n-3)
	}
	// The next tick, with time, takes the rest.
	p.wall = time.Now
	if got := mustTick(t, t.Context(), p); got.Completed != n-3 || got.Deferred != 0 {
		t.Errorf("next tick: %+v", got)
	}
}

func TestTick_nearTheDeadlineTakesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.submit(submission{})
	e.sim.Advance(migration)
	p, _ := e.poller("poll-1")
	// A minute to go at the start; by the time the first job would be
	// taken, 4s are left, inside the 5s headroom: nothing is taken.
	start := time.Now()
	ctx, cancel := context.WithDeadline(t.Context(), start.Add(time.Minute))
	defer cancel()
	var calls atomic.Int64
	p.wall = func() time.Time {
		if calls.Add(1) == 1 {
			return start
		}
		return start.Add(56 * time.Second)
	}

	got := mustTick(t, ctx, p)
	if got.Due != 1 || got.Leased != 0 || got.Deferred != 1 {
		t.Fatalf("summary %+v, want the due job deferred", got)
	}
	if calls := e.sim.Calls(ecstest.OpAny); calls != 1 { // the setup's MigrateServer
		t.Errorf("%d API calls, want none from the tick", calls-1)
	}
}

// cancelOnShowJob is the real ECS, except that its first ShowJob
// cancels the tick and waits for the cancellation to arrive before
// asking ECS: the tick is cancelled with that job in flight.
type cancelOnShowJob struct {
	ECS
	cancel context.CancelFunc
	once   sync.Once
}

func (c *cancelOnShowJob) ShowJob(ctx context.Context, region, projectID, jobID string) (*ecsclient.Job, error) {
	c.once.Do(func() {
		c.cancel()
		<-ctx.Done()
	})
	return c.ECS.ShowJob(ctx, region, projectID, jobID)
}

func TestTick_cancelledStopsTakingJobsButFinishesThoseInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 6
	var reqs []request
	for range n {
		reqs = append(reqs, e.submit(submission{}))
	}
	e.sim.Advance(migration)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	real, led := e.poller("poll-1")
	p := NewPoller(&cancelOnShowJob{ECS: real.ecs, cancel: cancel}, e.bus, led, DefaultPolicy(1),
		WithClock(e.clock.Now), WithLogger(testLogger(t)))

	got := mustTick(t, ctx, p)
	want := Summary{Jobs: n, Due: n, Leased: 1, Polled: 1, Rescheduled: 1, Errors: 1, Deferred: n - 1, ListCalls: 1, Listed: n}
	if diff := cmp.Diff(want, got, ignoreDuration); diff != "" {
		t.Fatalf("summary (-want +got):\n%s", diff)
	}
	// The job in flight was rescheduled (its ECS call was cut short),
	// though the tick's context had ended.
	var polled int
	for _, r := range reqs {
		j := e.job(r)
		polled += j.Attempts
		if j.Lease != nil {
			t.Errorf("job %s still leased", r.JobID)
		}
	}
	if polled != 1 {
		t.Errorf("%d polls recorded, want the one in flight rescheduled", polled)
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	pol := DefaultPolicy(1)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		deadline          time.Duration // 0: none
		wantStop, wantEnd time.Duration
		wantLease         time.Duration
	}{
		"lambda minute": {deadline: time.Minute, wantStop: 55 * time.Second, wantEnd: time.Minute, wantLease: 90 * time.Second},
		"short":         {deadline: 8 * time.Second, wantStop: 6 * time.Second, wantEnd: 8 * time.Second, wantLease: 38 * time.Second},
		"no deadline":   {wantStop: 55 * time.Second, wantEnd: time.Minute, wantLease: 90 * time.Second},
		"passed":        {deadline: -time.Second, wantStop: -time.Second, wantEnd: -time.Second, wantLease: 30 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := NewPoller(nil, nil, nil, pol)
			ctx := context.Background()
			if tc.deadline != 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, start.Add(tc.deadline))
				defer cancel()
			}
			b := p.budgetOf(ctx, start)
			if b.stopAt.Sub(start) != tc.wantStop || b.deadline.Sub(start) != tc.wantEnd || b.lease != tc.wantLease {
				t.Errorf("budget: stop at +%s, end +%s, lease %s; want +%s, +%s, %s",
					b.stopAt.Sub(start), b.deadline.Sub(start), b.lease, tc.wantStop, tc.wantEnd, tc.wantLease)
			}
		})
	}
}
