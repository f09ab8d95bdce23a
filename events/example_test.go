package events_test

import (
	"fmt"
	"time"

	"github.com/coldmove/coldmove/events"
)

func ExampleNewAccepted() {
	req := []byte(`{
	  "specversion": "1.0", "id": "req-42", "source": "/planner",
	  "type": "dev.coldmove.placement.requested",
	  "data": {"server_id": "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10",
	           "target": {"public_pool": true}}
	}`)
	at := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	p, err := events.Decode(nil, req)
	if err != nil {
		panic(err)
	}
	// A request the ledger does not know yet: its deadline is judged now.
	if err := p.CheckDeadline(at); err != nil {
		panic(err)
	}
	o := p.Origin()
	o.ProjectID = "0605767a2b00d4e22f46c00a6d3a5c19" // the configured default
	e, err := events.NewAccepted(o, "ff80808288d41e1b018990260955686a", at.Add(time.Hour), at)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type())
	fmt.Println(e.ID())
	fmt.Println(events.OutcomeSubject(events.DefaultPrefix, e.Type(), e.Subject()))
	fmt.Println(string(e.Data()))
	// Output:
	// dev.coldmove.placement.accepted
	// 77084779-2ab4-8e21-ba9a-6fac37966de1
	// coldmove.placement.accepted.0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10
	// {"request_id":"req-42","request_source":"/planner","server_id":"0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10","project_id":"0605767a2b00d4e22f46c00a6d3a5c19","target":{"public_pool":true},"job_id":"ff80808288d41e1b018990260955686a","deadline":"2026-11-25T10:00:00Z"}
}

// ExamplePlacement_CheckDeadline shows the order the migrate function
// follows: decode without a clock, look the request up in the ledger, and
// judge the deadline only for a request the ledger does not know.
func ExamplePlacement_CheckDeadline() {
	p, err := events.Decode(nil, []byte(`{
	  "specversion": "1.0", "id": "req-47", "source": "/planner",
	  "type": "dev.coldmove.placement.requested",
	  "data": {"server_id": "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10",
	           "target": {"public_pool": true}, "deadline": "2026-11-25T09:00:00Z"}
	}`))
	if err != nil {
		panic(err)
	}
	known := false // what the ledger says of p.Key()
	now := time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
	if !known {
		err := p.CheckDeadline(now)
		de := err.(*events.DecodeError)
		fmt.Println(de.Reason, de.Problems)
	}
	// Output:
	// invalid_payload [{deadline must be in the future}]
}

func ExampleNewRejected() {
	_, err := events.Decode(nil, []byte(`{
	  "specversion": "1.0", "id": "req-43", "source": "/planner",
	  "type": "dev.coldmove.placement.requested",
	  "data": {"server_id": "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10", "target": {}}
	}`))
	de := err.(*events.DecodeError)
	e, err := events.NewRejected(de.Origin, de.Rejection(), time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(events.OutcomeSubject(events.DefaultPrefix, e.Type(), e.Subject()))
	fmt.Println(string(e.Data()))
	// Output:
	// coldmove.placement.rejected.0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10
	// {"request_id":"req-43","request_source":"/planner","server_id":"0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10","target":{},"reason":"invalid_payload","message":"invalid payload","problems":[{"field":"target","problem":"is empty: give {\"dedicated_host_id\": \"\u003cuuid\u003e\"} or {\"public_pool\": true}"}]}
}

func ExampleNewCompleted() {
	o := events.Origin{
		RequestID: "req-44", RequestSource: "/planner",
		ServerID:  "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10",
		ProjectID: "0605767a2b00d4e22f46c00a6d3a5c19",
		Target:    events.HostTarget("5c3f2a4e-8d7b-4e1f-9a6c-1d2e3f4a5b6c"),
	}
	e, err := events.NewCompleted(o, "", true, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type(), e.Subject())
	// Output:
	// dev.coldmove.placement.completed 0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10
}

func ExampleNewFailed() {
	o := events.Origin{
		RequestID: "req-45", RequestSource: "/planner",
		ServerID:  "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10",
		ProjectID: "0605767a2b00d4e22f46c00a6d3a5c19",
		Target:    events.HostTarget("5c3f2a4e-8d7b-4e1f-9a6c-1d2e3f4a5b6c"),
	}
	e, err := events.NewFailed(o, "ff80808288d41e1b018990260955686a", events.Failure{
		Reason:     events.FailJobFailed,
		Message:    "the migration job failed",
		ErrorCode:  "Ecs.0000",
		FailReason: "insufficient memory on NUMA node 1",
	}, time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type())
	// Output:
	// dev.coldmove.placement.failed
}

func ExampleNewTimedOut() {
	o := events.Origin{
		RequestID: "req-46", RequestSource: "/planner",
		ServerID:  "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10",
		ProjectID: "0605767a2b00d4e22f46c00a6d3a5c19",
		Target:    events.PublicPoolTarget(),
	}
	deadline := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	e, err := events.NewTimedOut(o, "ff80808288d41e1b018990260955686a", deadline, "RUNNING", deadline.Add(time.Second))
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Type(), events.OutcomeSubject("prod.coldmove", e.Type(), e.Subject()))
	// Output:
	// dev.coldmove.placement.timedout prod.coldmove.placement.timedout.0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10
}
