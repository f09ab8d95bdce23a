package main

import (
	"cmp"
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/coldmove/coldmove/internal/benchout"
)

// The lifetime model: N migrations submitted together, each lasting a
// duration drawn from a fixed-seed uniform distribution between 1 and 60
// minutes, tracked three ways on one API budget, in simulated time:
//
//   - naive: the per-job waiter every client writes, one loop per job:
//     sleep 10 s, ShowJob, until the job ended;
//   - backoff: poll without bulk observation: a tick every 10 s works the
//     due jobs with ShowJob on the per-job Schedule, verifying SUCCESS
//     with ShowServer;
//   - bulk: poll as it is: a tick every 10 s lists every outstanding
//     server (100 a call) and spends a ShowJob only on a job whose server
//     settled; the placement is verified on the list answer.
//
// Every ECS call goes through one FIFO API budget: the rate (500/s) or
// what Concurrency calls in flight at Latency each allow, whichever is
// lower; a call answers Latency after its slot. backoff and bulk use the
// poller's own schedule (Schedule.Poll, next, the backstop), its tick
// budget (the interval less the headroom) and its spender (calls the
// rate pays for in nine tenths of the time left, plus a second's burst).
// The simulator's migration shows its server busy (RESIZE) from the
// migrate call to the end of the job, as the reference API does; the
// ledger and NATS cost no simulated time here (the sweep benchmark
// measures them for real).

// modelParams are the assumptions of one model run.
type modelParams struct {
	N           int
	Seed        uint64
	MinDur      time.Duration
	MaxDur      time.Duration
	Rate        float64       // API budget, calls per second
	Latency     time.Duration // per call
	Concurrency int           // calls in flight
	Tick        time.Duration // poll's interval (and a tick's budget)
	NaiveSleep  time.Duration // the waiter's sleep between ShowJobs
	FirstLook   time.Duration // migrate's first poll time
	Deadline    time.Duration // the requests' deadline
	Schedule    Schedule
}

func defaultModel(n int) modelParams {
	return modelParams{
		N: n, Seed: 1, MinDur: time.Minute, MaxDur: time.Hour,
		Rate: 500, Latency: 20 * time.Millisecond, Concurrency: 16,
		Tick: 10 * time.Second, NaiveSleep: 10 * time.Second, FirstLook: 10 * time.Second,
		Deadline: 2 * time.Hour, Schedule: DefaultSchedule(),
	}
}

// durations draws the jobs' durations.
func (m modelParams) durations() []time.Duration {
	r := rand.New(rand.NewPCG(m.Seed, m.Seed^0x9e3779b97f4a7c15))
	d := make([]time.Duration, m.N)
	for i := range d {
		d[i] = m.MinDur + time.Duration(r.Int64N(int64(m.MaxDur-m.MinDur)))
	}
	return d
}

// wayResult is what one way of tracking came to.
type wayResult struct {
	Calls     int       // every ECS call
	ListCalls int       // of which ListServersDetails
	Detect    []float64 // per job: seconds from the job's end to its outcome
	// MaxSweep is the longest tick: from its start to its last answer.
	MaxSweep float64
	// SteadySweep is the sweep of a tick with every job outstanding and
	// none ended (the tick at 30 s).
	SteadySweep float64
}

func (w wayResult) callsPerJob() float64 { return float64(w.Calls) / float64(len(w.Detect)) }

func (w wayResult) detect(q float64) float64 { return quantile(w.Detect, q) }

// quantile returns the q-quantile of xs (nearest rank).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// api is the FIFO API budget, in seconds of simulated time.
type api struct {
	interval, latency float64 // seconds per call slot, per answer
	free              float64 // when the next slot is free
	calls             int
}

func newAPI(m modelParams) *api {
	rate := min(m.Rate, float64(m.Concurrency)/m.Latency.Seconds())
	return &api{interval: 1 / rate, latency: m.Latency.Seconds()}
}

// call makes one call asked for at t and returns its slot and answer time.
func (a *api) call(t float64) (slot, answer float64) {
	slot = max(t, a.free)
	a.free = slot + a.interval
	a.calls++
	return slot, slot + a.latency
}

// modelNaive runs the per-job waiters.
func modelNaive(m modelParams, dur []time.Duration) wayResult {
	a := newAPI(m)
	res := wayResult{Detect: make([]float64, len(dur))}
	q := &waitQueue{}
	for i := range dur {
		heap.Push(q, waiter{at: m.NaiveSleep.Seconds(), job: i})
	}
	for q.Len() > 0 {
		w := heap.Pop(q).(waiter)
		slot, answer := a.call(w.at)
		if end := dur[w.job].Seconds(); end <= slot {
			res.Detect[w.job] = answer - end
			continue
		}
		heap.Push(q, waiter{at: answer + m.NaiveSleep.Seconds(), job: w.job})
	}
	res.Calls = a.calls
	return res
}

type waiter struct {
	at  float64
	job int
}

type waitQueue []waiter

func (q waitQueue) Len() int { return len(q) }
func (q waitQueue) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(q[i].at, q[j].at), cmp.Compare(q[i].job, q[j].job)) < 0
}
func (q waitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *waitQueue) Push(x any)   { *q = append(*q, x.(waiter)) }
func (q *waitQueue) Pop() any {
	old := *q
	w := old[len(old)-1]
	*q = old[:len(old)-1]
	return w
}

// modelJob is a job as poll's ledger holds it in the model.
type modelJob struct {
	idx      int
	id       string
	end      float64 // seconds
	next     float64 // next poll time
	attempts int
	seen     bool // looked at while its server was settled
	done     bool
}

// modelPoll runs poll's ticks, with bulk observation or without.
func modelPoll(m modelParams, dur []time.Duration, bulk bool) wayResult {
	a := newAPI(m)
	res := wayResult{Detect: make([]float64, len(dur))}
	epoch := time.Unix(0, 0)
	at := func(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }
	secs := func(t time.Time) float64 { return t.Sub(epoch).Seconds() }
	jobs := make([]*modelJob, len(dur))
	for i, d := range dur {
		jobs[i] = &modelJob{idx: i, id: fmt.Sprintf("job-%06d", i), end: d.Seconds(), next: m.FirstLook.Seconds()}
	}
	deadline := at(m.Deadline.Seconds())
	headroom := min(DefaultPolicy(1).Headroom, m.Tick/4).Seconds()
	left := len(jobs)
	for T := m.Tick.Seconds(); left > 0; T += m.Tick.Seconds() {
		stopAt := T + m.Tick.Seconds() - headroom
		window := stopAt - T
		budget := m.Rate*(window-max(window/10, callMargin.Seconds())) + math.Floor(m.Rate)
		last := T
		spend := func(n int) bool {
			if float64(n) > budget {
				return false
			}
			budget -= float64(n)
			return true
		}
		// settledAt says, per job, whether the list answer saw it ended.
		settled := map[*modelJob]bool{}
		var outstanding []*modelJob
		for _, j := range jobs {
			if !j.done {
				outstanding = append(outstanding, j)
			}
		}
		if bulk {
			for c := 0; c < len(outstanding); c += 100 {
				if !spend(1) || max(T, a.free) >= stopAt {
					break // the servers left unlisted follow their schedule
				}
				slot, answer := a.call(T)
				res.ListCalls++
				last = max(last, answer)
				for _, j := range outstanding[c:min(c+100, len(outstanding))] {
					settled[j] = j.end <= slot
				}
			}
		}
		var todo []*modelJob
		for _, j := range outstanding {
			if j.next <= T {
				todo = append(todo, j)
			}
		}
		slices.SortStableFunc(todo, func(x, y *modelJob) int { return cmp.Compare(x.next, y.next) })
		if bulk {
			for _, j := range outstanding {
				s, ok := settled[j]
				if j.next > T && ok && s && !j.seen {
					todo = append(todo, j)
				}
			}
		}
		for _, j := range todo {
			s, inList := settled[j]
			busy := inList && !s && at(T).Before(deadline)
			cost := 2
			switch {
			case busy:
				cost = 0
			case inList:
				cost = 1
			}
			if max(T, a.free) >= stopAt || !spend(cost) {
				break
			}
			if busy {
				j.next = secs(next(at(T), deadline, m.Schedule.Backstop, j.id, j.attempts))
				j.attempts++
				continue
			}
			slot, answer := a.call(T)
			last = max(last, answer)
			if j.end > slot { // running
				d := m.Schedule.Poll(j.attempts)
				if bulk && inList {
					j.seen = true // settled in the list, yet running: per-job schedule
				}
				j.next = secs(next(at(answer), deadline, d, j.id, j.attempts))
				j.attempts++
				continue
			}
			if !inList { // verify with ShowServer
				_, answer = a.call(answer)
				last = max(last, answer)
			}
			j.done = true
			left--
			res.Detect[j.idx] = answer - j.end
		}
		res.MaxSweep = max(res.MaxSweep, last-T)
		if T == 3*m.Tick.Seconds() {
			res.SteadySweep = last - T
		}
	}
	res.Calls = a.calls
	return res
}

// wayFigures are one way's figures in the results.
type wayFigures struct {
	CallsPerJob float64 `json:"calls_per_job"`
	DetectP50S  float64 `json:"detect_p50_s"`
	DetectP99S  float64 `json:"detect_p99_s"`
	MaxSweepS   float64 `json:"max_sweep_s"`
	ListCalls   int     `json:"list_calls,omitempty"`
}

func figuresOf(w wayResult) wayFigures {
	return wayFigures{
		CallsPerJob: round(w.callsPerJob(), 2), DetectP50S: round(w.detect(0.5), 2), DetectP99S: round(w.detect(0.99), 2),
		MaxSweepS: round(w.MaxSweep, 3), ListCalls: w.ListCalls,
	}
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// modelRun is the model's result at one N.
type modelRun struct {
	Ways          map[string]wayFigures `json:"ways"`
	SteadySweepS  float64               `json:"steady_sweep_s"`
	SweepIdealS   float64               `json:"sweep_ideal_s"`
	SweepPerJobS  float64               `json:"sweep_per_job_s"`
	SimulatedTime bool                  `json:"simulated_time"`
}

// BenchmarkLifetimeModel runs the lifetime model for 1,000, 10,000 and
// 50,000 jobs on a 500/s budget with 20 ms calls, 16 in flight, and for
// 1,000 jobs on the Lambda schedule's one-minute tick (lambda_tick_60s).
// Every figure is in simulated time. It writes lifetime_model.json.
func BenchmarkLifetimeModel(b *testing.B) {
	out := map[string]modelRun{}
	for _, n := range []int{1000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			m := defaultModel(n)
			dur := m.durations()
			var naive, backoff, bulk wayResult
			for range b.N {
				naive = modelNaive(m, dur)
				backoff = modelPoll(m, dur, false)
				bulk = modelPoll(m, dur, true)
			}
			run := modelRun{
				Ways:          map[string]wayFigures{"naive": figuresOf(naive), "backoff": figuresOf(backoff), "bulk": figuresOf(bulk)},
				SteadySweepS:  round(bulk.SteadySweep, 3),
				SweepIdealS:   round(math.Ceil(float64(n)/100)/m.Rate, 3),
				SweepPerJobS:  round(float64(n)/m.Rate, 3),
				SimulatedTime: true,
			}
			for name, w := range map[string]wayResult{"naive": naive, "backoff": backoff, "bulk": bulk} {
				b.ReportMetric(w.callsPerJob(), name+"-calls/job")
				b.ReportMetric(w.detect(0.99), name+"-p99-s")
			}
			out[strconv.Itoa(n)] = run
		})
	}
	// The poll function under Lambda ticks on its schedule, every minute.
	m := defaultModel(1000)
	m.Tick = time.Minute
	dur := m.durations()
	out["lambda_tick_60s"] = modelRun{
		Ways: map[string]wayFigures{
			"backoff": figuresOf(modelPoll(m, dur, false)), "bulk": figuresOf(modelPoll(m, dur, true)),
		},
		SimulatedTime: true,
	}
	benchout.Write(b, "lifetime_model", out)
}
