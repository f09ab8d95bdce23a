package events_test

import (
	"errors"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
)

// sameKind compares *DecodeErrors field by field, their Kinds by message.
var sameKind = cmp.Transformer("fields", func(e *events.DecodeError) decodeErrorFields {
	if e == nil {
		return decodeErrorFields{}
	}
	return decodeErrorFields{e.Kind.Error(), e.Reason, e.Detail, e.Problems, e.Origin}
})

type decodeErrorFields struct {
	Kind     string
	Reason   events.RejectReason
	Detail   string
	Problems []events.Problem
	Origin   events.Origin
}

// pastDeadline is a valid request whose deadline (2001) has passed.
func pastDeadline() []byte {
	return request("late", `{"server_id":"`+serverID+`","target":{"public_pool":true},"deadline":"2001-01-01T00:00:00Z"}`)
}

func TestDecode_judgesNoTime(t *testing.T) {
	t.Parallel()
	p, err := events.Decode(nil, pastDeadline())
	if err != nil {
		t.Fatalf("Decode of a request whose deadline passed: %v", err)
	}
	e, err := events.ParseMessage(nil, pastDeadline())
	if err != nil {
		t.Fatal(err)
	}
	pe, err := events.DecodeEvent(e)
	if err != nil {
		t.Fatalf("DecodeEvent of a request whose deadline passed: %v", err)
	}
	if diff := cmp.Diff(p, pe); diff != "" {
		t.Errorf("Decode and DecodeEvent differ (-Decode +DecodeEvent):\n%s", diff)
	}
	want := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if p.Deadline == nil || !p.Deadline.Equal(want) {
		t.Errorf("deadline = %v, want %v", p.Deadline, want)
	}
}

func TestPlacement_CheckDeadline(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		deadline *time.Time
		now      time.Time
		late     bool
	}{
		"no deadline":          {nil, now, false},
		"deadline ahead":       {&deadline, deadline.Add(-time.Nanosecond), false},
		"deadline exactly now": {&deadline, deadline, true},
		"deadline passed":      {&deadline, deadline.Add(time.Hour), true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := &events.Placement{ID: "r", Source: "/s", TraceParent: traceParent, TraceState: "a=b",
				Request: events.Request{ServerID: serverID, Target: events.PublicPoolTarget(), Deadline: tc.deadline}}
			err := p.CheckDeadline(tc.now)
			if !tc.late {
				if err != nil {
					t.Fatalf("CheckDeadline = %v, want nil", err)
				}
				return
			}
			var de *events.DecodeError
			if !errors.As(err, &de) || !errors.Is(err, events.ErrInvalidPayload) {
				t.Fatalf("CheckDeadline = %v (%T), want a *DecodeError of ErrInvalidPayload", err, err)
			}
			want := &events.DecodeError{
				Kind: events.ErrInvalidPayload, Reason: events.RejectInvalidPayload,
				Problems: []events.Problem{{Field: "deadline", Problem: "must be in the future"}},
				Origin:   p.Origin(),
			}
			if diff := cmp.Diff(want, de, sameKind); diff != "" {
				t.Errorf("CheckDeadline (-want +got):\n%s", diff)
			}
			if _, err := events.NewRejected(de.Origin, de.Rejection(), tc.now); err != nil {
				t.Errorf("the rejection cannot be built: %v", err)
			}
		})
	}
}

// TestNewRejected_wrongTypeKeepsServer: a request of an unsupported type is
// answered on the subject of the server its data names, when that id is
// valid, and on _invalid otherwise.
func TestNewRejected_wrongTypeKeepsServer(t *testing.T) {
	t.Parallel()
	sdk := func(serverInData, subject string) event.Event {
		e := event.New()
		e.SetID("sdk-bogus")
		e.SetSource("/sdk")
		e.SetType("dev.coldmove.placement.bogus")
		if subject != "" {
			e.SetSubject(subject)
		}
		if err := e.SetData(event.ApplicationJSON, map[string]any{"server_id": serverInData, "target": map[string]any{"public_pool": true}}); err != nil {
			t.Fatal(err)
		}
		return e
	}
	binary := func(serverInData string) (*events.Placement, error) {
		return events.Decode(map[string][]string{
			"Ce-Specversion": {"1.0"}, "Ce-Id": {"bin-bogus"}, "Ce-Source": {"/bin"},
			"Ce-Type": {"dev.coldmove.placement.bogus"}, "Content-Type": {"application/json"},
		}, []byte(`{"server_id":"`+serverInData+`"}`))
	}
	tests := map[string]struct {
		decode func() (*events.Placement, error)
		want   string
	}{
		"structured": {func() (*events.Placement, error) {
			return events.Decode(nil, []byte(`{"specversion":"1.0","id":"s","source":"/t","type":"dev.coldmove.placement.bogus","data":{"server_id":"`+serverID+`"}}`))
		}, "coldmove.placement.rejected." + serverID},
		"binary":                  {func() (*events.Placement, error) { return binary(serverID) }, "coldmove.placement.rejected." + serverID},
		"binary, hostile id":      {func() (*events.Placement, error) { return binary("evil.>") }, "coldmove.placement.rejected._invalid"},
		"binary, token-shaped id": {func() (*events.Placement, error) { return binary("someone-else") }, "coldmove.placement.rejected._invalid"},
		"sdk event":               {func() (*events.Placement, error) { return events.DecodeEvent(sdk(serverID, "")) }, "coldmove.placement.rejected." + serverID},
		"sdk event, hostile id and subject": {func() (*events.Placement, error) {
			return events.DecodeEvent(sdk("a b", "other-server"))
		}, "coldmove.placement.rejected._invalid"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := tc.decode()
			var de *events.DecodeError
			if !errors.As(err, &de) || de.Reason != events.RejectUnsupportedType {
				t.Fatalf("err = %v, want an unsupported_type *DecodeError", err)
			}
			e, err := events.NewRejected(de.Origin, de.Rejection(), now)
			if err != nil {
				t.Fatal(err)
			}
			if got := events.OutcomeSubject(events.DefaultPrefix, e.Type(), e.Subject()); got != tc.want {
				t.Errorf("subject = %q, want %q", got, tc.want)
			}
		})
	}
}
