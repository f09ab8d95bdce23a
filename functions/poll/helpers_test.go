package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/logging"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// testRegion is the region of every test job.
const testRegion = stacktest.Region

// env is one test's world: the shared test stack (package stacktest: the
// ECS simulator, an embedded JetStream with the stream and the ledger
// bucket, and one clock shared by the simulator's jobs, the ledgers and
// the pollers) and the ledger as migrate uses it.
type env struct {
	*stacktest.Stack
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
	return envOn(tb, stacktest.New(tb, opts...))
}

// envOn is the world on a stack already started (a cluster, say); nats is
// nil on a cluster.
func envOn(tb testing.TB, s *stacktest.Stack) *env {
	tb.Helper()
	e := &env{Stack: s, t: tb, clock: s.Clock, sim: s.Sim, nats: s.NATS, bus: s.Bus}
	e.cfg = defaultConfig()
	e.cfg.ECS, e.cfg.Bus, e.cfg.Ledger = s.ECSConfig(), s.BusConfig, s.LedgerConfig
	e.migrate = e.ledger("migrate")
	return e
}

// ledger opens the ledger as owner, on the shared clock.
func (e *env) ledger(owner string) *ledger.Ledger { return e.Ledger(owner) }

// poller returns a poller with its own ledger owner, ECS clients built as
// main builds them (budget, transport) and the shared clock.
func (e *env) poller(owner string, edit ...func(*Policy)) (*Poller, *ledger.Ledger) {
	e.t.Helper()
	return e.pollerWith(owner, e.bus, edit...)
}

func (e *env) pollerWith(owner string, pub Publisher, edit ...func(*Policy)) (*Poller, *ledger.Ledger) {
	e.t.Helper()
	ecs, err := newECS(e.cfg, stacktest.FastRetries)
	if err != nil {
		e.t.Fatal(err)
	}
	led := e.ledger(owner)
	pol := DefaultPolicy(e.cfg.Concurrency)
	pol.Limiter = ecs.pool.Limiter() // as the app sets it
	for _, f := range edit {
		f(&pol)
	}
	return NewPoller(ecs, pub, led, pol, WithClock(e.clock.Now), WithLogger(testLogger(e.t))), led
}

// perJob turns bulk observation off: the tick looks at each due job with
// ShowJob, as tests of the per-job path need.
func perJob(p *Policy) { p.Bulk = false }

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
type published = stacktest.Published

// outcomes returns every outcome event on the stream, in order.
func (e *env) outcomes() []published { return e.Outcomes() }

// only returns the single outcome on the stream, failing otherwise.
func (e *env) only() published { return e.Only() }

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
	snap := e.Snapshot()
	c := snap.Claim(r.Source, r.ID)
	if c == nil {
		e.t.Fatalf("no claim of request %s", r.ID)
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
	if lk := snap.Lock(r.ServerID); lk != nil {
		e.t.Errorf("lock on %s = %+v; want it released", r.ServerID, lk)
	}
}

// data decodes an event's payload.
func data[T any](tb testing.TB, e event.Event) T {
	tb.Helper()
	return stacktest.Data[T](tb, e)
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
