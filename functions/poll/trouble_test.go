package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

func TestTick_transientTroubleIsRetriedNeverAnOutcome(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		op    ecstest.Op
		fault ecstest.Fault
	}{
		"ShowJob 500":              {ecstest.OpShowJob, ecstest.ServerError(500)},
		"ShowJob 504":              {ecstest.OpShowJob, ecstest.ServerError(504)},
		"ShowJob reset":            {ecstest.OpShowJob, ecstest.ConnectionReset()},
		"ShowJob malformed":        {ecstest.OpShowJob, ecstest.MalformedBody()},
		"ShowServer after SUCCESS": {ecstest.OpShowServer, ecstest.ServerError(503)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.submit(submission{})
			p, _ := e.poller("poll-1", perJob)
			e.sim.Advance(migration)
			e.sim.InjectNext(tc.op, 100, tc.fault)

			now := e.clock.Now()
			got := mustTick(t, t.Context(), p)
			want := Summary{Jobs: 1, Due: 1, Leased: 1, Polled: 1, Rescheduled: 1, Errors: 1}
			if diff := cmp.Diff(want, got, ignoreDuration); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			if out := e.outcomes(); len(out) != 0 {
				t.Fatalf("published %d events on transient trouble", len(out))
			}
			j := e.job(r)
			retry := DefaultSchedule().Retry
			if j.NextPoll.Before(now.Add(retry)) || !j.NextPoll.Before(now.Add(retry+retry/5)) {
				t.Errorf("next poll in %s, want about %s", j.NextPoll.Sub(now), retry)
			}

			// The trouble passes: the next poll decides.
			e.sim.ClearFaults()
			e.clock.Set(j.NextPoll)
			if got := mustTick(t, t.Context(), p); got.Completed != 1 {
				t.Fatalf("after the trouble: %+v, want one completed", got)
			}
			e.checkFinished(r, e.only())
		})
	}
}

func TestTick_throttlingBacksTheProjectOff(t *testing.T) {
	t.Parallel()
	for name, fault := range map[string]ecstest.Fault{
		"429 APIGW.0308":  ecstest.GatewayThrottle(),
		"429 Common.1503": ecstest.APIThrottle(),
		"202 Common.0024": ecstest.FlowLimit(),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			throttlingStorm(t, fault)
		})
	}
}

// throttlingStorm throttles every call of a tick over 20 completed jobs,
// then lets the next tick through.
func throttlingStorm(t *testing.T, fault ecstest.Fault) {
	e := newEnv(t)
	const n = 20
	var reqs []request
	for range n {
		reqs = append(reqs, e.submit(submission{}))
	}
	p, _ := e.poller("poll-1", func(pol *Policy) { pol.Concurrency = 4 })
	e.sim.Advance(migration)
	// A throttling storm: every call is refused.
	e.sim.InjectRandom(ecstest.OpAny, 1, fault)

	now := e.clock.Now()
	got := mustTick(t, t.Context(), p)
	if got.Throttled != n || got.Rescheduled != n || got.Completed+got.Failed+got.TimedOut != 0 {
		t.Fatalf("summary %+v, want all %d throttled and rescheduled, no outcome", got, n)
	}
	// Once throttled, the project's other jobs are not sent at all: at
	// most the jobs in flight at that moment called (with retries).
	if calls := e.sim.Calls(ecstest.OpShowJob); got.Polled > 4 || calls > 4*3 {
		t.Errorf("polled %d jobs with %d ShowJob calls during the storm; want at most the 4 in flight", got.Polled, calls)
	}
	hold := DefaultSchedule().Throttled
	for _, r := range reqs {
		j := e.job(r)
		if j.NextPoll.Before(now.Add(hold)) || j.NextPoll.After(now.Add(hold+hold/5)) {
			t.Errorf("job %s next poll in %s, want about %s", r.JobID, j.NextPoll.Sub(now), hold)
		}
	}
	if out := e.outcomes(); len(out) != 0 {
		t.Fatalf("published %d events during a throttling storm", len(out))
	}

	// The storm passes; the project is polled again once its hold ends.
	e.sim.ClearFaults()
	e.clock.Advance(hold + hold/5)
	got = mustTick(t, t.Context(), p)
	if got.Completed != n || got.Throttled != 0 {
		t.Fatalf("after the storm: %+v, want all %d completed", got, n)
	}
	for _, out := range e.outcomes() {
		if out.Event.Type() != events.TypeCompleted {
			t.Errorf("published %s", out.Event.Type())
		}
	}
	if len(e.jobs()) != 0 {
		t.Errorf("%d job records left", len(e.jobs()))
	}
}

func TestTick_gatewayRateLimitStorm(t *testing.T) {
	t.Parallel()
	// The gateway allows 5 requests (its clock stands still: no more
	// later); the poller has no budget of its own, so it runs into the
	// limit and must back off.
	e := newEnv(t, ecstest.WithRateLimit(5, 5), frozenGateway())
	const n = 30
	// Jobs ECS purged, on servers settled on their targets: setting them
	// up takes no API call, polling each takes two.
	for i := range n {
		e.submit(settledJob(t, e, e.sim.ProjectID(), fmt.Sprintf("%032x", i+1)))
	}
	p, _ := e.poller("poll-1")

	got := mustTick(t, t.Context(), p)
	if got.Throttled == 0 || got.Failed != 0 || got.TimedOut != 0 {
		t.Fatalf("summary %+v, want throttled jobs and no failure", got)
	}
	if got.Completed+got.Throttled+got.Errors < n {
		t.Errorf("summary %+v does not account for %d jobs", got, n)
	}
	out := e.outcomes()
	for _, o := range out {
		if o.Event.Type() != events.TypeCompleted {
			t.Errorf("published %s during a rate-limit storm", o.Event.Type())
		}
	}
	if left := len(e.jobs()); left+len(out) != n {
		t.Errorf("%d published + %d records left, want %d", len(out), left, n)
	}
}

func TestTick_throttlingBacksOffOnlyThatProject(t *testing.T) {
	t.Parallel()
	// Each project may send 2 requests (the gateway's clock stands still:
	// no refill); one job ECS purged on a settled server costs two.
	e := newEnv(t, ecstest.WithRateLimit(2, 2), frozenGateway())
	other := e.sim.AddProject()
	// One worker takes them in record id order: the busy project's ten
	// jobs, then the other project's one.
	const busy = 10
	for i := range busy {
		e.submit(settledJob(t, e, e.sim.ProjectID(), fmt.Sprintf("%032x", i+1)))
	}
	quiet := e.submit(settledJob(t, e, other, strings.Repeat("f", 32)))
	p, _ := e.poller("poll-1", func(pol *Policy) { pol.Concurrency = 1 })

	got := mustTick(t, t.Context(), p)
	want := Summary{Jobs: busy + 1, Due: busy + 1, Leased: busy + 1, Polled: 3, Completed: 2, Rescheduled: busy - 1, Throttled: busy - 1, ListCalls: 2, Listed: busy + 1}
	if diff := cmp.Diff(want, got, ignoreDuration); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	var quietDone bool
	for _, o := range e.outcomes() {
		quietDone = quietDone || o.Event.Subject() == quiet.ServerID
	}
	if !quietDone {
		t.Error("the other project's job was held back too")
	}
}

func TestTick_budgetBelowTheQuotaIsNeverThrottled(t *testing.T) {
	t.Parallel()
	// The gateway allows 20 at once and 20 a second; the poller's budget
	// of 10 a second (a burst of 10) stays below it however the test is
	// scheduled.
	e := newEnv(t, ecstest.WithRateLimit(20, 20))
	e.cfg.ECS.Rate = 10
	const n = 12 // 24 calls: more than the gateway's burst
	for i := range n {
		e.submit(settledJob(t, e, e.sim.ProjectID(), fmt.Sprintf("%032x", i+1)))
	}
	p, _ := e.poller("poll-1", perJob)

	got := mustTick(t, t.Context(), p)
	if got.Completed != n || got.Throttled != 0 || got.Errors != 0 {
		t.Fatalf("summary %+v, want all %d completed unthrottled", got, n)
	}
	if calls := e.sim.Calls(ecstest.OpShowJob) + e.sim.Calls(ecstest.OpShowServer); calls != 2*n {
		t.Errorf("%d calls, want %d", calls, 2*n)
	}
}

// frozenGateway gives the simulator's gateway a clock that stands still,
// so that its rate limit never refills.
func frozenGateway() ecstest.Option {
	return ecstest.WithGatewayClock(ecstest.NewManualClock(time.Now()))
}

// settledJob is a submission of a job ECS purged, on a server settled on
// its target in project: polling it costs a ShowJob and a ShowServer,
// setting it up costs no API call.
func settledJob(t *testing.T, e *env, project, jobID string) submission {
	t.Helper()
	h, err := e.sim.CreateDedicatedHost(ecstest.HostSpec{ProjectID: project})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := e.sim.CreateServer(ecstest.ServerSpec{ProjectID: project, DedicatedHostID: h})
	if err != nil {
		t.Fatal(err)
	}
	return submission{project: project, server: srv, target: ledger.Target{DedicatedHostID: h}, jobID: jobID}
}

// A job whose ShowJob keeps failing with an error that is not transient
// (here: the credentials were revoked, 401 APIGW.0301) is never scheduled
// past its deadline, and at the deadline it ends timedout.
func TestTick_persistentTroubleEndsAtTheDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submit(submission{deadline: 2 * time.Minute})
	e.cfg.ECS.Credentials.SecretKey = "revoked-secret-key-0123456789"
	p, _ := e.poller("poll-1")
	for tick := 0; ; tick++ {
		got := mustTick(t, t.Context(), p)
		if got.TimedOut == 1 {
			break
		}
		if got.Errors == 0 || tick > 10 {
			t.Fatalf("tick %d: %+v, want an error, and a timedout by the deadline", tick, got)
		}
		j := e.job(r)
		if j.NextPoll.After(r.Deadline) {
			t.Fatalf("rescheduled to %s, past the deadline %s", j.NextPoll, r.Deadline)
		}
		e.clock.Set(j.NextPoll)
	}
	out := e.only()
	to := data[events.TimedOut](t, out.Event)
	if out.Event.Type() != events.TypeTimedOut || !to.Deadline.Equal(r.Deadline) || !strings.Contains(to.LastStatus, "kept failing") {
		t.Errorf("outcome %s %+v", out.Event.Type(), to)
	}
	e.checkFinished(r, out)
}
