package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/benchout"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/internal/logging"
)

// The migrate path's workload: every ECS call waits pathECSLatency on the
// simulator, a round trip to a real regional endpoint rather than a
// loopback one. One iteration of each sub-benchmark is a fixed number of
// requests, enough for a p99 and more than a second, so -benchtime 1x and
// the default 1s both run it once.
const (
	pathECSLatency  = 20 * time.Millisecond
	pathConcurrency = 16  // core requests in flight, like a consumer with COLDMOVE_CONSUMER_CONCURRENCY=16
	pathRequests    = 800 // core requests per iteration
	pathBatches     = 20  // SQS batches per iteration
	pathBatchSize   = 10
	pathLambdaLimit = 30 * time.Second // the invocation deadline of an SQS batch
)

// migrateFragment is migrate.json (package benchout).
type migrateFragment struct {
	Core         *coreFigures `json:"core,omitempty"`
	SQSBatch10   *sqsFigures  `json:"sqs_batch10,omitempty"`
	ECSLatencyMS int          `json:"ecs_latency_ms"`
}

type coreFigures struct {
	Concurrency int     `json:"concurrency"`
	Requests    int     `json:"requests"`
	ReqPerS     float64 `json:"req_per_s"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
}

type sqsFigures struct {
	Batches    int     `json:"batches"`
	ReqPerS    float64 `json:"req_per_s"`
	P99MS      float64 `json:"p99_ms"`
	BatchP99MS float64 `json:"batch_p99_ms"`
}

// BenchmarkMigratePath measures the migrate path with the ECS simulator
// answering every call after 20 ms, over embedded JetStream, with ECS
// clients built as the binary builds them (package ecspool). Each request
// is a distinct valid request for its own stopped server and must end
// accepted (two ECS calls, ShowServer and MigrateServer, each); one that
// does not fails the benchmark.
//
//   - core: 800 requests through the handler core, 16 in flight (16
//     workers each taking the next request when its last is answered).
//     The latency of a request is its HandleMessage call.
//   - sqs_batch10: 20 SQS batches of 10 requests, one after another
//     through the Lambda adapter as the runtime calls it (one execution
//     environment, one invocation at a time). A request in a batch is
//     answered to SQS when its invocation returns, so its latency is the
//     invocation's time: p99 is over the 200 requests, batch p99 over the
//     20 invocations (equal batches, so the two differ only by rounding of
//     rank).
//
// Percentiles are nearest-rank. With COLDMOVE_BENCH_OUT set the figures
// are written to migrate.json.
func BenchmarkMigratePath(b *testing.B) {
	out := migrateFragment{ECSLatencyMS: int(pathECSLatency / time.Millisecond)}
	b.Run("core", func(b *testing.B) { out.Core = benchCore(b) })
	b.Run("sqs_batch10", func(b *testing.B) { out.SQSBatch10 = benchSQS(b) })
	benchout.Write(b, "migrate", out)
}

// pathBench is the handler as the binary builds it over the test stack,
// with the simulator slowed down, and a count of the SQS records the
// adapter reports accepted.
type pathBench struct {
	e        *env
	h        *Handler
	log      *slog.Logger
	accepted *atomic.Int64 // SQS records the adapter logged as accepted
}

func newPathBench(b *testing.B) *pathBench {
	b.Helper()
	e := newEnv(b)
	e.sim.SetLatency(ecstest.OpAny, pathECSLatency)
	cfg := e.ECSConfig()
	cfg.Conns = pathConcurrency
	pool, err := ecspool.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	accepted := new(atomic.Int64)
	log := slog.New(countAccepted{Handler: logging.New(io.Discard, slog.LevelInfo).Handler(), n: accepted})
	h := NewHandler(HandlerConfig{ProjectID: cfg.ProjectID, Region: cfg.Region, MigrationTimeout: time.Hour, Now: e.clock.Now},
		func(region string) (ECS, error) { return pool.For(region) }, e.ledger, e.bus, log)
	return &pathBench{e: e, h: h, log: log, accepted: accepted}
}

// requests makes n stopped servers and a request moving each to the
// stack's host.
func (p *pathBench) requests(n int) (servers []string, bodies [][]byte) {
	for range n {
		srv := p.e.sim.AddServer(ecstest.ServerSpec{})
		servers = append(servers, srv)
		bodies = append(bodies, p.e.request(srv, events.HostTarget(p.e.host)))
	}
	return servers, bodies
}

// checkMigrated fails the benchmark unless each server was migrated once.
func (p *pathBench) checkMigrated(b *testing.B, servers []string) {
	b.Helper()
	for _, s := range servers {
		if n := p.e.sim.Migrations(s); n != 1 {
			b.Fatalf("server %s: %d migrations, want 1", s, n)
		}
	}
}

func benchCore(b *testing.B) *coreFigures {
	p := newPathBench(b)
	var lat []time.Duration
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		servers, bodies := p.requests(pathRequests)
		next := make(chan []byte, len(bodies))
		for _, body := range bodies {
			next <- body
		}
		close(next)
		var (
			mu       sync.Mutex
			wg       sync.WaitGroup
			rejected atomic.Pointer[Outcome]
		)
		b.StartTimer()
		start := time.Now()
		for range pathConcurrency {
			wg.Go(func() {
				mine := make([]time.Duration, 0, len(bodies)/pathConcurrency+1)
				for body := range next {
					t0 := time.Now()
					o := p.h.HandleMessage(b.Context(), nil, body)
					mine = append(mine, time.Since(t0))
					if o.Status != StatusAccepted {
						rejected.CompareAndSwap(nil, &o)
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		b.StopTimer()
		if o := rejected.Load(); o != nil {
			b.Fatalf("a request ended %s, not accepted: %+v", o.Status, *o)
		}
		p.checkMigrated(b, servers)
		b.StartTimer()
	}
	f := &coreFigures{
		Concurrency: pathConcurrency,
		Requests:    len(lat),
		ReqPerS:     round(float64(len(lat))/elapsed.Seconds(), 1),
		P50MS:       quantileMS(lat, 0.50),
		P99MS:       quantileMS(lat, 0.99),
	}
	b.ReportMetric(f.ReqPerS, "req/s")
	b.ReportMetric(f.P50MS, "p50-ms")
	b.ReportMetric(f.P99MS, "p99-ms")
	return f
}

func benchSQS(b *testing.B) *sqsFigures {
	p := newPathBench(b)
	handler := lambda.NewHandler((&lambdaAdapter{h: p.h, log: p.log}).Invoke)
	var perRequest, perBatch []time.Duration
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		var servers []string
		payloads := make([][]byte, pathBatches)
		for i := range payloads {
			s, bodies := p.requests(pathBatchSize)
			servers = append(servers, s...)
			payloads[i] = sqsBatch("arn:aws:sqs:eu-west-1:123456789012:placements", bodies...)
		}
		before := p.accepted.Load()
		b.StartTimer()
		for i, payload := range payloads {
			ctx, cancel := context.WithTimeout(b.Context(), pathLambdaLimit)
			ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: fmt.Sprintf("bench-%d", i)})
			t0 := time.Now()
			res, err := handler.Invoke(ctx, payload)
			d := time.Since(t0)
			cancel()
			if err != nil {
				b.Fatalf("batch %d: %v", i, err)
			}
			var resp awsevents.SQSEventResponse
			if err := json.Unmarshal(res, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
				b.Fatalf("batch %d answered %s (%v), want no failures", i, res, err)
			}
			elapsed += d
			perBatch = append(perBatch, d)
			for range pathBatchSize {
				perRequest = append(perRequest, d)
			}
		}
		b.StopTimer()
		if got, want := p.accepted.Load()-before, int64(pathBatches*pathBatchSize); got != want {
			b.Fatalf("%d SQS records ended accepted, want %d", got, want)
		}
		p.checkMigrated(b, servers)
		b.StartTimer()
	}
	f := &sqsFigures{
		Batches:    len(perBatch),
		ReqPerS:    round(float64(len(perRequest))/elapsed.Seconds(), 1),
		P99MS:      quantileMS(perRequest, 0.99),
		BatchP99MS: quantileMS(perBatch, 0.99),
	}
	b.ReportMetric(f.ReqPerS, "req/s")
	b.ReportMetric(f.P99MS, "p99-ms")
	b.ReportMetric(f.BatchP99MS, "batch-p99-ms")
	return f
}

// countAccepted counts the SQS records the Lambda adapter logs as
// accepted, passing every record on.
type countAccepted struct {
	slog.Handler
	n *atomic.Int64
}

func (c countAccepted) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "SQS record handled" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "status" && a.Value.String() == string(StatusAccepted) {
				c.n.Add(1)
			}
			return a.Key != "status"
		})
	}
	return c.Handler.Handle(ctx, r)
}

func (c countAccepted) WithAttrs(attrs []slog.Attr) slog.Handler {
	return countAccepted{Handler: c.Handler.WithAttrs(attrs), n: c.n}
}

func (c countAccepted) WithGroup(name string) slog.Handler {
	return countAccepted{Handler: c.Handler.WithGroup(name), n: c.n}
}

// quantileMS returns the nearest-rank q-quantile of ds in milliseconds,
// rounded to 0.01 ms; it sorts ds.
func quantileMS(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := max(int(math.Ceil(q*float64(len(ds))))-1, 0)
	return round(float64(ds[i])/float64(time.Millisecond), 2)
}

// round rounds x to the given decimal places.
func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}
