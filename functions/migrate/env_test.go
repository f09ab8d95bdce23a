package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// env is a migrate handler over the shared test stack (package stacktest):
// the ECS simulator over HTTP, an embedded JetStream server, the ledger
// bucket and the stream, with one manual clock driving the simulator, the
// ledger and the handler.
type env struct {
	*stacktest.Stack
	sim    *ecstest.Server
	clock  *ecstest.ManualClock
	nats   *natstest.Server
	bus    *bus.Bus
	ledger *ledger.Ledger
	h      *Handler
	host   string // a dedicated host with room for many servers
}

func newEnv(t testing.TB, simOpts ...ecstest.Option) *env {
	t.Helper()
	s := stacktest.New(t, simOpts...)
	l := s.Ledger("migrate-test")
	client := s.Sim.Client()
	clients := func(string) (ECS, error) { return client, nil }
	h := NewHandler(HandlerConfig{ProjectID: s.Sim.ProjectID(), Region: stacktest.Region, MigrationTimeout: time.Hour, Now: s.Clock.Now},
		clients, l, s.Bus, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	host := s.Sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 4096, MemoryMB: 4096 * 8192})
	return &env{Stack: s, sim: s.Sim, clock: s.Clock, nats: s.NATS, bus: s.Bus, ledger: l, h: h, host: host}
}

// request returns a structured request CloudEvent with a fresh id.
func (e *env) request(serverID string, target *events.Target) []byte {
	return stacktest.Request(serverID, target)
}

// requestData returns a structured request CloudEvent with a fresh id and
// this data.
func (e *env) requestData(serverID string, data any) []byte {
	return stacktest.RequestData(stacktest.NewID(), serverID, data)
}

// published returns every outcome event on the stream, in order.
func (e *env) published(t testing.TB) []event.Event {
	t.Helper()
	var out []event.Event
	for _, p := range e.Outcomes() {
		out = append(out, p.Event)
	}
	return out
}

// only returns the one published event, failing otherwise.
func (e *env) only(t testing.TB) event.Event {
	t.Helper()
	return e.Only().Event
}

func mustData[T any](t testing.TB, e event.Event) T {
	t.Helper()
	return stacktest.Data[T](t, e)
}

func ecsTarget(host string) ecsclient.Target { return ecsclient.Target{DedicatedHostID: host} }
