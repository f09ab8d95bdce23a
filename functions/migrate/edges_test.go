package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// countingPublisher counts what a handler publishes.
type countingPublisher struct {
	Publisher
	n atomic.Int64
}

func (c *countingPublisher) Publish(ctx context.Context, e event.Event) (bus.PublishResult, error) {
	c.n.Add(1)
	return c.Publisher.Publish(ctx, e)
}

// withPublisher returns a handler like e.h that publishes through pub and
// logs to log.
func (e *env) handlerWith(pub Publisher, log *slog.Logger, clients Clients) *Handler {
	if clients == nil {
		client := e.sim.Client()
		clients = func(string) (ECS, error) { return client, nil }
	}
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	return NewHandler(HandlerConfig{ProjectID: e.sim.ProjectID(), Region: stacktest.Region, MigrationTimeout: time.Hour, Now: e.clock.Now,
		AccessKey: e.sim.Credentials().AccessKey.Masked()}, clients, e.ledger, pub, log)
}

// A duplicate of a finished request whose outcome JetStream acknowledged
// publishes nothing, however late it comes (guarantee 6): after the
// stream's duplicate window a re-publish would be stored again. The same
// holds for the accepted event of a request still running.
func TestHandle_duplicateOfAPublishedEventPublishesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pub := &countingPublisher{Publisher: e.bus}
	h := e.handlerWith(pub, nil, nil)
	running := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	stopped := e.sim.AddServer(ecstest.ServerSpec{})
	rejected := e.request(running, events.HostTarget(e.host))
	accepted := e.request(stopped, events.HostTarget(e.host))
	invalid := e.requestData(stopped, map[string]any{"server_id": stopped}) // no target
	if o := h.HandleMessage(t.Context(), nil, rejected); o.Status != StatusRejected {
		t.Fatalf("first delivery: %+v", o)
	}
	if o := h.HandleMessage(t.Context(), nil, invalid); o.Status != StatusRejected || o.EventID == "" {
		t.Fatalf("first delivery of the invalid request: %+v", o)
	}
	if o := h.HandleMessage(t.Context(), nil, accepted); o.Status != StatusAccepted {
		t.Fatalf("first delivery: %+v", o)
	}
	before := pub.n.Load()
	e.clock.Advance(30 * time.Minute) // well past any duplicate window
	for _, req := range [][]byte{rejected, accepted, invalid} {
		o := h.HandleMessage(t.Context(), nil, req)
		if o.Status != StatusDuplicate || o.EventID == "" {
			t.Errorf("late duplicate: %+v", o)
		}
	}
	if n := pub.n.Load() - before; n != 0 {
		t.Errorf("late duplicates published %d events, want none", n)
	}
	if n := e.sim.MigrateCalls(stopped); n != 1 {
		t.Errorf("migrate calls = %d", n)
	}
}

// A redelivery that arrives after the request's deadline, of a request
// that was accepted, is answered from its claim: not rejected as invalid
// while its migration runs.
func TestHandle_lateRedeliveryPastItsDeadlineIsAnsweredFromItsClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	deadline := e.clock.Now().Add(10 * time.Minute).Format(time.RFC3339)
	req := e.requestData(srv, map[string]any{"server_id": srv, "target": events.HostTarget(e.host), "deadline": deadline})
	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusAccepted {
		t.Fatalf("first delivery: %+v", o)
	}
	e.clock.Advance(20 * time.Minute)
	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusDuplicate {
		t.Errorf("redelivery past the deadline: %+v, want duplicate", o)
	}
	for _, ev := range e.published(t) {
		if ev.Type() == events.TypeRejected {
			t.Errorf("a rejection was published: %s", ev)
		}
	}
	// A request the ledger does not know, with a deadline past, is
	// rejected as invalid.
	late := e.requestData(srv, map[string]any{"server_id": srv, "target": events.HostTarget(e.host), "deadline": deadline})
	if o := e.h.HandleMessage(t.Context(), nil, late); o.Status != StatusRejected || o.Reason != string(events.RejectInvalidPayload) {
		t.Errorf("new request past its deadline: %+v", o)
	}
}

// Concurrent requests for one server: while the lock's holder is still in
// its pre-flight (it may move nothing), another request is retried, not
// rejected; once the holder has submitted, it is rejected
// migration_in_progress.
func TestHandle_lockHeldInPreflightIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	res, err := e.ledger.ClaimRequest(t.Context(), ledger.RequestRef{Source: "urn:other", ID: "holder", ServerID: srv})
	if err != nil {
		t.Fatal(err)
	}
	holder := res.Claim
	if _, err := e.ledger.AcquireLock(t.Context(), holder); err != nil {
		t.Fatal(err)
	}
	req := e.request(srv, events.PublicPoolTarget())
	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusRetry || o.Reason != "server_busy" || o.RetryAfter <= 0 {
		t.Fatalf("holder in pre-flight: %+v, want a retry", o)
	}
	if evs := e.published(t); len(evs) != 0 {
		t.Fatalf("published %d events while the holder was in pre-flight", len(evs))
	}
	if err := e.ledger.MarkSubmitting(t.Context(), holder); err != nil {
		t.Fatal(err)
	}
	o = e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusRejected || o.Reason != string(events.RejectMigrationInProgress) {
		t.Errorf("holder submitting: %+v, want migration_in_progress", o)
	}
	if n := e.sim.MigrateCalls(srv); n != 0 {
		t.Errorf("migrate calls = %d", n)
	}
}

// Credentials the API refuses end the request at once, rejected
// unauthorized, with an ERROR log that names only the start of the access
// key.
func TestHandle_refusedCredentialsAreRejectedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cred := e.sim.Credentials()
	bad, err := ecsclient.New(ecsclient.WithEndpoint(e.sim.URL), ecsclient.WithHTTPClient(&http.Client{}),
		ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: cred.AccessKey, SecretKey: "wrong-secret-key-0123456789"}))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	h := e.handlerWith(e.bus, slog.New(slog.NewJSONHandler(&logs, nil)), func(string) (ECS, error) { return bad, nil })
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	o := h.HandleMessage(t.Context(), nil, e.request(srv, events.HostTarget(e.host)))
	if o.Status != StatusRejected || o.Reason != string(events.RejectUnauthorized) {
		t.Fatalf("outcome %+v, want rejected unauthorized", o)
	}
	r := mustData[events.Rejected](t, e.only(t))
	if r.Reason != events.RejectUnauthorized || r.APIErrorCode != "APIGW.0301" {
		t.Errorf("rejected = %+v", r)
	}
	log := logs.String()
	if !strings.Contains(log, `"level":"ERROR"`) || !strings.Contains(log, cred.AccessKey.Masked()) {
		t.Errorf("no ERROR naming the access key's start:\n%s", log)
	}
	if strings.Contains(log, cred.AccessKey.Reveal()) || strings.Contains(log, "wrong-secret-key") {
		t.Errorf("the log shows a credential:\n%s", log)
	}
}

// A request delivered on requested.<x> whose x is not its server_id is
// rejected: what a subscriber filtered on is what would be moved.
func TestHandleDelivery_subjectMustNameTheServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	other := e.sim.AddServer(ecstest.ServerSpec{})
	o := e.h.HandleDelivery(t.Context(), events.RequestSubject("coldmove", other), nil, e.request(srv, events.HostTarget(e.host)))
	if o.Status != StatusRejected || o.Reason != string(events.RejectInvalidPayload) {
		t.Fatalf("outcome %+v", o)
	}
	r := mustData[events.Rejected](t, e.only(t))
	if len(r.Problems) != 1 || r.Problems[0].Field != "nats_subject" || r.ServerID != srv {
		t.Errorf("rejected = %+v", r)
	}
	if e.sim.Calls(ecstest.OpAny) != 0 {
		t.Error("the API was called")
	}
	if o := e.h.HandleDelivery(t.Context(), events.RequestSubject("coldmove", srv), nil, e.request(srv, events.HostTarget(e.host))); o.Status != StatusAccepted {
		t.Errorf("on its own subject: %+v", o)
	}
}

// A request given back after trouble keeps its claim (released, with the
// error) and its pending record, so that poll can close it at the
// deadline if no delivery comes; the next delivery takes the claim at once
// and, once the call is submitted, the pending record goes.
func TestHandle_troubleKeepsThePendingRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.ServerError(503))
	req := e.request(srv, events.HostTarget(e.host))
	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusRetry {
		t.Fatalf("first delivery: %+v", o)
	}
	p, _ := events.Decode(nil, req)
	snap := e.Snapshot()
	c := snap.Claim(p.Source, p.ID)
	if c == nil || c.State != ledger.StateClaimed || c.Owner != "" || !strings.Contains(c.LastError, "api_unavailable") {
		t.Fatalf("claim after trouble: %+v", c)
	}
	pend := snap.Job(ledger.PendingRecordID(p.Key()))
	if pend == nil || !pend.Pending || !pend.NextPoll.Equal(c.Deadline) || snap.Lock(srv) != nil {
		t.Fatalf("pending record %+v, lock %+v", pend, snap.Lock(srv))
	}
	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusAccepted {
		t.Fatalf("redelivery: %+v", o)
	}
	snap = e.Snapshot()
	if snap.Job(ledger.PendingRecordID(p.Key())) != nil || snap.Job(o.JobID) == nil {
		t.Errorf("after the call: records %+v", snap.Jobs)
	}
}

// A request that trouble keeps from being submitted, redelivered after its
// deadline, ends rejected deadline_exceeded with its last error, not
// invalid_payload: its deadline was judged when it was first seen.
func TestHandle_troubleUntilTheDeadlineEndsDeadlineExceeded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpShowServer, 100, ecstest.ServerError(500))
	deadline := e.clock.Now().Add(15 * time.Second).Format(time.RFC3339)
	req := e.requestData(srv, map[string]any{"server_id": srv, "target": events.HostTarget(e.host), "deadline": deadline})
	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusRetry {
		t.Fatalf("first delivery: %+v", o)
	}
	e.clock.Advance(20 * time.Second)
	o := e.h.HandleMessage(t.Context(), nil, req)
	if o.Status != StatusRejected || o.Reason != string(events.RejectDeadlineExceeded) {
		t.Fatalf("redelivery past the deadline: %+v", o)
	}
	r := mustData[events.Rejected](t, e.only(t))
	if !strings.Contains(r.Message, "api_unavailable") {
		t.Errorf("the rejection does not carry the last error: %q", r.Message)
	}
	snap := e.Snapshot()
	if len(snap.Jobs) != 0 || len(snap.Locks) != 0 {
		t.Errorf("left behind: %+v %+v", snap.Jobs, snap.Locks)
	}
}

// failingPublisher refuses every publish, as JetStream unreachable would.
type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, event.Event) (bus.PublishResult, error) {
	return bus.PublishResult{}, context.DeadlineExceeded
}

// A rejection whose event cannot be published keeps the request's pending
// record: if no delivery comes again, poll publishes the outcome recorded
// on the claim at the deadline. (The record used to go before publishing,
// and a handler that stopped there left an outcome nobody would publish.)
// The redelivery publishes it, then clears the pending record and the lock.
func TestHandle_unpublishedOutcomeKeepsThePendingRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	req := e.request(srv, events.HostTarget(e.host))
	p, _ := events.Decode(nil, req)
	if o := e.handlerWith(failingPublisher{}, nil, nil).HandleMessage(t.Context(), nil, req); o.Status != StatusRetry {
		t.Fatalf("first delivery: %+v", o)
	}
	snap := e.Snapshot()
	if c := snap.Claim(p.Source, p.ID); c == nil || c.State != ledger.StateFinished || c.OutcomePublished {
		t.Fatalf("claim %+v, want finished, not published", c)
	}
	if snap.Job(ledger.PendingRecordID(p.Key())) == nil {
		t.Fatal("the pending record went before the outcome was published")
	}

	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusDuplicate || o.EventType != events.TypeRejected {
		t.Fatalf("redelivery: %+v", o)
	}
	e.only(t)
	snap = e.Snapshot()
	if c := snap.Claim(p.Source, p.ID); c == nil || !c.OutcomePublished {
		t.Errorf("claim %+v, want marked published", c)
	}
	if len(snap.Jobs) != 0 || len(snap.Locks) != 0 {
		t.Errorf("left behind: records %+v, locks %+v", snap.Jobs, snap.Locks)
	}
}

// claimFailing is the ledger, but claiming fails, as it does when the
// handler stops right there.
type claimFailing struct{ *ledger.Ledger }

func (claimFailing) ClaimRequest(context.Context, ledger.RequestRef) (ledger.ClaimResult, error) {
	return ledger.ClaimResult{}, context.DeadlineExceeded
}

// A new request's pending record is written before its claim, so that a
// handler that gets no further and a request never delivered again still
// end at the deadline (poll closes a pending record without a claim). The
// claim used to come first: stopping between the two left a claim that
// only a redelivery would ever look at.
func TestHandle_pendingRecordComesBeforeTheClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	req := e.request(srv, events.HostTarget(e.host))
	p, _ := events.Decode(nil, req)
	client := e.sim.Client()
	h := NewHandler(HandlerConfig{ProjectID: e.sim.ProjectID(), Region: stacktest.Region, MigrationTimeout: time.Hour, Now: e.clock.Now},
		func(string) (ECS, error) { return client, nil }, claimFailing{e.ledger}, e.bus, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if o := h.HandleMessage(t.Context(), nil, req); o.Status != StatusRetry || o.Reason != "ledger_unavailable" {
		t.Fatalf("outcome %+v", o)
	}
	snap := e.Snapshot()
	pend := snap.Job(ledger.PendingRecordID(p.Key()))
	if pend == nil || !pend.Pending || !pend.NextPoll.Equal(e.clock.Now().Add(time.Hour).Truncate(time.Second)) {
		t.Fatalf("pending record %+v; want one due at the deadline", pend)
	}
	if len(snap.Claims) != 0 || e.sim.MigrateCalls(srv) != 0 {
		t.Fatalf("claims %+v, calls %d", snap.Claims, e.sim.MigrateCalls(srv))
	}
	// The next delivery finds the record and goes on as usual.
	if o := e.h.HandleMessage(t.Context(), nil, req); o.Status != StatusAccepted {
		t.Fatalf("redelivery: %+v", o)
	}
	if snap := e.Snapshot(); snap.Job(ledger.PendingRecordID(p.Key())) != nil {
		t.Error("pending record kept after the call was submitted")
	}
}
