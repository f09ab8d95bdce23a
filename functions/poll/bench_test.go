package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/benchout"
	"github.com/coldmove/coldmove/ledger"
)

// benchJobs records n running migrations as migrate would leave them for
// poll: a real job on the simulator (which stays INIT: the env must queue
// jobs for longer than the benchmark advances the clock) and its job
// record, due after firstLook. The claims and locks that migrate
// also writes are left out: a tick over running jobs does not touch them.
func benchJobs(b *testing.B, e *env, n int, firstLook time.Duration) {
	b.Helper()
	host := e.sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 2 * n, MemoryMB: 4096 * n})
	target := ledger.Target{DedicatedHostID: host}
	client := e.sim.Client()
	errs := make([]error, n)
	parallel(n, 8, func(i int) {
		ctx := context.Background()
		srv, err := e.sim.CreateServer(ecstest.ServerSpec{ProjectID: e.sim.ProjectID()})
		if err != nil {
			errs[i] = err
			return
		}
		jobID, err := client.MigrateServer(ctx, e.sim.ProjectID(), srv, ecsTarget(target))
		if err != nil {
			errs[i] = err
			return
		}
		id := fmt.Sprintf("bench-%d", i)
		_, errs[i] = e.migrate.RecordJob(ctx, ledger.Job{
			JobID: jobID, RequestID: id, RequestSource: "urn:coldmove:bench", RequestKey: events.RequestKey("urn:coldmove:bench", id),
			ProjectID: e.sim.ProjectID(), Region: testRegion, ServerID: srv, Target: target,
			Deadline: e.clock.Now().Add(1000 * time.Hour), NextPoll: e.clock.Now().Add(firstLook),
		})
	})
	for i, err := range errs {
		if err != nil {
			b.Fatalf("job %d: %v", i, err)
		}
	}
}

// heapSample is the heap at one moment: all of it (live and garbage not
// yet collected, runtime.MemStats.HeapAlloc) and what the last GC found
// live.
type heapSample struct{ alloc, live uint64 }

func readHeap() heapSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	return heapSample{alloc: ms.HeapAlloc, live: live[0].Value.Uint64()}
}

// heapPeak samples the heap every 20 ms until stop is closed and returns
// the highest values seen.
func heapPeak(stop <-chan struct{}) <-chan heapSample {
	out := make(chan heapSample, 1)
	go func() {
		var peak heapSample
		tk := time.NewTicker(20 * time.Millisecond)
		defer tk.Stop()
		for {
			h := readHeap()
			peak.alloc, peak.live = max(peak.alloc, h.alloc), max(peak.live, h.live)
			select {
			case <-stop:
				out <- peak
				return
			case <-tk.C:
			}
		}
	}()
	return out
}

// runTicks runs b.N ticks over the n due jobs of e with p, making them due
// again between ticks, and reports ShowJob calls per job and the heap.
func runTicks(b *testing.B, e *env, p *Poller, n int) {
	b.Helper()
	calls0 := e.sim.Calls(ecstest.OpShowJob)
	var peak, base heapSample
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		if i > 0 {
			e.clock.Advance(10 * time.Minute) // every job is due again
		}
		runtime.GC()
		h := readHeap()
		base.alloc, base.live = max(base.alloc, h.alloc), max(base.live, h.live)
		stop := make(chan struct{})
		peaks := heapPeak(stop)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		b.StartTimer()
		s, err := p.Tick(ctx)
		b.StopTimer()
		cancel()
		close(stop)
		h = <-peaks
		peak.alloc, peak.live = max(peak.alloc, h.alloc), max(peak.live, h.live)
		if err != nil || s.Polled != n || s.Rescheduled != n || s.Errors != 0 || s.Deferred != 0 {
			b.Fatalf("tick %d: %+v, %v; want all %d jobs polled and rescheduled", i, s, err, n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	const mb = 1 << 20
	b.ReportMetric(float64(e.sim.Calls(ecstest.OpShowJob)-calls0)/float64(b.N*n), "ShowJob/job")
	b.ReportMetric(float64(base.live)/mb, "base-live-MB")
	b.ReportMetric(float64(peak.alloc)/mb, "peak-heap-MB")
	b.ReportMetric(float64(peak.live)/mb, "peak-live-MB")
}

// BenchmarkSweepPerJob10k is one tick without bulk observation over
// 10,000 due, running jobs (each is polled once and rescheduled) against
// the simulator answering every request after 20 ms, with a client-side
// budget of 500 requests a second: the per-job sweep, which the budget
// bounds at N/500 s (20 s). The heap figures are the whole test process,
// simulator and NATS server included: base-live-MB is the live heap
// before the tick, peak-heap-MB the highest HeapAlloc during it (live and
// uncollected garbage), peak-live-MB the highest live heap a GC found
// during it. It writes sweep_per_job.json. Run it alone, with -benchtime 1x:
//
//	go test -run '^$' -bench '^BenchmarkSweepPerJob10k$' -benchtime 1x ./functions/poll
func BenchmarkSweepPerJob10k(b *testing.B) {
	const n = 10_000
	e := newEnv(b, ecstest.WithRequestLogSize(-1), forever)
	benchJobs(b, e, n, 0)
	e.sim.SetLatency(ecstest.OpAny, 20*time.Millisecond)
	e.cfg.ECS.Rate = 500
	e.cfg.Concurrency = 16
	p, _ := e.poller("bench", perJob, func(pol *Policy) { pol.Budget = 2 * time.Minute })
	p.log = discardLogger
	runTicks(b, e, p, n)
	benchout.Write(b, "sweep_per_job", map[string]any{strconv.Itoa(n): map[string]float64{
		"sweep_s": b.Elapsed().Seconds() / float64(b.N), "sweep_ideal_s": n / 500.0,
	}})
}

// BenchmarkTick_overhead measures a tick's own cost per job: 1,000 due
// running jobs, a simulator answering at once, no request budget.
func BenchmarkTick_overhead(b *testing.B) {
	const n = 1000
	e := newEnv(b, ecstest.WithRequestLogSize(-1), forever)
	benchJobs(b, e, n, 0)
	e.cfg.Concurrency = 16
	p, _ := e.poller("bench", perJob)
	p.log = discardLogger
	runTicks(b, e, p, n)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/job")
}

var discardLogger = NewPoller(nil, nil, nil, Policy{}).log

// forever keeps simulated jobs queued (INIT) for the benchmarks' lifetime.
var forever = ecstest.WithJobTimings(ecstest.JobTimings{Queued: 10_000 * time.Hour})

// gcHeapRE reads a GODEBUG=gctrace=1 line: the heap at the start of the
// collection, at its end, and live ("12->13->6 MB").
var gcHeapRE = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// BenchmarkSweep runs one tick of the real poll binary (long-running mode,
// bulk observation, COLDMOVE_API_RATE=500, COLDMOVE_POLL_CONCURRENCY=16,
// a 10 s interval) over 1,000, 10,000 and 50,000 outstanding jobs whose
// servers are migrating, with the simulator answering every request after
// 20 ms and the simulator and the NATS server in the benchmark process, so
// that the heap figures are poll's alone. Each job record is as a first
// look left it: not due, its server busy. The tick scans the ledger,
// lists every server (N/100 calls) and takes nothing: the steady tick.
// tick-s is the tick's own duration_ms; ideal-s is its calls at the
// budget (N/100/500). peak-heap-MB is the largest heap at the start of a
// collection in the child's GODEBUG=gctrace=1 output (the top of its
// HeapAlloc saw-tooth), peak-live-MB the largest heap a collection left
// live, and peak-rss-MB the child's VmHWM. It writes sweep.json. Run it
// alone:
//
//	go test -run '^$' -bench '^BenchmarkSweep$' -benchtime 1x ./functions/poll
func BenchmarkSweep(b *testing.B) {
	bin := pollBinary(b)
	out := map[string]map[string]float64{}
	for _, n := range []int{1000, 10_000, 50_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			e := newEnv(b, ecstest.WithRequestLogSize(-1), forever)
			e.clock.Set(time.Now()) // the child's clock is the wall clock
			benchJobs(b, e, n, time.Hour)
			e.sim.SetLatency(ecstest.OpAny, 20*time.Millisecond)
			b.ResetTimer()
			var s Summary
			var peak, live, rss int
			var cpu float64
			for range b.N {
				s, peak, live, rss, cpu = runPollProcess(b, bin, e.environ("COLDMOVE_API_RATE=500", "COLDMOVE_POLL_CONCURRENCY=16",
					"COLDMOVE_POLL_INTERVAL=10s", "COLDMOVE_LOG_LEVEL=debug", "GODEBUG=gctrace=1")) // an idle tick logs at debug
				if s.Jobs != n || s.Listed != n || s.Leased != 0 || s.Errors != 0 {
					b.Fatalf("tick: %+v; want every one of %d servers listed and no job taken", s, n)
				}
			}
			b.StopTimer()
			ideal := float64((n+99)/100) / 500
			b.ReportMetric(s.Duration().Seconds(), "tick-s")
			b.ReportMetric(ideal, "ideal-s")
			b.ReportMetric(float64(s.ListCalls), "list-calls")
			b.ReportMetric(float64(peak), "peak-heap-MB")
			b.ReportMetric(float64(live), "peak-live-MB")
			b.ReportMetric(float64(rss)/1024, "peak-rss-MB")
			b.ReportMetric(cpu, "cpu-s")
			out[strconv.Itoa(n)] = map[string]float64{
				"sweep_s": s.Duration().Seconds(), "sweep_ideal_s": ideal, "sweep_per_job_ideal_s": float64(n) / 500,
				"list_calls": float64(s.ListCalls), "heap_peak_mb": float64(peak), "heap_live_mb": float64(live),
				"rss_peak_mb": round(float64(rss)/1024, 1), "cpu_s": cpu,
			}
		})
	}
	benchout.Write(b, "sweep", out)
}

// runPollProcess starts poll with env, waits for its first tick, stops it
// with SIGTERM and returns the tick's summary, the peak and live heap (MB)
// from its GC trace, its peak RSS (kB) and the CPU time it spent until then
// (s).
func runPollProcess(b *testing.B, bin string, env []string) (s Summary, peakMB, liveMB, rssKB int, cpuS float64) {
	b.Helper()
	cmd := exec.Command(bin)
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	gc := make(chan [2]int, 1)
	go func() {
		var peak, live int
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := gcHeapRE.FindStringSubmatch(sc.Text()); m != nil {
				start, _ := strconv.Atoi(m[1])
				left, _ := strconv.Atoi(m[3])
				peak, live = max(peak, start), max(live, left)
			}
		}
		gc <- [2]int{peak, live}
	}()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l struct {
			Message string  `json:"message"`
			Summary Summary `json:"summary"`
		}
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Message == "tick" {
			s = l.Summary
			break
		}
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)); err == nil {
		// utime and stime, fields 14 and 15, in clock ticks (USER_HZ, 100
		// on Linux), counted after the command name in parentheses.
		if _, rest, ok := strings.Cut(string(stat), ") "); ok {
			if f := strings.Fields(rest); len(f) > 12 {
				u, _ := strconv.Atoi(f[11])
				st, _ := strconv.Atoi(f[12])
				cpuS = float64(u+st) / 100
			}
		}
	}
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)); err == nil {
		for line := range strings.SplitSeq(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, stdout)
	heap := <-gc
	return s, heap[0], heap[1], rssKB, cpuS
}
