package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
)

// sqsBatch builds an SQS event whose records carry the bodies, with ids
// m0, m1, …
func sqsBatch(arn string, bodies ...[]byte) []byte {
	type rec struct {
		MessageID      string `json:"messageId"`
		Body           string `json:"body"`
		EventSource    string `json:"eventSource"`
		EventSourceARN string `json:"eventSourceARN"`
	}
	var recs []rec
	for i, b := range bodies {
		recs = append(recs, rec{MessageID: fmt.Sprintf("m%d", i), Body: string(b), EventSource: "aws:sqs", EventSourceARN: arn})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return b
}

func eventBridge(detail []byte) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "eb-1", "detail-type": "placement requested", "source": "com.example.planner",
		"account": "123456789012", "time": "2026-11-25T09:00:00Z", "region": "eu-west-1", "resources": []string{},
		"detail": json.RawMessage(detail),
	})
	return b
}

func invoke(t *testing.T, e *env, payload []byte) []byte {
	t.Helper()
	a := &lambdaAdapter{h: e.h, log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	out, err := lambda.NewHandler(a.Invoke).Invoke(t.Context(), payload)
	if err != nil {
		return []byte(`{"error":` + fmt.Sprintf("%q", err.Error()) + `}`)
	}
	return out
}

func TestLambda_singleAndEventBridge(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.sim.AddServer(ecstest.ServerSpec{})
	b := e.sim.AddServer(ecstest.ServerSpec{})
	for name, payload := range map[string][]byte{
		"direct":      e.request(a, events.HostTarget(e.host)),
		"eventbridge": eventBridge(e.request(b, events.HostTarget(e.host))),
	} {
		var o Outcome
		if err := json.Unmarshal(invoke(t, e, payload), &o); err != nil || o.Status != StatusAccepted || o.JobID == "" {
			t.Errorf("%s: result %+v (%v)", name, o, err)
		}
	}
	if n := e.sim.Migrations(a) + e.sim.Migrations(b); n != 2 {
		t.Errorf("migrations = %d, want 2", n)
	}
}

func TestLambda_retryIsAnError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.APIThrottle())
	out := invoke(t, e, e.request(srv, events.HostTarget(e.host)))
	var res struct{ Error string }
	if err := json.Unmarshal(out, &res); err != nil || res.Error == "" {
		t.Errorf("a retryable request returned %s, want an error for Lambda to retry", out)
	}
}

// TestLambda_sqsBatch mixes good, bad and throttled records: only the
// throttled one is reported for retry.
func TestLambda_sqsBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	throttled := e.sim.AddServer(ecstest.ServerSpec{})
	good := e.sim.AddServer(ecstest.ServerSpec{})
	running := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	// Records run in order; the throttled one is first and gets every
	// attempt the client makes at ShowServer throttled.
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.GatewayThrottle())
	batch := sqsBatch("arn:aws:sqs:eu-west-1:123456789012:placements",
		e.request(throttled, events.HostTarget(e.host)), // m0: throttled → retry
		e.request(good, events.HostTarget(e.host)),      // m1: accepted
		[]byte(`{"not":"a cloudevent"}`),                // m2: refused (no event), not retried
		e.request(running, events.HostTarget(e.host)),   // m3: rejected, not retried
	)
	var resp struct {
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	out := invoke(t, e, batch)
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	var got []string
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if diff := cmp.Diff([]string{"m0"}, got); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if e.sim.Migrations(good) != 1 || e.sim.MigrateCalls(throttled) != 0 || e.sim.MigrateCalls(running) != 0 {
		t.Errorf("migrations: good %d, throttled calls %d, running calls %d",
			e.sim.Migrations(good), e.sim.MigrateCalls(throttled), e.sim.MigrateCalls(running))
	}
	types := map[string]int{}
	for _, ev := range e.published(t) {
		types[ev.Type()]++
	}
	if diff := cmp.Diff(map[string]int{events.TypeAccepted: 1, events.TypeRejected: 1}, types); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

// TestLambda_sqsFIFO stops at the first failure on a FIFO queue and fails
// every record after it, to keep their order.
func TestLambda_sqsFIFO(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.sim.AddServer(ecstest.ServerSpec{})
	throttled := e.sim.AddServer(ecstest.ServerSpec{})
	after := e.sim.AddServer(ecstest.ServerSpec{})
	if o := e.h.HandleMessage(t.Context(), nil, e.request(first, events.HostTarget(e.host))); o.Status != StatusAccepted {
		t.Fatal(o)
	}
	e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.GatewayThrottle())
	batch := sqsBatch("arn:aws:sqs:eu-west-1:123456789012:placements.fifo",
		e.request(throttled, events.HostTarget(e.host)),
		e.request(after, events.HostTarget(e.host)),
	)
	var resp struct {
		BatchItemFailures []map[string]string `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(invoke(t, e, batch), &resp); err != nil {
		t.Fatal(err)
	}
	want := []map[string]string{{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}}
	if diff := cmp.Diff(want, resp.BatchItemFailures); diff != "" {
		t.Errorf("batchItemFailures (-want +got):\n%s", diff)
	}
	if e.sim.Calls(ecstest.OpShowServer) != 1+4 {
		t.Errorf("ShowServer calls = %d: the record after the failure was handled", e.sim.Calls(ecstest.OpShowServer))
	}
}
