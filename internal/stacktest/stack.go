package stacktest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
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
	NATS  *natstest.Server
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
	clk := ecstest.NewManualClock(Start)
	s := &Stack{
		TB:           tb,
		Clock:        clk,
		Sim:          ecstest.NewServer(tb, append([]ecstest.Option{ecstest.WithClock(clk)}, opts...)...),
		NATS:         natstest.Run(tb),
		BusConfig:    bus.DefaultConfig(),
		LedgerConfig: ledger.DefaultConfig(),
	}
	s.BusConfig.URL = s.NATS.ClientURL()
	b, err := bus.New(s.NATS.Conn(), s.BusConfig)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := b.EnsureStream(context.Background()); err != nil {
		tb.Fatal(err)
	}
	s.Bus = b
	return s
}

// Ledger opens the ledger as owner, on the stack's clock.
func (s *Stack) Ledger(owner string) *ledger.Ledger {
	s.TB.Helper()
	l, err := ledger.Open(context.Background(), s.NATS.JetStream(), s.LedgerConfig,
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
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.NATS.JetStream().Stream(ctx, s.BusConfig.Stream)
	if err != nil {
		s.TB.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		s.TB.Fatal(err)
	}
	var out []Published
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
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
	l, err := ledger.Open(ctx, s.NATS.JetStream(), s.LedgerConfig)
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
