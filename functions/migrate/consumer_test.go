package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
)

// TestConsumer runs the long-running runtime: requests published on the
// request subject in binary and structured mode are answered on their
// outcome subjects; a message that is not a CloudEvent is refused (not
// delivered again) with no event stored.
func TestConsumer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srvBinary := e.sim.AddServer(ecstest.ServerSpec{})
	srvStructured := e.sim.AddServer(ecstest.ServerSpec{})

	outcomes := make(chan *nats.Msg, 16)
	sub, err := e.nats.Conn().ChanSubscribe("coldmove.placement.*.*", outcomes)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- consume(ctx, e.bus, e.h, slog.New(slog.NewJSONHandler(io.Discard, nil))) }()

	js := e.nats.JetStream()
	// Binary mode, as coldmove itself publishes.
	ev, err := events.ParseStructured(e.request(srvBinary, events.HostTarget(e.host)))
	if err != nil {
		t.Fatal(err)
	}
	h, body, err := events.BinaryHeaders(ev)
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: events.RequestSubject("coldmove", srvBinary), Header: nats.Header(h), Data: body}
	if _, err := js.PublishMsg(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	// Structured mode.
	if _, err := js.Publish(t.Context(), events.RequestSubject("coldmove", srvStructured), e.request(srvStructured, events.PublicPoolTarget())); err != nil {
		t.Fatal(err)
	}
	// Not a CloudEvent.
	if _, err := js.Publish(t.Context(), events.RequestSubject("coldmove", "garbage"), []byte("garbage")); err != nil {
		t.Fatal(err)
	}

	got := map[string]string{}
	timeout := time.After(20 * time.Second)
	for len(got) < 2 {
		select {
		case m := <-outcomes:
			if m.Subject[:len("coldmove.placement.requested")] == "coldmove.placement.requested" {
				continue
			}
			got[m.Subject] = m.Header.Get("ce-type")
		case <-timeout:
			t.Fatalf("outcomes so far: %v", got)
		}
	}
	want := map[string]string{
		"coldmove.placement.accepted." + srvBinary:      events.TypeAccepted,
		"coldmove.placement.completed." + srvStructured: events.TypeCompleted, // already in the public pool
	}
	for subj, typ := range want {
		if got[subj] != typ {
			t.Errorf("%s: got %q, want %q (all: %v)", subj, got[subj], typ, got)
		}
	}
	// Every delivery is settled, the garbage included, and nothing was
	// stored for it.
	st, err := e.nats.JetStream().Stream(t.Context(), "COLDMOVE")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := st.Consumer(t.Context(), e.bus.Config().Consumer)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		info, err := cons.Info(t.Context())
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not settled: %+v, %v", info, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, p := range e.Outcomes() {
		if p.Event.Type() == events.TypeRejected {
			t.Errorf("a rejection was stored for the garbage: %s", p.Event)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("consume: %v", err)
	}
}
