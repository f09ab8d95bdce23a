package stacktest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/ledger"
)

// Region is the default region of the stack's ECS configuration.
const Region = "cn-north-4"

// Start is where every stack's clock starts.
var Start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

// Stack is one test's world.
type Stack struct {
	TB    testing.TB
	Clock *ecstest.ManualClock
	Sim   *ecstest.Server
	// NATS is the embedded server ([New]); nil on a cluster.
	NATS *natstest.Server
	// Cluster is the embedded cluster ([NewCluster]); nil on one server.
	Cluster *natstest.Cluster
	// Bus is a bus on the helper's connection, with the stream created.
	Bus *bus.Bus
	// BusConfig and LedgerConfig are the defaults, with the embedded
	// server's URL.
	BusConfig    bus.Config
	LedgerConfig ledger.Config
}

// New starts a stack; opts configure the simulator (its clock is the
// stack's).
func New(tb testing.TB, opts ...ecstest.Option) *Stack {
	tb.Helper()
	s := newStack(tb, opts)
	s.NATS = natstest.Run(tb)
	s.start(s.NATS.ClientURL(), s.NATS.Conn())
	return s
}

// NewCluster starts a stack on a cluster of n embedded JetStream servers
// (natstest.RunCluster), with the stream and the ledger bucket replicated
// on all n; opts configure the simulator.
func NewCluster(tb testing.TB, n int, opts ...ecstest.Option) *Stack {
	tb.Helper()
	s := newStack(tb, opts)
	s.Cluster = natstest.RunCluster(tb, n)
	s.BusConfig.StreamReplicas, s.LedgerConfig.Replicas = n, n
	s.start(s.Cluster.ClientURL(), s.Cluster.Conn())
	return s
}

func newStack(tb testing.TB, opts []ecstest.Option) *Stack {
	clk := ecstest.NewManualClock(Start)
	return &Stack{
		TB:           tb,
		Clock:        clk,
		Sim:          ecstest.NewServer(tb, append([]ecstest.Option{ecstest.WithClock(clk)}, opts...)...),
		BusConfig:    bus.DefaultConfig(),
		LedgerConfig: ledger.DefaultConfig(),
	}
}

// start creates the stream over nc (the first [Stack.Ledger] creates the
// ledger's bucket).
func (s *Stack) start(url string, nc *nats.Conn) {
	s.TB.Helper()
	s.BusConfig.URL = url
	b, err := bus.New(nc, s.BusConfig)
	if err != nil {
		s.TB.Fatal(err)
	}
	if _, err := b.EnsureStream(context.Background()); err != nil {
		s.TB.Fatal(err)
	}
	s.Bus = b
}

// JetStream returns a JetStream handle on the helper's connection, which
// reconnects across restarts (and, on a cluster, to another member).
func (s *Stack) JetStream() jetstream.JetStream {
	if s.Cluster != nil {
		return s.Cluster.JetStream()
	}
	return s.NATS.JetStream()
}

// Ledger opens the ledger as owner, on the stack's clock.
func (s *Stack) Ledger(owner string) *ledger.Ledger {
	s.TB.Helper()
	l, err := ledger.Open(context.Background(), s.JetStream(), s.LedgerConfig,
		ledger.WithOwner(owner), ledger.WithClock(s.Clock.Now))
	if err != nil {
		s.TB.Fatal(err)
	}
	return l
}

// ECSConfig returns the ECS configuration a binary would read to use the
// simulator: its credentials, project and endpoint, the default region
// and no request budget.
func (s *Stack) ECSConfig() ecspool.Config {
	c := s.Sim.Credentials()
	return ecspool.Config{
		Credentials: ecsclient.Credentials{AccessKey: c.AccessKey, SecretKey: c.SecretKey, SecurityToken: c.SecurityToken},
		ProjectID:   s.Sim.ProjectID(), Region: Region, Endpoint: s.Sim.URL,
	}
}

// FastRetries makes ECS clients retry within milliseconds.
var FastRetries = ecsclient.WithRetryPolicy(ecsclient.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond})

// Pool returns ECS clients built as the binaries build them, retrying
// fast.
func (s *Stack) Pool() *ecspool.Pool {
	s.TB.Helper()
	p, err := ecspool.New(s.ECSConfig(), FastRetries)
	if err != nil {
		s.TB.Fatal(err)
	}
	return p
}

// Published is an event found on the stream.
type Published struct {
	Subject string
	Seq     uint64
	Event   event.Event
}

// Events returns every event on the stream, in order: requests and
// outcomes. A request message that is not a CloudEvent is left out; an
// outcome that is not fails the test.
func (s *Stack) Events() []Published {
	s.TB.Helper()
	return s.EventsAfter(0)
}

// EventsAfter returns the events on the stream after sequence seq, in
// order, as [Stack.Events] does.
func (s *Stack) EventsAfter(seq uint64) []Published {
	s.TB.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.JetStream().Stream(ctx, s.BusConfig.Stream)
	if err != nil {
		s.TB.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		s.TB.Fatal(err)
	}
	var out []Published
	for seq := max(info.State.FirstSeq, seq+1); seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			s.TB.Fatal(err)
		}
		ev, err := events.ParseMessage(m.Header, m.Data)
		if err != nil {
			if strings.Contains(m.Subject, ".placement.requested.") {
				continue // anyone may publish garbage as a request
			}
			s.TB.Fatalf("message %d on %s does not parse: %v", seq, m.Subject, err)
		}
		out = append(out, Published{Subject: m.Subject, Seq: seq, Event: ev})
	}
	return out
}

// Outcomes returns the outcome events on the stream, in order.
func (s *Stack) Outcomes() []Published {
	s.TB.Helper()
	var out []Published
	for _, p := range s.Events() {
		if p.Event.Type() != events.TypeRequested {
			out = append(out, p)
		}
	}
	return out
}

// Only returns the one outcome on the stream, failing the test otherwise.
func (s *Stack) Only() Published {
	s.TB.Helper()
	out := s.Outcomes()
	if len(out) != 1 {
		types := make([]string, len(out))
		for i, p := range out {
			types[i] = p.Event.Type()
		}
		s.TB.Fatalf("stream holds %d outcome events %v, want exactly 1", len(out), types)
	}
	return out[0]
}

// Snapshot returns every record of the ledger.
func (s *Stack) Snapshot() *ledger.Snapshot {
	s.TB.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := ledger.Open(ctx, s.JetStream(), s.LedgerConfig)
	if err != nil {
		s.TB.Fatal(err)
	}
	snap, err := l.Snapshot(ctx)
	if err != nil {
		s.TB.Fatal(err)
	}
	return snap
}

// Data decodes an event's payload, failing the test when it does not
// decode.
func Data[T any](tb testing.TB, e event.Event) T {
	tb.Helper()
	var v T
	if err := e.DataAs(&v); err != nil {
		tb.Fatalf("%s data: %v", e.Type(), err)
	}
	return v
}

// WaitCurrent waits until every replica of the stream and of the ledger's
// bucket that is up is current with its leader (on one server, at once;
// a member that is down is not waited for), so that
// readers served by any replica ([Stack.Snapshot]'s watcher, say) see
// every acknowledged write; after a member restarts, its replicas catch up
// a moment later. It fails the test after ten seconds.
func (s *Stack) WaitCurrent() {
	s.TB.Helper()
	if s.Cluster == nil {
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, name := range []string{s.BusConfig.Stream, "KV_" + s.LedgerConfig.Bucket} {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			info, err := s.streamInfo(ctx, name)
			cancel()
			if err == nil && info.Cluster != nil && info.Cluster.Leader != "" && replicasCurrent(info.Cluster.Replicas) {
				break
			}
			if time.Now().After(deadline) {
				s.TB.Fatalf("stacktest: stream %s: replicas not current after 10s: %+v, %v", name, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func (s *Stack) streamInfo(ctx context.Context, name string) (*jetstream.StreamInfo, error) {
	st, err := s.JetStream().Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return st.Info(ctx)
}

func replicasCurrent(rs []*jetstream.PeerInfo) bool {
	for _, r := range rs {
		if !r.Offline && (!r.Current || r.Lag > 0) {
			return false
		}
	}
	return true
}
