package main

import (
	"testing"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// powerRequest returns a request for srv onto e's host with power steps.
func (e *env) powerRequest(srv string, pw map[string]any) []byte {
	return e.requestData(srv, map[string]any{"server_id": srv, "target": events.HostTarget(e.host), "power": pw})
}

// A running server of a request with power.stop is stopped first: the stop
// is the first call, announced with progressed/stop_submitted, and the
// request's one power record follows it; no migrate call yet.
func TestHandle_powerStopsARunningServerFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	req := e.powerRequest(srv, map[string]any{"stop": "hard", "restart": true})
	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusStopping || o.JobID == "" {
		t.Fatalf("outcome %+v", o)
	}
	if e.sim.Calls(ecstest.OpBatchStopServers) != 1 || e.sim.MigrateCalls(srv) != 0 {
		t.Errorf("calls: stop %d, migrate %d", e.sim.Calls(ecstest.OpBatchStopServers), e.sim.MigrateCalls(srv))
	}
	ev := e.only(t)
	pg := mustData[events.Progressed](t, ev)
	if ev.Type() != events.TypeProgressed || pg.Step != events.StepStopSubmitted || pg.JobID != o.JobID || pg.Power != nil {
		t.Errorf("event %s %+v", ev.Type(), pg)
	}
	p, _ := events.Decode(nil, req)
	snap := e.Snapshot()
	rec := snap.Job(ledger.PowerRecordID(p.Key()))
	if rec == nil || rec.Power == nil || rec.Power.Call != ledger.CallStop || rec.JobID != o.JobID || !rec.Power.Restart ||
		rec.Power.Stop != events.StopHard || rec.Power.StopJobID != o.JobID {
		t.Fatalf("power record %+v", rec)
	}
	if c := snap.Claim(p.Source, p.ID); c == nil || c.State != ledger.StateSubmitted || c.Call != ledger.CallStop {
		t.Errorf("claim %+v", c)
	}
	if snap.Lock(srv) == nil || snap.Job(ledger.PendingRecordID(p.Key())) != nil {
		t.Errorf("lock %+v, pending %+v", snap.Lock(srv), snap.Job(ledger.PendingRecordID(p.Key())))
	}
	// A duplicate during the stop answers from the claim: the same
	// announcement, nothing sent again.
	if d := e.h.HandleMessage(t.Context(), nil, req); d.Status != StatusDuplicate {
		t.Errorf("duplicate: %+v", d)
	}
	if e.sim.Calls(ecstest.OpBatchStopServers) != 1 || len(e.published(t)) != 1 {
		t.Errorf("after the duplicate: %d stops, %d events", e.sim.Calls(ecstest.OpBatchStopServers), len(e.published(t)))
	}
}

// Everything else is checked before anything is stopped: a request that
// would be rejected never stops a server; a server already in place or
// already stopped is not stopped.
func TestHandle_powerChecksEverythingBeforeStopping(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec   ecstest.ServerSpec
		power  map[string]any
		status Status
		reason events.RejectReason
	}{
		"running, no power":    {spec: ecstest.ServerSpec{Status: "ACTIVE"}, status: StatusRejected, reason: events.RejectServerNotStopped},
		"running and locked":   {spec: ecstest.ServerSpec{Status: "ACTIVE", Locked: true}, power: map[string]any{"stop": "soft"}, status: StatusRejected, reason: events.RejectServerLocked},
		"running and prepaid":  {spec: ecstest.ServerSpec{Status: "ACTIVE", ChargingMode: "1"}, power: map[string]any{"stop": "soft"}, status: StatusRejected, reason: events.RejectNotPayPerUse},
		"already stopped":      {spec: ecstest.ServerSpec{}, power: map[string]any{"stop": "soft", "restart": true}, status: StatusAccepted},
		"restart without stop": {spec: ecstest.ServerSpec{Status: "ACTIVE"}, power: map[string]any{"restart": true}, status: StatusRejected, reason: events.RejectInvalidPayload},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			srv := e.sim.AddServer(tc.spec)
			req := e.request(srv, events.HostTarget(e.host))
			if tc.power != nil {
				req = e.powerRequest(srv, tc.power)
			}
			o := e.h.HandleMessage(t.Context(), nil, req)
			if o.Status != tc.status || o.Reason != string(tc.reason) {
				t.Fatalf("outcome %+v, want %s/%s", o, tc.status, tc.reason)
			}
			if n := e.sim.Calls(ecstest.OpBatchStopServers); n != 0 {
				t.Errorf("%d stops sent", n)
			}
		})
	}
	// Already on the target: completed, with the power outcome, nothing
	// stopped.
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE", DedicatedHostID: e.host})
	o := e.h.HandleMessage(t.Context(), nil, e.powerRequest(srv, map[string]any{"stop": "soft", "restart": true}))
	c := mustData[events.Completed](t, e.only(t))
	if o.Status != StatusCompleted || !c.AlreadyInPlace || c.Power == nil || c.Power.Stopped || e.sim.Calls(ecstest.OpBatchStopServers) != 0 {
		t.Errorf("in place: %+v %+v", o, c)
	}
}
