package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/stacktest"
)

// flakyPublisher fails publishes at random by its seed: some are never
// written (a stream that refuses, a connection that drops the message),
// some are written but their acknowledgement is lost (a publish timeout).
// The handler runs on one goroutine, so it needs no lock.
type flakyPublisher struct {
	base             Publisher
	p                float64
	rng              *rand.Rand
	refused, ackLost int
}

var errPublishTimeout = errors.New("flaky publisher: nats: timeout")

func (f *flakyPublisher) Publish(ctx context.Context, e event.Event) (bus.PublishResult, error) {
	switch roll := f.rng.Float64(); {
	case roll < f.p/2:
		f.refused++
		return bus.PublishResult{}, fmt.Errorf("publish %s: %w", e.ID(), errPublishTimeout)
	case roll < f.p:
		if _, err := f.base.Publish(ctx, e); err != nil {
			return bus.PublishResult{}, err
		}
		f.ackLost++
		return bus.PublishResult{}, fmt.Errorf("publish %s: ack: %w", e.ID(), errPublishTimeout)
	}
	return f.base.Publish(ctx, e)
}

// TestTrouble_migratePublishTimeouts: publishes of accepted and rejected
// events fail at random, half of them after JetStream stored the event.
// Each failure gives the request back (retry); its redeliveries publish
// the recorded event again until one is acknowledged. Every request of
// every kind ends as it would without trouble: one MigrateServer call at
// most, its events once each (by id and by content), nothing left behind.
func TestTrouble_migratePublishTimeouts(t *testing.T) {
	t.Parallel()
	perCase := stacktest.Scale(2, 6)
	for _, seed := range stacktest.Seeds(t, 2, 16) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			w := newCrashWorld(t, seed)
			pub := &flakyPublisher{base: w.Bus, p: 0.6, rng: rand.New(rand.NewPCG(seed, 0xf1a4))}
			w.pub = pub
			reqs := w.batch(fmt.Sprintf("trouble-%d", seed), perCase, crashCases)
			p := w.process("migrate", "")
			retries := 0
			for _, r := range reqs {
				for round := 0; ; round++ {
					o, _ := p.handle(ctx, r.body)
					if o.Status != StatusRetry {
						break
					}
					retries++
					if o.Reason != "nats_unavailable" {
						t.Errorf("%s (%s): given back for %s: %v", r.id, r.c.name, o.Reason, o.Err)
					}
					if round == 20 {
						t.Fatalf("%s (%s): still %+v after %d deliveries", r.id, r.c.name, o, round+1)
					}
					w.Clock.Advance(time.Second)
				}
				w.checkCalls(reqs, "after "+r.id)
			}
			t.Logf("seed %d: %d requests, %d publishes refused, %d acknowledgements lost, %d deliveries given back",
				seed, len(reqs), pub.refused, pub.ackLost, retries)
			if retries != pub.refused+pub.ackLost {
				t.Errorf("%d deliveries given back for %d failed publishes", retries, pub.refused+pub.ackLost)
			}
			snap := w.Snapshot()
			byReq := w.ByRequest()
			for _, r := range reqs {
				got, problems := w.endOf(r, snap, byReq[r.key])
				for _, p := range problems {
					t.Errorf("%s (%s): %s", r.id, r.c.name, p)
				}
				if want := r.c.want(""); got != want {
					t.Errorf("%s (%s): ends %s, want %s", r.id, r.c.name, got, want)
				}
			}
		})
	}
}
