package bus_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/natstest"
)

// BenchmarkPublish publishes distinct outcome events one after another,
// each waiting for its acknowledgement, on the embedded server.
func BenchmarkPublish(b *testing.B) {
	for _, mode := range []bus.ContentMode{bus.Binary, bus.Structured} {
		b.Run(string(mode), func(b *testing.B) {
			s := natstest.Run(b)
			cfg := testConfig()
			cfg.ContentMode = mode
			bb := mustBus(b, s, cfg)
			e := acceptedEvent(b, "bench")
			ctx := b.Context()
			n := 0
			for b.Loop() {
				n++
				e.SetID("bench-" + strconv.Itoa(n))
				if _, err := bb.Publish(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkPublishParallel publishes from 16 goroutines per core at once,
// as overlapping poll ticks would.
func BenchmarkPublishParallel(b *testing.B) {
	s := natstest.Run(b)
	bb := mustBus(b, s, testConfig())
	base := acceptedEvent(b, "bench")
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		e := base.Clone()
		for pb.Next() {
			e.SetID("par-" + strconv.FormatInt(n.Add(1), 10))
			if _, err := bb.Publish(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPublishDuplicate re-publishes one event: the cost of a
// deduplicated re-publish after a crash.
func BenchmarkPublishDuplicate(b *testing.B) {
	s := natstest.Run(b)
	bb := mustBus(b, s, testConfig())
	e := acceptedEvent(b, "dup")
	ctx := b.Context()
	if _, err := bb.Publish(ctx, e); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, err := bb.Publish(ctx, e); err != nil || !r.Duplicate {
			b.Fatal(r, err)
		}
	}
}

// BenchmarkConsume measures requests through Consume (decode, handler,
// confirmed ack) with the default concurrency of 4.
func BenchmarkConsume(b *testing.B) {
	s := natstest.Run(b)
	cfg := testConfig()
	cfg.Concurrency = 4
	cfg.Backoff = []time.Duration{30 * time.Second}
	bb := mustBus(b, s, cfg)
	ctx := b.Context()
	e := requestEvent(b, "c")
	for i := range b.N {
		e.SetID("c-" + strconv.Itoa(i))
		if _, err := bb.Publish(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	var handled atomic.Int64
	done := make(chan struct{})
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.ResetTimer()
	go func() {
		_ = bb.Consume(cctx, func(_ context.Context, d *bus.Delivery) bus.Result {
			if d.DecodeErr != nil {
				b.Error(d.DecodeErr)
			}
			if handled.Add(1) == int64(b.N) {
				close(done)
			}
			return bus.Ack()
		})
	}()
	<-done
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}
