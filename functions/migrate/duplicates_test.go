package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// TestSoak_concurrentDuplicatesThroughEveryAdapter delivers every request
// many times at once, each delivery through an adapter picked at random
// (seeded): published on the request subject for the JetStream consumer,
// posted to the HTTP receiver, invoked directly, in an EventBridge
// envelope, or as a record of an SQS batch that may hold other deliveries
// of the same request. A delivery answered "retry" (another is handling
// the request) is delivered again, as its runtime would. The handler runs
// here under the race detector.
//
// The requests are of every kind migrate settles by itself or hands to
// poll: stopped servers (accepted: one MigrateServer call, one accepted
// event, one job record), running servers (one rejected event, no call),
// servers already on the target (one completed event, no call) and
// invalid requests (one rejected event). Short form: 40 requests × 8
// deliveries; COLDMOVE_SOAK=1: 500 × 12.
func TestSoak_concurrentDuplicatesThroughEveryAdapter(t *testing.T) {
	n, dup := 40, 8
	if os.Getenv("COLDMOVE_SOAK") == "1" {
		// The long form has the machine to itself: beside the crash
		// harnesses on 2 cores, its 6,000 concurrent deliveries under the
		// race detector time ledger writes out, and it measures the
		// machine rather than the handler.
		n, dup = 500, 12
	} else {
		t.Parallel()
	}
	e := newEnv(t)
	rng := rand.New(rand.NewPCG(11, 0xd0b1e))
	ts, _ := e.receiver(t, testToken, defaultHTTPLimits())
	a := &lambdaAdapter{h: e.h, log: quietLog()}
	ctx, cancel := context.WithCancel(t.Context())
	consumed := make(chan error, 1)
	// The consumer redelivers a request told to retry within
	// milliseconds, not the production 30 s.
	bc := e.bus.Config()
	bc.Backoff = []time.Duration{20 * time.Millisecond, 50 * time.Millisecond}
	bc.MaxDeliver = 1000
	fast, err := bus.New(e.nats.Conn(), bc)
	if err != nil {
		t.Fatal(err)
	}
	go func() { consumed <- consume(ctx, fast, e.h, quietLog()) }()
	defer func() {
		cancel()
		if err := <-consumed; err != nil {
			t.Errorf("consume: %v", err)
		}
	}()

	type req struct {
		id, server, kind string
		body             []byte
	}
	var reqs []req
	for i := range n {
		r := req{kind: []string{"stopped", "stopped", "running", "in place", "invalid"}[i%5]}
		switch r.kind {
		case "stopped":
			r.server = e.sim.AddServer(ecstest.ServerSpec{})
		case "running":
			r.server = e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
		case "in place":
			r.server = e.sim.AddServer(ecstest.ServerSpec{DedicatedHostID: e.host})
		case "invalid":
			r.server = e.sim.AddServer(ecstest.ServerSpec{})
		}
		target := events.HostTarget(e.host)
		if r.kind == "invalid" {
			target = &events.Target{}
		}
		r.body = e.request(r.server, target)
		p, err := events.ParseStructured(r.body)
		if err != nil {
			t.Fatal(err)
		}
		r.id = p.ID()
		reqs = append(reqs, r)
	}

	// unsettled holds the deliveries a sender gave up retrying for now;
	// they are sent again at the end, as a queue keeps a message.
	type delivery struct {
		k          int
		id, server string
		body       []byte
	}
	var unsettledMu sync.Mutex
	var unsettled []delivery
	var delivered [5]atomic.Int64
	var redelivered atomic.Int64
	var wg sync.WaitGroup
	var sqsMu sync.Mutex
	var sqsPending []sqsRecord
	// deliver sends a request once through adapter k (not SQS): true when
	// the adapter settled it, false when it asks for a retry.
	deliver := func(k int, server string, body []byte) bool {
		switch k {
		case 0: // NATS: the consumer redelivers by itself
			_, err := e.nats.JetStream().Publish(t.Context(), events.RequestSubject(events.DefaultPrefix, server), body)
			return err == nil
		case 1:
			return postSettled(t, ts.URL, body)
		case 2:
			_, err := a.Invoke(t.Context(), body)
			return err == nil
		default:
			_, err := a.Invoke(t.Context(), eventBridge(body))
			return err == nil
		}
	}
	for _, r := range reqs {
		for range dup {
			k := rng.IntN(5)
			delivered[k].Add(1)
			seed := rng.Uint64()
			wg.Go(func() {
				drng := rand.New(rand.NewPCG(seed, 1))
				body := r.body
				if k == 4 {
					// Batch this record with up to nine others that wait,
					// as a queue does; what fails goes back to the queue,
					// drained at the end.
					sqsMu.Lock()
					sqsPending = append(sqsPending, sqsRecord{id: fmt.Sprintf("%s-%d", r.id, drng.Uint64()), body: body})
					batch := takeBatch(&sqsPending)
					sqsMu.Unlock()
					failed := sendBatch(t, a, batch)
					sqsMu.Lock()
					sqsPending = append(sqsPending, failed...)
					sqsMu.Unlock()
					return
				}
				for attempt := range 200 {
					if attempt > 0 {
						redelivered.Add(1)
						// Back off as runtimes do (queues, Lambda's retries).
						d := min(10*time.Millisecond<<min(attempt, 4), 100*time.Millisecond)
						time.Sleep(d/2 + time.Duration(drng.Int64N(int64(d/2))))
					}
					if deliver(k, r.server, body) {
						return
					}
				}
				unsettledMu.Lock()
				unsettled = append(unsettled, delivery{k: k, id: r.id, server: r.server, body: body})
				unsettledMu.Unlock()
			})
		}
	}
	wg.Wait()
	// SQS records that came back, received again, and deliveries whose
	// senders gave up for now, sent again, until none is left. A handler
	// whose ledger writes timed out under the load may have left its claim
	// in progress without being able to give it back: as after a crash, it
	// is taken over once stale, so when deliveries keep failing the clock
	// moves past the staleness once (the ledger's own rule).
	for round := 0; len(sqsPending)+len(unsettled) > 0; round++ {
		if round == 50 {
			t.Logf("%d SQS records and %d deliveries still failing after 50 rounds: the clock moves past the claim staleness",
				len(sqsPending), len(unsettled))
			e.clock.Advance(ledger.DefaultConfig().ClaimStaleAfter + time.Second)
		}
		if round == 100 {
			snap := e.Snapshot()
			for _, r := range sqsPending[:min(len(sqsPending), 5)] {
				p, _ := events.ParseStructured(r.body)
				t.Errorf("SQS record of request %s still failing; its claim: %+v", p.ID(), snap.Claim(stackSource, p.ID()))
			}
			for _, d := range unsettled[:min(len(unsettled), 5)] {
				t.Errorf("request %s: a delivery never settled; its claim: %+v", d.id, snap.Claim(stackSource, d.id))
			}
			t.Fatalf("%d SQS records and %d deliveries still failing", len(sqsPending), len(unsettled))
		}
		var failed []sqsRecord
		for len(sqsPending) > 0 {
			batch := takeBatch(&sqsPending)
			redelivered.Add(int64(len(batch)))
			failed = append(failed, sendBatch(t, a, batch)...)
		}
		sqsPending = failed
		var still []delivery
		for _, d := range unsettled {
			redelivered.Add(1)
			if !deliver(d.k, d.server, d.body) {
				still = append(still, d)
			}
		}
		unsettled = still
		time.Sleep(10 * time.Millisecond)
	}
	waitConsumerIdle(t, e)

	accepted, terminal := map[string]int{}, map[string]int{}
	for _, p := range e.Outcomes() {
		c := mustData[events.Correlation](t, p.Event)
		switch {
		case p.Event.Type() == events.TypeAccepted:
			accepted[c.RequestID]++
		case events.IsTerminal(p.Event.Type()):
			terminal[c.RequestID]++
		}
	}
	snap := e.Snapshot()
	calls, watched := 0, 0
	for _, r := range reqs {
		migrate := e.sim.MigrateCalls(r.server)
		calls += migrate
		c := snap.Claim(stackSource, r.id)
		if r.kind == "stopped" && c != nil && c.JobUnknown {
			// A claim left submitting by a handler whose writes timed
			// out, taken over once stale: the call may have been sent,
			// so it is never sent again and poll follows the server
			// (a watch record), with no accepted event.
			watched++
			if migrate > 1 || accepted[r.id] != 0 || terminal[r.id] != 0 || snap.Job(ledger.WatchRecordID(c.RequestKey)) == nil {
				t.Errorf("stopped request %s taken over unknown: %d migrate calls, %d accepted, %d terminal events, watch record %v; want ≤ 1, 0, 0, one",
					r.id, migrate, accepted[r.id], terminal[r.id], snap.Job(ledger.WatchRecordID(c.RequestKey)) != nil)
			}
			continue
		}
		wantCalls, wantAccepted, wantTerminal := 0, 0, 1
		if r.kind == "stopped" {
			wantCalls, wantAccepted, wantTerminal = 1, 1, 0 // poll ends it
		}
		if migrate != wantCalls || accepted[r.id] != wantAccepted || terminal[r.id] != wantTerminal {
			t.Errorf("%s request %s: %d migrate calls, %d accepted, %d terminal events; want %d, %d, %d",
				r.kind, r.id, migrate, accepted[r.id], terminal[r.id], wantCalls, wantAccepted, wantTerminal)
		}
		if r.kind == "stopped" && (c == nil || c.JobID == "" || snap.Job(c.JobID) == nil) {
			t.Errorf("request %s: claim %+v without its job record", r.id, c)
		}
	}
	if watched > 0 {
		t.Logf("%d stopped requests were taken over with their call's outcome unknown, and are followed by the server", watched)
	}
	var by []string
	total := int64(0)
	for i, name := range []string{"nats", "http", "lambda", "eventbridge", "sqs"} {
		by = append(by, fmt.Sprintf("%s:%d", name, delivered[i].Load()))
		total += delivered[i].Load()
	}
	t.Logf("%d requests, %d deliveries %v, %d sent again after a retry answer; %d MigrateServer calls", n, total, by, redelivered.Load(), calls)
}

const stackSource = "/test/planner" // stacktest.Source

// takeBatch takes up to ten records off a queue, as SQS hands them to
// Lambda.
func takeBatch(q *[]sqsRecord) []sqsRecord {
	n := min(len(*q), 10)
	batch := append([]sqsRecord(nil), (*q)[:n]...)
	*q = (*q)[n:]
	return batch
}

type sqsRecord struct {
	id   string
	body []byte
}

// sendBatch invokes the adapter with an SQS batch and returns the records
// it reports failed.
func sendBatch(t *testing.T, a *lambdaAdapter, batch []sqsRecord) []sqsRecord {
	t.Helper()
	var ev awsevents.SQSEvent
	byID := map[string]sqsRecord{}
	for _, r := range batch {
		ev.Records = append(ev.Records, awsevents.SQSMessage{MessageId: r.id, Body: string(r.body), EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:placements"})
		byID[r.id] = r
	}
	payload, _ := json.Marshal(ev)
	out, err := a.Invoke(t.Context(), payload)
	if err != nil {
		t.Errorf("SQS batch: %v", err)
		return nil
	}
	var failed []sqsRecord
	for _, f := range out.(awsevents.SQSEventResponse).BatchItemFailures {
		r, ok := byID[f.ItemIdentifier]
		if !ok {
			t.Errorf("batchItemFailures lists %q, not in the batch", f.ItemIdentifier)
			continue
		}
		failed = append(failed, r)
	}
	return failed
}

// postSettled posts a request; false when the receiver asks for a retry,
// or the connection failed (the receiver holds at most MaxConns; a sender
// tries again).
func postSettled(t *testing.T, url string, body []byte) bool {
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("Authorization", "Bearer "+testToken.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode != http.StatusServiceUnavailable
}

// waitConsumerIdle waits until the request consumer has nothing pending
// or unacknowledged.
func waitConsumerIdle(t *testing.T, e *env) {
	t.Helper()
	st, err := e.nats.JetStream().Stream(t.Context(), e.bus.Config().Stream)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		cons, err := st.Consumer(t.Context(), e.bus.Config().Consumer)
		if err == nil {
			info, ierr := cons.Info(t.Context())
			if ierr == nil && info.NumPending == 0 && info.NumAckPending == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the request consumer did not settle")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
