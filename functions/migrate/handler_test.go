package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

func TestHandle_accepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	req := e.request(srv, events.HostTarget(e.host))

	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusAccepted || o.JobID == "" || o.EventType != events.TypeAccepted {
		t.Fatalf("outcome = %+v", o)
	}
	if n := e.sim.Migrations(srv); n != 1 {
		t.Errorf("migrations started = %d, want 1", n)
	}
	ev := e.only(t)
	a := mustData[events.Accepted](t, ev)
	if a.JobID != o.JobID || a.ServerID != srv || a.ProjectID != e.sim.ProjectID() || a.Region != "cn-north-4" ||
		a.Target.DedicatedHostID != e.host || !a.Deadline.Equal(e.clock.Now().Add(timeout)) {
		t.Errorf("accepted data = %+v", a)
	}
	if ev.Subject() != srv || ev.ID() != o.EventID || ev.Extensions()["traceparent"] == nil {
		t.Errorf("accepted event = %s", ev)
	}

	// The ledger holds the job for poll, the claim and the server lock.
	p, _ := events.Decode(nil, req)
	j, err := e.ledger.GetJob(t.Context(), o.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if j.RequestKey != p.Key() || j.ServerID != srv || j.Target.DedicatedHostID != e.host || j.TraceParent == "" ||
		!j.NextPoll.After(e.clock.Now()) {
		t.Errorf("job record = %+v", j)
	}
	snap := e.Snapshot()
	if c := snap.Claim(p.Source, p.ID); c == nil || c.State != ledger.StateSubmitted || c.JobID != o.JobID || len(c.Accepted) == 0 {
		t.Errorf("claim = %+v", c)
	}
	if lk := snap.Lock(srv); lk == nil || lk.RequestKey != p.Key() {
		t.Errorf("lock = %+v", lk)
	}
}

const timeout = 3600e9 // the env's MigrationTimeout, one hour

func TestHandle_rejectedBeforeAnyCall(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec   ecstest.ServerSpec
		unseen bool // the server does not exist
		reason events.RejectReason
		status string
	}{
		"running server":   {spec: ecstest.ServerSpec{Status: "ACTIVE"}, reason: events.RejectServerNotStopped, status: "ACTIVE"},
		"locked server":    {spec: ecstest.ServerSpec{Locked: true}, reason: events.RejectServerLocked, status: "SHUTOFF"},
		"prepaid server":   {spec: ecstest.ServerSpec{ChargingMode: "1"}, reason: events.RejectNotPayPerUse, status: "SHUTOFF"},
		"spot server":      {spec: ecstest.ServerSpec{ChargingMode: "2"}, reason: events.RejectNotPayPerUse, status: "SHUTOFF"},
		"server not found": {unseen: true, reason: events.RejectServerNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			srv := "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10"
			if !tc.unseen {
				srv = e.sim.AddServer(tc.spec)
			}
			o := e.h.HandleMessage(t.Context(), nil, e.request(srv, events.HostTarget(e.host)))
			if o.Status != StatusRejected || o.Reason != string(tc.reason) {
				t.Fatalf("outcome = %+v, want rejected/%s", o, tc.reason)
			}
			if n := e.sim.MigrateCalls(srv); n != 0 {
				t.Errorf("migrate calls = %d, want 0", n)
			}
			r := mustData[events.Rejected](t, e.only(t))
			if r.Reason != tc.reason || r.ServerStatus != tc.status || r.Message == "" || r.ServerID != srv {
				t.Errorf("rejected data = %+v", r)
			}
			if tc.unseen && (r.APIErrorCode != "Ecs.0114" || r.APIRequestID == "") {
				t.Errorf("rejection lacks the API's answer: %+v", r)
			}
			// The server is free again for another request.
			if lk := e.Snapshot().Lock(srv); lk != nil {
				t.Errorf("lock left behind: %+v", lk)
			}
		})
	}
}

func TestHandle_runningServerMessageSaysItsState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	o := e.h.HandleMessage(t.Context(), nil, e.request(srv, events.HostTarget(e.host)))
	if !strings.Contains(o.Message, "ACTIVE") {
		t.Errorf("message %q does not say the server is ACTIVE", o.Message)
	}
}

func TestHandle_invalidRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	tests := map[string]struct {
		body   []byte
		reason events.RejectReason
		fields []string
	}{
		"not a CloudEvent": {body: []byte("hello"), reason: events.RejectInvalidEvent},
		"wrong type": {body: []byte(`{"specversion":"1.0","id":"w1","source":"/t","type":"com.example.other","data":{}}`),
			reason: events.RejectUnsupportedType},
		"empty target": {body: e.requestData(srv, map[string]any{"server_id": srv, "target": map[string]any{}}),
			reason: events.RejectInvalidPayload, fields: []string{"target"}},
		"null target": {body: e.requestData(srv, map[string]any{"server_id": srv, "target": nil}),
			reason: events.RejectInvalidPayload, fields: []string{"target"}},
		"bad ids": {body: e.requestData("x", map[string]any{"server_id": "x", "target": map[string]any{"dedicated_host_id": "y"}, "project_id": "p"}),
			reason: events.RejectInvalidPayload, fields: []string{"project_id", "server_id", "target.dedicated_host_id"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o := e.h.HandleMessage(t.Context(), nil, tc.body)
			if o.Status != StatusRejected || o.Reason != string(tc.reason) || !o.invalidInput() {
				t.Fatalf("outcome = %+v, want rejected/%s", o, tc.reason)
			}
			var got []string
			for _, ev := range e.published(t) {
				if ev.ID() == o.EventID {
					for _, p := range mustData[events.Rejected](t, ev).Problems {
						got = append(got, p.Field)
					}
				}
			}
			if diff := cmp.Diff(tc.fields, got); diff != "" {
				t.Errorf("problem fields (-want +got):\n%s", diff)
			}
		})
	}
	if n := e.sim.Calls(ecstest.OpAny); n != 0 {
		t.Errorf("API calls for invalid requests = %d, want 0", n)
	}
}

func TestHandle_alreadyInPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	onHost := e.sim.AddServer(ecstest.ServerSpec{DedicatedHostID: e.host, Status: "ACTIVE"})
	inPool := e.sim.AddServer(ecstest.ServerSpec{})
	for srv, target := range map[string]*events.Target{onHost: events.HostTarget(e.host), inPool: events.PublicPoolTarget()} {
		o := e.h.HandleMessage(t.Context(), nil, e.request(srv, target))
		if o.Status != StatusCompleted || o.Reason != "already_in_place" {
			t.Errorf("%s: outcome = %+v", target, o)
		}
		if n := e.sim.MigrateCalls(srv); n != 0 {
			t.Errorf("%s: migrate calls = %d", target, n)
		}
	}
	for _, ev := range e.published(t) {
		if c := mustData[events.Completed](t, ev); ev.Type() != events.TypeCompleted || !c.AlreadyInPlace || c.JobID != "" {
			t.Errorf("event %s data %+v", ev.Type(), c)
		}
	}
}

// TestHandle_fiveConcurrentDeliveries delivers one request five times at
// once: one migrate call, one accepted event on the stream.
func TestHandle_fiveConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	req := e.request(srv, events.HostTarget(e.host))
	var wg sync.WaitGroup
	outcomes := make([]Outcome, 5)
	for i := range outcomes {
		wg.Go(func() { outcomes[i] = e.h.HandleMessage(t.Context(), nil, req) })
	}
	wg.Wait()
	// Redeliver the ones told to retry, as a runtime would, until none is.
	for i, o := range outcomes {
		for round := 0; o.Retryable() && round < 5; round++ {
			o = e.h.HandleMessage(t.Context(), nil, req)
		}
		outcomes[i] = o
	}
	statuses := map[Status]int{}
	for _, o := range outcomes {
		statuses[o.Status]++
	}
	if statuses[StatusAccepted] != 1 || statuses[StatusDuplicate] != 4 {
		t.Errorf("statuses = %v, want 1 accepted and 4 duplicates", statuses)
	}
	if n := e.sim.MigrateCalls(srv); n != 1 {
		t.Errorf("migrate calls = %d, want 1", n)
	}
	if ev := e.only(t); ev.Type() != events.TypeAccepted {
		t.Errorf("published %s", ev.Type())
	}
}

// TestHandle_duplicateOfFinishedRequest re-publishes the recorded outcome.
func TestHandle_duplicateOfFinishedRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	req := e.request(srv, events.HostTarget(e.host))
	first := e.h.HandleMessage(t.Context(), nil, req)
	again := e.h.HandleMessage(t.Context(), nil, req)
	if first.Status != StatusRejected || again.Status != StatusDuplicate || again.EventID != first.EventID {
		t.Errorf("first %+v, again %+v", first, again)
	}
	e.only(t)
	if n := e.sim.Calls(ecstest.OpShowServer); n != 1 {
		t.Errorf("ShowServer calls = %d, want 1 (a duplicate looks nothing up)", n)
	}
}

// TestHandle_responseLost is the crash between the call and the record: the
// migration starts but its answer never arrives. No second call is made,
// however often the request comes back, and the server is tracked.
func TestHandle_responseLost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpMigrateServer, 1, ecstest.ResponseLost())
	req := e.request(srv, events.HostTarget(e.host))

	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusTracking {
		t.Fatalf("outcome = %+v, want tracking", o)
	}
	for range 3 {
		if again := e.h.HandleMessage(t.Context(), nil, req); again.Status != StatusDuplicate {
			t.Errorf("redelivery: %+v", again)
		}
	}
	if calls, started := e.sim.MigrateCalls(srv), e.sim.Migrations(srv); calls != 1 || started != 1 {
		t.Errorf("migrate calls %d, migrations started %d; want 1 and 1", calls, started)
	}
	p, _ := events.Decode(nil, req)
	j, err := e.ledger.GetJob(t.Context(), "watch-"+p.Key())
	if err != nil || j.JobID != "" || j.ServerID != srv {
		t.Errorf("watch job = %+v, %v", j, err)
	}
	if evs := e.published(t); len(evs) != 0 {
		t.Errorf("published %d events, want none until poll decides", len(evs))
	}
}

// TestHandle_throttledThenRetried: the API throttles the call until the
// client gives up; the request is handed back with nothing held, and its
// redelivery submits it.
func TestHandle_throttledThenRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpMigrateServer, 4, ecstest.GatewayThrottle())
	req := e.request(srv, events.HostTarget(e.host))
	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusRetry || o.Reason != "api_unavailable" {
		t.Fatalf("outcome = %+v", o)
	}
	if lk := e.Snapshot().Lock(srv); lk != nil {
		t.Errorf("lock held after a throttled call: %+v", lk)
	}
	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusAccepted {
		t.Fatalf("redelivery: %+v", o)
	}
	if n := e.sim.Migrations(srv); n != 1 {
		t.Errorf("migrations = %d, want 1", n)
	}
}

func TestHandle_serverLockedByAnotherRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	first := e.h.HandleMessage(t.Context(), nil, e.request(srv, events.HostTarget(e.host)))
	second := e.h.HandleMessage(t.Context(), nil, e.request(srv, events.PublicPoolTarget()))
	if first.Status != StatusAccepted || second.Status != StatusRejected || second.Reason != string(events.RejectMigrationInProgress) {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if n := e.sim.MigrateCalls(srv); n != 1 {
		t.Errorf("migrate calls = %d", n)
	}
}

func TestHandle_apiRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	full := e.sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 1, MemoryMB: 1024, RejectWhenFull: true})
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	o := e.h.HandleMessage(t.Context(), nil, e.request(srv, events.HostTarget(full)))
	if o.Status != StatusRejected || o.Reason != string(events.RejectInsufficientCapacity) {
		t.Fatalf("outcome = %+v", o)
	}
	r := mustData[events.Rejected](t, e.only(t))
	if r.APIErrorCode != "Ecs.0319" || r.APIErrorMessage == "" {
		t.Errorf("rejected = %+v", r)
	}
	if lk := e.Snapshot().Lock(srv); lk != nil {
		t.Errorf("lock held after a refusal: %+v", lk)
	}
}

// TestHandle_takeover covers a request whose first handler died: a stale
// claim in "claimed" is simply redone; one in "submitting" may have sent
// the call, so it is tracked without a second call; one in "submitted" is
// resumed (job record and accepted event).
func TestHandle_takeover(t *testing.T) {
	t.Parallel()
	for _, state := range []ledger.ClaimState{ledger.StateClaimed, ledger.StateSubmitting, ledger.StateSubmitted} {
		t.Run(string(state), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			srv := e.sim.AddServer(ecstest.ServerSpec{})
			req := e.request(srv, events.HostTarget(e.host))
			p, _ := events.Decode(nil, req)

			// A previous owner got this far, then died.
			dead, err := ledger.Open(t.Context(), e.nats.JetStream(), ledger.DefaultConfig(),
				ledger.WithClock(e.clock.Now), ledger.WithOwner("dead"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := dead.ClaimRequest(t.Context(), ledger.RequestRef{Source: p.Source, ID: p.ID, ServerID: srv})
			if err != nil {
				t.Fatal(err)
			}
			c := res.Claim
			if _, err := dead.AcquireLock(t.Context(), c); err != nil {
				t.Fatal(err)
			}
			var jobID string
			if state != ledger.StateClaimed {
				if err := dead.MarkSubmitting(t.Context(), c); err != nil {
					t.Fatal(err)
				}
			}
			if state == ledger.StateSubmitted {
				jobID, err = e.sim.Client().MigrateServer(t.Context(), e.sim.ProjectID(), srv, ecsTarget(e.host))
				if err != nil {
					t.Fatal(err)
				}
				o := p.Origin()
				o.ProjectID, o.Region = e.sim.ProjectID(), "cn-north-4"
				acc, _ := events.NewAccepted(o, jobID, e.clock.Now().Add(timeout), e.clock.Now())
				js, _ := events.Structured(acc)
				if err := dead.MarkSubmitted(t.Context(), c, jobID, js); err != nil {
					t.Fatal(err)
				}
			}

			// Before it is stale, the claim is in progress elsewhere.
			if o := e.h.HandleMessage(t.Context(), nil, req); state != ledger.StateSubmitted && o.Status != StatusRetry {
				t.Fatalf("fresh claim in %s: %+v, want retry", state, o)
			}
			e.clock.Advance(ledger.DefaultConfig().ClaimStaleAfter + 1)
			o := e.h.HandleMessage(t.Context(), nil, req)
			want := map[ledger.ClaimState]Status{ledger.StateClaimed: StatusAccepted, ledger.StateSubmitting: StatusTracking,
				ledger.StateSubmitted: StatusAccepted}[state]
			if state == ledger.StateSubmitted && o.Status == StatusDuplicate {
				o.Status = StatusAccepted // the first publish of the recorded accepted event
			}
			if o.Status != want {
				t.Fatalf("after takeover: %+v, want %s", o, want)
			}
			wantCalls := map[ledger.ClaimState]int{ledger.StateClaimed: 1, ledger.StateSubmitting: 0, ledger.StateSubmitted: 1}[state]
			if n := e.sim.MigrateCalls(srv); n != wantCalls {
				t.Errorf("migrate calls = %d, want %d", n, wantCalls)
			}
			if state == ledger.StateSubmitted {
				if _, err := e.ledger.GetJob(t.Context(), jobID); err != nil {
					t.Errorf("job record after resume: %v", err)
				}
			}
		})
	}
}

func TestHandle_apiUnavailableIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.ServerError(503))
	o := e.h.HandleMessage(t.Context(), nil, e.request(srv, events.HostTarget(e.host)))
	if o.Status != StatusRetry || e.sim.MigrateCalls(srv) != 0 || len(e.published(t)) != 0 {
		t.Errorf("outcome = %+v, migrate calls %d", o, e.sim.MigrateCalls(srv))
	}
}

// TestHandle_natsDownIsRetried: with the server gone, the connection
// keeps the handler's first ledger call in its reconnect buffer until the
// invocation ends; the request is then handed back, not rejected.
func TestHandle_natsDownIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	nc := e.nats.Conn()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
			<-tick.C
		}
	}
	e.nats.Shutdown()
	waitFor("the connection to notice the server is gone", func() bool { return nc.Status() == nats.RECONNECTING })

	// End the invocation as soon as its ledger call waits for the server,
	// rather than at a deadline.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan Outcome, 1)
	go func() { done <- e.h.HandleMessage(ctx, nil, e.request(srv, events.HostTarget(e.host))) }()
	waitFor("the handler's request in the reconnect buffer", func() bool { n, _ := nc.Buffered(); return n > 0 })
	cancel()
	var o Outcome
	select {
	case o = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("handler did not return after its invocation ended")
	}
	if o.Status != StatusRetry || e.sim.MigrateCalls(srv) != 0 {
		t.Errorf("outcome = %+v, calls %d", o, e.sim.MigrateCalls(srv))
	}
	if !strings.Contains(fmt.Sprint(o.Err), "ledger") {
		t.Errorf("error %v does not say what was unavailable", o.Err)
	}
}
