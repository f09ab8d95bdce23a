package main

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// stopwatch adds up the time spent in the handler's dependencies.
type stopwatch struct{ ns atomic.Int64 }

func (s *stopwatch) since(t time.Time) { s.ns.Add(int64(time.Since(t))) }

type timedECS struct {
	ECS
	sw *stopwatch
}

func (t timedECS) ShowServer(ctx context.Context, p, s string) (*ecsclient.Server, error) {
	defer t.sw.since(time.Now())
	return t.ECS.ShowServer(ctx, p, s)
}

func (t timedECS) MigrateServer(ctx context.Context, p, s string, tg ecsclient.Target) (string, error) {
	defer t.sw.since(time.Now())
	return t.ECS.MigrateServer(ctx, p, s, tg)
}

type timedLedger struct {
	Ledger
	sw *stopwatch
}

func (t timedLedger) ClaimRequest(ctx context.Context, r ledger.RequestRef) (ledger.ClaimResult, error) {
	defer t.sw.since(time.Now())
	return t.Ledger.ClaimRequest(ctx, r)
}
func (t timedLedger) MarkCalling(ctx context.Context, c *ledger.Claim, call ledger.Call) error {
	defer t.sw.since(time.Now())
	return t.Ledger.MarkCalling(ctx, c, call)
}
func (t timedLedger) MarkSubmitted(ctx context.Context, c *ledger.Claim, j string, a []byte) error {
	defer t.sw.since(time.Now())
	return t.Ledger.MarkSubmitted(ctx, c, j, a)
}
func (t timedLedger) AcquireLock(ctx context.Context, c *ledger.Claim) (*ledger.Lock, error) {
	defer t.sw.since(time.Now())
	return t.Ledger.AcquireLock(ctx, c)
}
func (t timedLedger) RecordJob(ctx context.Context, j ledger.Job) (*ledger.Job, error) {
	defer t.sw.since(time.Now())
	return t.Ledger.RecordJob(ctx, j)
}

type timedPublisher struct {
	Publisher
	sw *stopwatch
}

func (t timedPublisher) Publish(ctx context.Context, e event.Event) (bus.PublishResult, error) {
	defer t.sw.since(time.Now())
	return t.Publisher.Publish(ctx, e)
}

// BenchmarkHandle measures requests through the handler core against a
// zero-latency simulator and embedded JetStream, one at a time: each is a
// new request for a new stopped server, ending in an accepted event. It
// reports the requests per second and the percentiles of each request's
// total time and of the core's own overhead (the total less the time spent
// in ECS calls, ledger writes and publishing).
func BenchmarkHandle(b *testing.B) {
	e := newEnv(b, ecstest.WithJobTimings(ecstest.JobTimings{}))
	var sw stopwatch
	client := e.sim.Client()
	h := NewHandler(HandlerConfig{ProjectID: e.sim.ProjectID(), Region: "cn-north-4", MigrationTimeout: time.Hour, Now: e.clock.Now},
		func(string) (ECS, error) { return timedECS{client, &sw}, nil },
		timedLedger{e.ledger, &sw}, timedPublisher{e.bus, &sw}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	ctx := context.Background()
	total := make([]time.Duration, 0, b.N)
	overhead := make([]time.Duration, 0, b.N)
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		srv := e.sim.AddServer(ecstest.ServerSpec{})
		req := e.request(srv, events.HostTarget(e.host))
		sw.ns.Store(0)
		b.StartTimer()
		start := time.Now()
		o := h.HandleMessage(ctx, nil, req)
		d := time.Since(start)
		if o.Status != StatusAccepted {
			b.Fatalf("outcome %+v", o)
		}
		elapsed += d
		total = append(total, d)
		overhead = append(overhead, d-time.Duration(sw.ns.Load()))
	}
	b.ReportMetric(float64(len(total))/elapsed.Seconds(), "req/s")
	report(b, "total", total)
	report(b, "core", overhead)
}

// BenchmarkHandleParallel measures throughput with concurrent requests.
func BenchmarkHandleParallel(b *testing.B) {
	e := newEnv(b, ecstest.WithJobTimings(ecstest.JobTimings{}))
	servers := make(chan string, 1<<16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var srv string
			select {
			case srv = <-servers:
			default:
				srv = e.sim.AddServer(ecstest.ServerSpec{})
			}
			if o := e.h.HandleMessage(context.Background(), nil, e.request(srv, events.HostTarget(e.host))); o.Status != StatusAccepted {
				b.Errorf("outcome %+v", o)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

func report(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	q := func(p float64) float64 { return float64(ds[int(p*float64(len(ds)-1))]) / float64(time.Millisecond) }
	b.ReportMetric(q(0.50), name+"-p50-ms")
	b.ReportMetric(q(0.99), name+"-p99-ms")
}
