package bus_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
)

const (
	serverA = "6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	hostA   = "c0ffee00-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
	traceA  = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testConfig is the default configuration for tests. Its first backoff
// delay, which is also the consumer's acknowledgement wait, is far longer
// than any test waits, so a slow machine never causes a redelivery a test
// did not ask for; tests of redelivery by timeout set their own.
func testConfig() bus.Config {
	cfg := bus.DefaultConfig()
	cfg.Backoff = []time.Duration{time.Minute, 2 * time.Minute}
	cfg.MaxDeliver = 5
	cfg.Concurrency = 2
	return cfg
}

// mustBus returns a Bus on the server's connection with the stream
// ensured.
func mustBus(t testing.TB, s *natstest.Server, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.New(s.Conn(), cfg)
	if err != nil {
		t.Fatalf("bus.New: %v", err)
	}
	if _, err := b.EnsureStream(t.Context()); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	return b
}

// requestEvent returns a valid placement request.
func requestEvent(t testing.TB, id string) event.Event {
	t.Helper()
	e := event.New()
	e.SetID(id)
	e.SetSource("urn:coldmove:test")
	e.SetType(events.TypeRequested)
	e.SetSubject(serverA)
	e.SetTime(at)
	e.SetExtension("traceparent", traceA)
	if err := e.SetData(events.ContentType, events.Request{ServerID: serverA, Target: events.HostTarget(hostA)}); err != nil {
		t.Fatal(err)
	}
	return e
}

// acceptedEvent returns an outcome event built by package events. Its id
// derives from the job id, which derives from requestID, so different
// requests give different events.
func acceptedEvent(t testing.TB, requestID string) event.Event {
	t.Helper()
	o := events.Origin{RequestID: requestID, RequestSource: "urn:coldmove:test", ServerID: serverA,
		ProjectID: "0605767d3d80d5762f4fc00c7b8a1234", Region: "cn-north-4", Target: events.HostTarget(hostA), TraceParent: traceA}
	sum := sha256.Sum256([]byte(requestID))
	e, err := events.NewAccepted(o, hex.EncodeToString(sum[:16]), at.Add(time.Hour), at)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// diffEvents compares two events through their structured JSON.
func diffEvents(t testing.TB, want, got event.Event) string {
	t.Helper()
	toMap := func(e event.Event) map[string]any {
		b, err := events.Structured(e)
		if err != nil {
			t.Fatalf("Structured: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return cmp.Diff(toMap(want), toMap(got))
}

// mustStream returns the COLDMOVE stream's handle.
func mustStream(t testing.TB, js jetstream.JetStream, name string) jetstream.Stream {
	t.Helper()
	s, err := js.Stream(t.Context(), name)
	if err != nil {
		t.Fatalf("Stream(%s): %v", name, err)
	}
	return s
}
