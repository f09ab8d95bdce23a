package bus_test

import (
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
)

func TestPublish_dedupByCloudEventID(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	ctx := t.Context()
	e := acceptedEvent(t, "req-1")
	first, err := b.Publish(ctx, e)
	if err != nil {
		t.Fatalf("first Publish: %v", err)
	}
	second, err := b.Publish(ctx, e)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	subj := "coldmove.placement.accepted." + serverA
	if diff := cmp.Diff(bus.PublishResult{Subject: subj, Stream: "COLDMOVE", Sequence: 1}, first); diff != "" {
		t.Errorf("first result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(bus.PublishResult{Subject: subj, Stream: "COLDMOVE", Sequence: 1, Duplicate: true}, second); diff != "" {
		t.Errorf("second result (-want +got):\n%s", diff)
	}
	// The same id in structured mode is the same event: still a duplicate.
	third, err := b.PublishMode(ctx, e, bus.Structured)
	if err != nil || !third.Duplicate {
		t.Errorf("structured re-publish = %+v, %v; want a duplicate", third, err)
	}
	info, err := mustStream(t, s.JetStream(), "COLDMOVE").Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("stream holds %d messages, want 1", info.State.Msgs)
	}
}

func TestPublish_roundTripBothModes(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	ctx := t.Context()
	for _, mode := range []bus.ContentMode{bus.Binary, bus.Structured} {
		for name, e := range map[string]event.Event{
			"request":  requestEvent(t, "req-rt-"+string(mode)),
			"accepted": acceptedEvent(t, "req-rt-"+string(mode)),
		} {
			t.Run(string(mode)+"/"+name, func(t *testing.T) {
				cfg := testConfig()
				cfg.ContentMode = mode
				b := mustBus(t, s, cfg)
				res, err := b.Publish(ctx, e)
				if err != nil {
					t.Fatalf("Publish: %v", err)
				}
				msg, err := mustStream(t, s.JetStream(), "COLDMOVE").GetMsg(ctx, res.Sequence)
				if err != nil {
					t.Fatalf("GetMsg: %v", err)
				}
				if got := msg.Header.Get(jetstream.MsgIDHeader); got != e.ID() {
					t.Errorf("Nats-Msg-Id = %q, want the CloudEvent id %q", got, e.ID())
				}
				switch mode {
				case bus.Binary:
					if msg.Header.Get("ce-id") != e.ID() || msg.Header.Get("ce-traceparent") != traceA {
						t.Errorf("binary headers %v lack ce-id or ce-traceparent", msg.Header)
					}
					if msg.Header.Get("content-type") != events.ContentType {
						t.Errorf("binary content-type = %q", msg.Header.Get("content-type"))
					}
					if diff := cmp.Diff(e.Data(), msg.Data); diff != "" {
						t.Errorf("binary body is not the data (-want +got):\n%s", diff)
					}
				case bus.Structured:
					if msg.Header.Get("ce-specversion") != "" {
						t.Errorf("structured message has ce-* headers: %v", msg.Header)
					}
					if msg.Header.Get("content-type") != "application/cloudevents+json" {
						t.Errorf("structured content-type = %q", msg.Header.Get("content-type"))
					}
				}
				got, err := events.ParseMessage(msg.Header, msg.Data)
				if err != nil {
					t.Fatalf("ParseMessage: %v", err)
				}
				if diff := diffEvents(t, e, got); diff != "" {
					t.Errorf("round trip (-sent +read):\n%s", diff)
				}
			})
		}
	}
}

func TestPublish_subjects(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	cfg := testConfig()
	cfg.SubjectPrefix = "prod.coldmove"
	cfg.Stream = "PROD"
	b := mustBus(t, s, cfg)
	unreadable := acceptedEvent(t, "x")
	unreadable.SetSubject("not a token")
	tests := map[string]struct {
		e    event.Event
		want string
	}{
		"request":         {requestEvent(t, "r1"), "prod.coldmove.placement.requested." + serverA},
		"outcome":         {acceptedEvent(t, "r1"), "prod.coldmove.placement.accepted." + serverA},
		"invalid subject": {unreadable, "prod.coldmove.placement.accepted._invalid"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			res, err := b.Publish(t.Context(), tc.e)
			if err != nil {
				t.Fatalf("Publish: %v", err)
			}
			if res.Subject != tc.want || res.Stream != "PROD" {
				t.Errorf("published to %s in %s, want %s in PROD", res.Subject, res.Stream, tc.want)
			}
		})
	}
}

func TestPublish_errors(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	foreign := acceptedEvent(t, "x")
	foreign.SetType("com.example.other")
	noID := acceptedEvent(t, "x")
	noID.SetID("")
	tests := map[string]struct {
		e    event.Event
		mode bus.ContentMode
		want string
	}{
		"foreign type":       {foreign, bus.Binary, `type "com.example.other" is not a coldmove event type`},
		"invalid binary":     {noID, bus.Binary, "events: encode binary"},
		"invalid structured": {noID, bus.Structured, "events: encode structured"},
		"unknown mode":       {acceptedEvent(t, "x"), "xml", `unknown content mode "xml"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := b.PublishMode(t.Context(), tc.e, tc.mode)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("PublishMode error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	// Without the stream nothing acknowledges the publish.
	bare := natstest.Run(t)
	nb, err := bus.New(bare.Conn(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nb.Publish(t.Context(), acceptedEvent(t, "x")); err == nil {
		t.Error("Publish without a stream succeeded")
	}
}

func TestPublish_survivesServerRestart(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	ctx := t.Context()
	for i := range 3 {
		if _, err := b.Publish(ctx, acceptedEvent(t, "before-"+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	s.Restart()
	res, err := b.Publish(ctx, acceptedEvent(t, "after"))
	if err != nil {
		t.Fatalf("Publish after restart: %v", err)
	}
	if res.Sequence != 4 {
		t.Errorf("sequence after restart = %d, want 4 (nothing lost)", res.Sequence)
	}
	// The duplicate window survives the restart too.
	dup, err := b.Publish(ctx, acceptedEvent(t, "before-a"))
	if err != nil || !dup.Duplicate {
		t.Errorf("re-publish after restart = %+v, %v; want a duplicate", dup, err)
	}
}
