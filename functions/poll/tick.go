package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// result is what working one due job came to.
type result struct {
	// sight is what this tick's list said about the job's server.
	sight sight
	// early: the job was taken before it was due, because its server
	// changed.
	early bool

	leased, leaseLost, polled, rescheduled, throttled, republished bool
	// outcome is the type of the outcome published, if any.
	outcome string
	errors  int
}

func (r result) addTo(s *Summary) {
	s.Leased += b2i(r.leased)
	s.LeaseLost += b2i(r.leaseLost)
	s.Polled += b2i(r.polled)
	s.Rescheduled += b2i(r.rescheduled)
	s.Throttled += b2i(r.throttled)
	s.Early += b2i(r.early && r.leased)
	s.Errors += r.errors
	if r.republished {
		s.Republished++
		return
	}
	switch r.outcome {
	case events.TypeCompleted:
		s.Completed++
	case events.TypeFailed:
		s.Failed++
	case events.TypeTimedOut:
		s.TimedOut++
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// budget is a tick's time, measured on the wall clock.
type budget struct {
	// deadline ends the tick: ctx's deadline, or the policy's budget.
	deadline time.Time
	// stopAt is when the tick stops taking jobs and ends ECS calls: the
	// deadline less the headroom.
	stopAt time.Time
	// lease is how long a job is leased for: the whole budget and a
	// margin.
	lease time.Duration
}

// budgetOf derives a tick's budget from ctx's deadline, or from the
// policy's when ctx has none.
func (p *Poller) budgetOf(ctx context.Context, start time.Time) budget {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(p.policy.Budget)
	}
	total := max(deadline.Sub(start), 0)
	headroom := min(p.policy.Headroom, total/4)
	return budget{deadline: deadline, stopAt: deadline.Add(-headroom), lease: total + p.policy.LeaseMargin}
}

// Tick works the jobs that are due: it lists them, leases each by
// revision so that overlapping ticks never work one job together, asks
// ECS how each is doing, at most Policy.Concurrency at once, and
// publishes its outcome or reschedules it. With Policy.Bulk it first
// reads every outstanding server in bulk (see observe) and also takes the
// jobs not yet due whose server changed.
//
// It takes only the jobs whose ECS calls the request budget
// (Policy.Limiter) pays for before the budget runs out (ctx's deadline, or Policy.Budget,
// less the headroom), and stops taking jobs then, or when ctx is
// cancelled; it leaves the rest for the next tick. The jobs in flight
// then end their ECS calls and still record, publish and finish what they
// decided, until the deadline. An error means the due jobs could not be
// listed; failures of single jobs are counted in the summary instead.
func (p *Poller) Tick(ctx context.Context) (Summary, error) {
	start := p.wall()
	var t tally
	b := p.budgetOf(ctx, start)
	// ECS calls end with the budget, or when ctx is cancelled; ledger and
	// NATS work goes on until the deadline.
	apiCtx, cancelAPI := context.WithDeadline(ctx, b.stopAt)
	defer cancelAPI()
	workCtx, cancelWork := context.WithDeadline(context.WithoutCancel(ctx), b.deadline)
	defer cancelWork()
	spend := newSpender(p.policy.Limiter, b.stopAt.Sub(start))

	// With bulk observation the servers are listed while the ledger is
	// scanned.
	var o *observer
	var feed func([]ledger.JobRef)
	if p.policy.Bulk {
		o = p.newObserver(apiCtx, b.stopAt, spend, &t)
		feed = o.feed
	}
	sched, err := p.led.ListDueEach(ctx, feed)
	var obs *observation
	if o != nil {
		obs = o.wait()
	}
	if err != nil {
		t.add(func(s *Summary) { s.Errors++ })
		t.s.DurationMS = p.wall().Sub(start).Milliseconds()
		return t.s, fmt.Errorf("poll: list due jobs: %w", err)
	}
	t.s.Jobs, t.s.Due = sched.Jobs, len(sched.Due)

	todo := sched.Due
	if p.policy.Bulk {
		for _, ref := range sched.Later {
			if changed(obs.of(ref), ref.Seen) {
				todo = append(todo, ref)
			}
		}
	}

	sem := make(chan struct{}, p.policy.Concurrency)
	var wg sync.WaitGroup
	deferred := 0
	for i, ref := range todo {
		select {
		case sem <- struct{}{}:
		case <-apiCtx.Done():
		}
		sg := obs.of(ref)
		if apiCtx.Err() != nil || !p.wall().Before(b.stopAt) || !spend.take(cost(ref, sg)) {
			deferred = len(todo) - i
			break
		}
		early := i >= len(sched.Due)
		wg.Go(func() {
			defer func() { <-sem }()
			r := p.work(workCtx, apiCtx, ref, b.lease, sg, early)
			t.add(r.addTo)
		})
	}
	wg.Wait()
	t.s.Deferred = deferred
	t.s.DurationMS = p.wall().Sub(start).Milliseconds()
	return t.s, nil
}

// cost is how many ECS calls working the job of ref is expected to take,
// given what the list said about its server: none while the server is
// busy (its job runs), a ShowJob when the list describes the server (it
// stands in for ShowServer), else a ShowJob and a ShowServer. Outcomes to
// re-publish and pending records cost less than estimated; a job at its
// deadline, or with power steps, may cost one more.
func cost(ref ledger.JobRef, sg sight) int {
	switch {
	case busy(sg):
		return 0
	case sg.Presence == ecsclient.ServerFound:
		return 1
	}
	return 2
}

// work leases one due job and takes it as far as it goes in this tick.
func (p *Poller) work(ctx, apiCtx context.Context, ref ledger.JobRef, lease time.Duration, sg sight, early bool) result {
	r := result{sight: sg, early: early}
	take := p.led.Lease
	if early {
		take = p.led.LeaseEarly
	}
	j, err := take(ctx, ref, lease)
	switch {
	case errors.Is(err, ledger.ErrLeaseLost), errors.Is(err, ledger.ErrNotDue):
		r.leaseLost = true
		return r
	case err != nil:
		p.log.ErrorContext(ctx, "lease job", "record", ref.RecordID, "error", err)
		r.errors++
		return r
	}
	r.leased = true
	p.crashAt(crashLeased)
	ctx = jobContext(ctx, j)
	if j.Pending {
		p.closePending(ctx, j, &r)
		return r
	}
	if len(j.Outcome) > 0 {
		r.republished = true
		p.deliver(ctx, j, &r)
		return r
	}
	now := p.now()
	if until, held := p.throttle.held(j.ProjectID, now); held {
		if !now.Before(j.Deadline) {
			p.act(ctx, j, verdict{kind: throttled, status: j.LastStatus}, &r)
			return r
		}
		r.throttled = true
		at := until.Add(jitter(p.policy.Schedule.Throttled, j.RecordID(), j.Attempts))
		if at.After(j.Deadline) {
			at = j.Deadline
		}
		p.reschedule(ctx, j, at, &r)
		return r
	}
	if stillBusy(j, sg, now) {
		// The list shows the server busy: the job runs. No ECS call.
		p.act(ctx, j, verdict{kind: keepPolling, status: "server " + sg.Server.State()}, &r)
		return r
	}
	if token := seenOf(sg); token != "" {
		j.Seen = token
	}
	r.polled = true
	if j.Power != nil {
		p.advancePower(ctx, apiCtx, j, &r)
		return r
	}
	v := p.decide(apiCtx, j, sg)
	p.crashAt(crashPolled)
	p.act(ctx, j, v, &r)
	return r
}

// stillBusy reports whether the list's answer that the job's server is
// busy is enough to keep the job running without asking ECS: the job
// follows an ECS job, has not reached its deadline, and, with power
// steps, has no call to make and no step to announce.
func stillBusy(j *ledger.Job, sg sight, now time.Time) bool {
	if !busy(sg) || j.JobID == "" || !now.Before(j.Deadline) {
		return false
	}
	return j.Power == nil || (j.Power.Next == "" && len(j.Power.Announce) == 0)
}
