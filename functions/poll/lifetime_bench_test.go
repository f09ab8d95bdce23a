package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/benchout"
)

// The lifetime, for real: the model's jobs (same seed, same durations)
// tracked by the real poller — on the embedded JetStream ledger and the
// simulator over loopback HTTP — and by a real naive waiter, each on its
// own world, on the simulated clock: a tick (or the waiter's sleep) every
// 10 simulated seconds. Calls are counted by the simulator; detection is
// the outcome event's time (poll's clock: the tick's simulated time)
// less the job's end time in the simulator. No request budget applies
// (at this N none binds: the model shows the sweeps take well under a
// second of each 10 s tick), and calls take no simulated time.

// lifetimeJobs submits the model's jobs to e as migrate leaves them, each
// server migrating for its drawn duration, first due 10 s later.
func lifetimeJobs(b *testing.B, e *env, m modelParams) []request {
	b.Helper()
	timings := ecstest.DefaultJobTimings()
	dur := m.durations()
	reqs := make([]request, len(dur))
	errs := make([]error, len(dur))
	parallel(len(dur), 8, func(i int) {
		reqs[i], errs[i] = e.trySubmit(submission{
			migrating: dur[i] - timings.Queued - timings.Finishing, firstLook: m.FirstLook, deadline: m.Deadline,
		})
	})
	for i, err := range errs {
		if err != nil {
			b.Fatalf("job %d: %v", i, err)
		}
	}
	return reqs
}

// detections returns, per outcome on e's stream, its time less its job's
// end in the simulator.
func detections(b *testing.B, e *env) []float64 {
	b.Helper()
	var out []float64
	for _, o := range e.outcomes() {
		if o.Event.Type() != events.TypeCompleted {
			b.Fatalf("outcome %s, want completed", o.Event.Type())
		}
		c := data[events.Completed](b, o.Event)
		j, ok := e.sim.Job(c.JobID)
		if !ok {
			b.Fatalf("job %s unknown to the simulator", c.JobID)
		}
		out = append(out, o.Event.Time().Sub(j.EndTime).Seconds())
	}
	return out
}

// ecsCalls counts every call the simulator answered for tracking.
func ecsCalls(e *env) int {
	return e.sim.Calls(ecstest.OpShowJob) + e.sim.Calls(ecstest.OpShowServer) + e.sim.Calls(ecstest.OpListServersDetails)
}

// realPoll tracks the jobs with the real poller, bulk or not.
func realPoll(b *testing.B, m modelParams, bulk bool) wayResult {
	b.Helper()
	e := newEnv(b, ecstest.WithRequestLogSize(-1))
	lifetimeJobs(b, e, m)
	p, _ := e.poller("bench", func(pol *Policy) { pol.Bulk, pol.Limiter = bulk, nil })
	p.log = discardLogger
	start := e.clock.Now()
	for tick := 1; ; tick++ {
		e.clock.Set(start.Add(time.Duration(tick) * m.Tick))
		s, err := p.Tick(context.Background())
		if err != nil || s.Errors != 0 {
			b.Fatalf("tick %d: %+v, %v", tick, s, err)
		}
		if s.Jobs == s.Completed {
			break
		}
		if tick > int((m.MaxDur+time.Hour)/m.Tick) {
			b.Fatalf("jobs left after tick %d: %+v", tick, s)
		}
	}
	res := wayResult{Calls: ecsCalls(e), ListCalls: e.sim.Calls(ecstest.OpListServersDetails), Detect: detections(b, e)}
	if len(res.Detect) != m.N {
		b.Fatalf("%d outcomes, want %d", len(res.Detect), m.N)
	}
	return res
}

// realNaive tracks the jobs with the naive waiter: per job, ShowJob every
// 10 s until it ended, 16 calls in flight.
func realNaive(b *testing.B, m modelParams) wayResult {
	b.Helper()
	e := newEnv(b, ecstest.WithRequestLogSize(-1))
	reqs := lifetimeJobs(b, e, m)
	client := e.sim.Client()
	start := e.clock.Now()
	res := wayResult{}
	nextPoll := make([]time.Duration, len(reqs))
	for i := range nextPoll {
		nextPoll[i] = m.NaiveSleep
	}
	left := len(reqs)
	var mu sync.Mutex
	for t := m.NaiveSleep; left > 0; t += m.NaiveSleep {
		now := start.Add(t)
		e.clock.Set(now)
		var due []int
		for i, np := range nextPoll {
			if np >= 0 && np <= t {
				due = append(due, i)
			}
		}
		errs := make([]error, len(due))
		parallel(len(due), m.Concurrency, func(k int) {
			i := due[k]
			j, err := client.ShowJob(context.Background(), e.sim.ProjectID(), reqs[i].JobID)
			if err != nil {
				errs[k] = err
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if j.Status == "SUCCESS" || j.Status == "FAIL" {
				st, _ := e.sim.Job(j.ID)
				res.Detect = append(res.Detect, now.Sub(st.EndTime).Seconds())
				nextPoll[i] = -1
				left--
				return
			}
			nextPoll[i] = t + m.NaiveSleep
		})
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	res.Calls = e.sim.Calls(ecstest.OpShowJob)
	return res
}

// BenchmarkLifetimeReal1k tracks 1,000 of the model's jobs the three ways
// for real (see above) and writes lifetime_real.json, to set beside the
// model's figures at the same N.
func BenchmarkLifetimeReal1k(b *testing.B) {
	m := defaultModel(1000)
	var naive, backoff, bulk wayResult
	for range b.N {
		naive = realNaive(b, m)
		backoff = realPoll(b, m, false)
		bulk = realPoll(b, m, true)
	}
	for name, w := range map[string]wayResult{"naive": naive, "backoff": backoff, "bulk": bulk} {
		b.ReportMetric(w.callsPerJob(), name+"-calls/job")
		b.ReportMetric(w.detect(0.99), name+"-p99-s")
	}
	benchout.Write(b, "lifetime_real", map[string]any{strconv.Itoa(m.N): map[string]any{
		"ways":           map[string]wayFigures{"naive": figuresOf(naive), "backoff": figuresOf(backoff), "bulk": figuresOf(bulk)},
		"simulated_time": true,
		"note":           fmt.Sprintf("real poller, JetStream ledger and simulator over HTTP; simulated clock, a tick every %s; no budget binds", m.Tick),
	}})
}
