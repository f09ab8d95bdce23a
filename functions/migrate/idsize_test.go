package main

import (
	"strings"
	"testing"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// TestHandle_overlongRequestIDIsRejectedBeforeAnyCall: a request whose
// CloudEvent id fits in a message (1 MiB) but not, echoed on its accepted
// event, in a ledger record (NATS's max payload, 1 MiB) used to be
// submitted — MigrateServer called, the migration running — and then stuck
// "submitting" with its job id unrecorded, its accepted event unpublished
// and no terminal event ever (guarantee 2). It is now rejected as an
// invalid event before anything is sent, its rejection kept on a finished
// claim like every other so that redeliveries answer duplicate (guarantee
// 6); an id of events.MaxIDSize bytes still goes through, echoed exactly.
func TestHandle_overlongRequestIDIsRejectedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	long := strings.Repeat("i", 800<<10)
	req := stacktest.RequestData(long, srv, map[string]any{"server_id": srv, "target": events.HostTarget(e.host)})
	for delivery := range 3 {
		o := e.h.HandleMessage(t.Context(), nil, req)
		want := StatusRejected
		if delivery > 0 {
			want = StatusDuplicate
		}
		if o.Status != want || o.Reason != string(events.RejectInvalidEvent) {
			t.Fatalf("delivery %d: %s %s %.200s", delivery, o.Status, o.Reason, o.Message)
		}
	}
	if n := e.sim.Calls(ecstest.OpAny); n != 0 {
		t.Errorf("%d ECS calls for a request that cannot be recorded", n)
	}
	r := mustData[events.Rejected](t, e.only(t))
	if !strings.HasPrefix(long, r.RequestID) || len(r.RequestID) > events.MaxIDSize || r.ServerID != srv {
		t.Errorf("rejection names request %.40q… (%d bytes), server %s", r.RequestID, len(r.RequestID), r.ServerID)
	}
	if snap := e.Snapshot(); len(snap.Claims) != 1 || snap.Claims[0].State != ledger.StateFinished || len(snap.Jobs)+len(snap.Locks) != 0 {
		t.Errorf("records left: %+v", snap)
	}

	longest := strings.Repeat("j", events.MaxIDSize)
	o := e.h.HandleMessage(t.Context(), nil, stacktest.RequestData(longest, srv, map[string]any{"server_id": srv, "target": events.HostTarget(e.host)}))
	if o.Status != StatusAccepted || o.RequestID != longest {
		t.Fatalf("an id of %d bytes: %+v", events.MaxIDSize, o)
	}
}
