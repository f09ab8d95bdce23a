package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
)

// Trigger describes what started a Lambda tick, for the log: an
// EventBridge scheduled event (an [lambdaevents.CloudWatchEvent]), the
// verbatim input of an EventBridge Scheduler (ScheduleV2) schedule, which
// may be any JSON, or an empty invocation.
type Trigger struct {
	// Kind is "scheduled-event" for an EventBridge envelope, "input" for
	// any other JSON, "empty" for no payload.
	Kind string
	// ID, Source, DetailType and Time come from the envelope.
	ID, Source, DetailType string
	Time                   time.Time
}

// ErrBadTrigger reports a payload that is not JSON.
var ErrBadTrigger = errors.New("poll: trigger is not JSON")

// ParseTrigger reads the payload of a Lambda invocation. Every JSON value
// is accepted, because a schedule's input is its owner's choice; only a
// payload that is not JSON at all is refused.
func ParseTrigger(raw []byte) (Trigger, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return Trigger{Kind: "empty"}, nil
	}
	if !json.Valid(raw) {
		return Trigger{}, fmt.Errorf("%w (%d bytes)", ErrBadTrigger, len(raw))
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return Trigger{Kind: "input"}, nil // an array, a string, a number
	}
	if _, ok := fields["detail-type"]; !ok {
		return Trigger{Kind: "input"}, nil
	}
	// An EventBridge envelope. One with a field of an unexpected type
	// still starts the tick; the fields that read are logged.
	t := Trigger{Kind: "scheduled-event"}
	var e lambdaevents.CloudWatchEvent
	if json.Unmarshal(raw, &e) == nil {
		t.ID, t.Source, t.DetailType, t.Time = e.ID, e.Source, e.DetailType, e.Time
		return t, nil
	}
	str := func(name string) string {
		var s string
		_ = json.Unmarshal(fields[name], &s)
		return s
	}
	t.ID, t.Source, t.DetailType = str("id"), str("source"), str("detail-type")
	return t, nil
}

// LogValue logs the trigger's set fields.
func (t Trigger) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", t.Kind)}
	for _, a := range []struct{ k, v string }{{"id", t.ID}, {"source", t.Source}, {"detail_type", t.DetailType}} {
		if a.v != "" {
			attrs = append(attrs, slog.String(a.k, a.v))
		}
	}
	if !t.Time.IsZero() {
		attrs = append(attrs, slog.Time("time", t.Time))
	}
	return slog.GroupValue(attrs...)
}
