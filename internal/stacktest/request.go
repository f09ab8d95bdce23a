package stacktest

import (
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/coldmove/coldmove/events"
)

// Source is the CloudEvent source of the requests [Stack.Request] builds.
const Source = "/test/planner"

// TraceParent is the trace context every built request carries.
const TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

var seq atomic.Int64

// NewID returns a request id no other request of the test binary has.
func NewID() string { return fmt.Sprintf("req-%d", seq.Add(1)) }

// Request returns a structured request CloudEvent with a fresh id that
// moves serverID to target.
func Request(serverID string, target *events.Target) []byte {
	return RequestData(NewID(), serverID, map[string]any{"server_id": serverID, "target": target})
}

// RequestData returns a structured request CloudEvent with this id,
// subject and data (any JSON value, valid or not).
func RequestData(id, subject string, data any) []byte {
	ev := map[string]any{
		"specversion": "1.0", "id": id, "source": Source,
		"type": events.TypeRequested, "subject": subject, "datacontenttype": "application/json",
		"traceparent": TraceParent,
		"data":        data,
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(fmt.Sprintf("stacktest: encode request: %v", err))
	}
	return b
}
