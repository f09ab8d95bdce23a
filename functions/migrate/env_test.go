package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/ledger"
)

// env is a migrate handler over real parts: the ECS simulator over HTTP,
// an embedded JetStream server, the ledger bucket and the stream. One
// manual clock drives the simulator, the ledger and the handler.
type env struct {
	sim    *ecstest.Server
	clock  *ecstest.ManualClock
	nats   *natstest.Server
	bus    *bus.Bus
	ledger *ledger.Ledger
	h      *Handler
	host   string // a dedicated host with room for many servers
	seq    atomic.Int64
}

func newEnv(t testing.TB, simOpts ...ecstest.Option) *env {
	t.Helper()
	clock := ecstest.NewManualClock(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	sim := ecstest.NewServer(t, append([]ecstest.Option{ecstest.WithClock(clock)}, simOpts...)...)
	ns := natstest.Run(t)
	cfg := bus.DefaultConfig()
	b, err := bus.New(ns.Conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.EnsureStream(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(context.Background(), ns.JetStream(), ledger.DefaultConfig(),
		ledger.WithClock(clock.Now), ledger.WithOwner("migrate-test"))
	if err != nil {
		t.Fatal(err)
	}
	client := sim.Client()
	clients := func(string) (ECS, error) { return client, nil }
	h := NewHandler(HandlerConfig{ProjectID: sim.ProjectID(), Region: "cn-north-4", MigrationTimeout: time.Hour, Now: clock.Now},
		clients, l, b, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	host := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 4096, MemoryMB: 4096 * 8192})
	return &env{sim: sim, clock: clock, nats: ns, bus: b, ledger: l, h: h, host: host}
}

// request returns a structured request CloudEvent with a fresh id.
func (e *env) request(serverID string, target *events.Target) []byte {
	data := map[string]any{"server_id": serverID, "target": target}
	return e.requestData(serverID, data)
}

func (e *env) requestData(serverID string, data any) []byte {
	ev := map[string]any{
		"specversion": "1.0", "id": fmt.Sprintf("req-%d", e.seq.Add(1)), "source": "/test/planner",
		"type": events.TypeRequested, "subject": serverID, "datacontenttype": "application/json",
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"data":        data,
	}
	b, _ := json.Marshal(ev)
	return b
}

// published returns every outcome event on the stream, in order.
func (e *env) published(t testing.TB) []event.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.nats.JetStream().OrderedConsumer(ctx, "COLDMOVE", jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"coldmove.placement.accepted.>", "coldmove.placement.rejected.>",
			"coldmove.placement.completed.>", "coldmove.placement.failed.>", "coldmove.placement.timedout.>"},
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []event.Event
	for n := info.NumPending; n > 0; {
		batch, err := c.FetchNoWait(int(n))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			ev, err := events.ParseMessage(m.Headers(), m.Data())
			if err != nil {
				t.Fatalf("outcome on %s does not parse: %v", m.Subject(), err)
			}
			out = append(out, ev)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			t.Fatal(err)
		}
		if got == 0 {
			break
		}
		n -= uint64(got)
	}
	return out
}

// only returns the one published event, failing otherwise.
func (e *env) only(t testing.TB) event.Event {
	t.Helper()
	evs := e.published(t)
	if len(evs) != 1 {
		types := make([]string, len(evs))
		for i, ev := range evs {
			types[i] = ev.Type()
		}
		t.Fatalf("published %d outcome events %v, want exactly 1", len(evs), types)
	}
	return evs[0]
}

func mustData[T any](t testing.TB, e event.Event) T {
	t.Helper()
	var v T
	if err := e.DataAs(&v); err != nil {
		t.Fatalf("%s data: %v", e.Type(), err)
	}
	return v
}

func ecsTarget(host string) ecsclient.Target { return ecsclient.Target{DedicatedHostID: host} }
