package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/internal/platform"
	"github.com/coldmove/coldmove/ledger"
)

// testRegion is the region of every test job.
const testRegion = "cn-north-4"

// env is one test's world: the ECS simulator, an embedded JetStream with
// the stream and the ledger bucket, and one clock shared by the
// simulator's jobs, the ledgers and the pollers.
type env struct {
	t     testing.TB
	clock *ecstest.ManualClock
	sim   *ecstest.Server
	nats  *natstest.Server
	bus   *bus.Bus
	// migrate is the ledger as the migrate function uses it, to submit
	// jobs as it would.
	migrate *ledger.Ledger
	cfg     Config
	seq     atomic.Int64
}

// newEnv starts the world; opts configure the simulator.
func newEnv(tb testing.TB, opts ...ecstest.Option) *env {
	tb.Helper()
	clk := ecstest.NewManualClock(time.Now().UTC().Truncate(time.Millisecond))
	sim := ecstest.NewServer(tb, append([]ecstest.Option{ecstest.WithClock(clk)}, opts...)...)
	ns := natstest.Run(tb)
	e := &env{t: tb, clock: clk, sim: sim, nats: ns}
	cred := sim.Credentials()
	e.cfg = Config{
		Config: platform.Config{
			ECSConfig: platform.ECSConfig{AccessKey: cred.AccessKey.Reveal(), SecretKey: cred.SecretKey.Reveal(), SecurityToken: cred.SecurityToken.Reveal(),
				ProjectID: sim.ProjectID(), Region: testRegion, Endpoint: sim.URL},
			BusConfig:    bus.DefaultConfig(),
			LedgerConfig: ledger.DefaultConfig(),
			LogLevel:     "info",
		},
		Interval:    30 * time.Second,
		Concurrency: 8,
		APIRate:     0,
	}
	e.cfg.URL = ns.ClientURL()
	b, err := bus.New(ns.Conn(), e.cfg.BusConfig)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := b.EnsureStream(context.Background()); err != nil {
		tb.Fatal(err)
	}
	e.bus = b
	e.migrate = e.ledger("migrate")
	return e
}

// ledger opens the ledger as owner, on the shared clock.
func (e *env) ledger(owner string) *ledger.Ledger {
	e.t.Helper()
	l, err := ledger.Open(context.Background(), e.nats.JetStream(), e.cfg.LedgerConfig,
		ledger.WithOwner(owner), ledger.WithClock(e.clock.Now))
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// fastRetries makes the ECS clients retry within milliseconds.
var fastRetries = ecsclient.WithRetryPolicy(ecsclient.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

// poller returns a poller with its own ledger owner, ECS clients built as
// main builds them (budget, transport) and the shared clock.
func (e *env) poller(owner string, edit ...func(*Policy)) (*Poller, *ledger.Ledger) {
	e.t.Helper()
	return e.pollerWith(owner, e.bus, edit...)
}

func (e *env) pollerWith(owner string, pub Publisher, edit ...func(*Policy)) (*Poller, *ledger.Ledger) {
	e.t.Helper()
	ecs, err := newECS(&e.cfg, fastRetries)
	if err != nil {
		e.t.Fatal(err)
	}
	led := e.ledger(owner)
	pol := DefaultPolicy(e.cfg.Concurrency)
	for _, f := range edit {
		f(&pol)
	}
	return NewPoller(ecs, pub, led, pol, WithClock(e.clock.Now), WithLogger(testLogger(e.t))), led
}

// testLogger logs to the test's log at debug level.
func testLogger(tb testing.TB) *slog.Logger {
	return logging.New(testWriter{tb}, slog.LevelDebug)
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// mustTick runs one tick and fails the test on an error.
func mustTick(tb testing.TB, ctx context.Context, p *Poller) Summary {
	tb.Helper()
	s, err := p.Tick(ctx)
	if err != nil {
		tb.Fatalf("Tick: %v", err)
	}
	return s
}

// published is an event found on the stream.
type published struct {
	Subject string
	Seq     uint64
	Event   event.Event
}

// outcomes returns every outcome event on the stream, in order.
func (e *env) outcomes() []published {
	e.t.Helper()
	ctx := context.Background()
	st, err := e.nats.JetStream().Stream(ctx, e.cfg.Stream)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []published
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			e.t.Fatal(err)
		}
		ev, err := events.ParseMessage(m.Header, m.Data)
		if err != nil {
			e.t.Fatalf("message %d on %s does not parse: %v", seq, m.Subject, err)
		}
		out = append(out, published{Subject: m.Subject, Seq: seq, Event: ev})
	}
	return out
}

// only returns the single outcome on the stream, failing otherwise.
func (e *env) only() published {
	e.t.Helper()
	out := e.outcomes()
	if len(out) != 1 {
		e.t.Fatalf("stream holds %d events, want 1: %v", len(out), out)
	}
	return out[0]
}

// jobs returns the job records left in the ledger.
func (e *env) jobs() []ledger.JobRef {
	e.t.Helper()
	refs, err := e.migrate.Scan(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return refs
}

// job returns the job record of r.
func (e *env) job(r request) *ledger.Job {
	e.t.Helper()
	id := r.JobID
	if id == "" {
		id = ledger.WatchRecordID(r.Key)
	}
	j, err := e.migrate.GetJob(context.Background(), id)
	if err != nil {
		e.t.Fatalf("GetJob(%s): %v", id, err)
	}
	return j
}

// checkFinished checks that r's request is finished with exactly the
// event published, its job record gone and its server lock released.
func (e *env) checkFinished(r request, p published) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.migrate.GetClaim(ctx, r.Source, r.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if c.State != ledger.StateFinished {
		e.t.Errorf("claim state = %s, want finished", c.State)
	}
	stored, err := events.ParseStructured(c.Outcome)
	if err != nil {
		e.t.Fatalf("claim outcome: %v", err)
	}
	if stored.ID() != p.Event.ID() || stored.Type() != p.Event.Type() || string(stored.Data()) != string(p.Event.Data()) {
		e.t.Errorf("claim outcome %s %s %s, published %s %s %s", stored.Type(), stored.ID(), stored.Data(),
			p.Event.Type(), p.Event.ID(), p.Event.Data())
	}
	id := r.JobID
	if id == "" {
		id = ledger.WatchRecordID(r.Key)
	}
	if _, err := e.migrate.GetJob(ctx, id); !errors.Is(err, ledger.ErrNotFound) {
		e.t.Errorf("job record %s: err = %v, want it removed", id, err)
	}
	if lk, err := e.migrate.GetLock(ctx, r.ServerID); !errors.Is(err, ledger.ErrNotFound) {
		e.t.Errorf("lock on %s = %+v, %v; want it released", r.ServerID, lk, err)
	}
}

// data decodes an event's payload.
func data[T any](tb testing.TB, e event.Event) T {
	tb.Helper()
	var v T
	if err := e.DataAs(&v); err != nil {
		tb.Fatalf("%s data: %v", e.Type(), err)
	}
	return v
}

// parallel runs f(i) for i in [0, n) on workers goroutines.
func parallel(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

func mustJS(tb testing.TB, nc *nats.Conn) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}
