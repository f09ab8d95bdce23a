package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
)

// The fleet's ids the stories use (fleet.json).
const (
	dehA     = "6d1c0e8a-2b4f-4c6e-9a1d-3f5b7c9e0a11"
	dehB     = "7e2d1f9b-3c5a-4d7f-8b2e-4a6c8d0f1b22"
	dehSmall = "8f3e2a0c-4d6b-4e8a-9c3f-5b7d9e1a2c33"

	web1       = "3f6a1b2c-7d8e-4f90-a1b2-c3d4e5f60701"
	web2       = "4a7b2c3d-8e9f-4a01-b2c3-d4e5f6071802"
	db1        = "5b8c3d4e-9fa0-4b12-83d4-e5f607182903"
	appRunning = "6c9d4e5f-a0b1-4c23-94e5-f60718293a04"
	appPrepaid = "7dae5f60-b1c2-4d34-a5f6-0718293a4b05"
	appLocked  = "8ebf6071-c2d3-4e45-b607-18293a4b5c06"
	big1       = "9fc07182-d3e4-4f56-8718-293a4b5c6d07"
	batch1     = "a0d18293-e4f5-4067-9829-3a4b5c6d7e08"
	spare1     = "b1e293a4-f506-4178-a93a-4b5c6d7e8f09"
	api1       = "c2f3a4b5-0617-4289-ba4b-5c6d7e8f900a"
)

// story is one thing the demo shows: a request, how it is sent, and the
// outcome it must end in.
type story struct {
	name   string
	server string
	target *events.Target
	// expect is the terminal event's kind and, for rejected and failed,
	// its reason: "completed", "rejected/server_not_stopped".
	expect string
	// calls is how many MigrateServer calls the simulator must see for
	// the server.
	calls int
	// copies is how many times the request is published at once (default
	// one); malformed sends data without a target.
	copies    int
	malformed bool
	// power asks for the power steps (a running server stopped first).
	power *events.Power
	// starts is how many os-start calls the simulator must see.
	starts int

	id      string
	sent    time.Time
	ended   time.Time
	got     string
	endings int
}

// stories returns the demo's stories.
func stories() []*story {
	return []*story{
		{name: "onto a dedicated host", server: db1, target: events.HostTarget(dehA), expect: "completed", calls: 1},
		{name: "between dedicated hosts", server: web1, target: events.HostTarget(dehB), expect: "completed", calls: 1},
		{name: "back to the public pool", server: web2, target: events.PublicPoolTarget(), expect: "completed", calls: 1},
		{name: "a running server", server: appRunning, target: events.HostTarget(dehA), expect: "rejected/server_not_stopped"},
		{name: "a prepaid server", server: appPrepaid, target: events.HostTarget(dehA), expect: "rejected/not_pay_per_use"},
		{name: "a locked server", server: appLocked, target: events.HostTarget(dehA), expect: "rejected/server_locked"},
		{name: "no room on a NUMA node", server: big1, target: events.HostTarget(dehSmall), expect: "failed/job_failed", calls: 1},
		{name: "delivered three times at once", server: batch1, target: events.HostTarget(dehB), expect: "completed", calls: 1, copies: 3},
		{name: "a malformed request", server: spare1, expect: "rejected/invalid_payload", malformed: true},
		{name: "running: stopped, moved, restarted", server: api1, target: events.HostTarget(dehB), expect: "completed", calls: 1,
			power: &events.Power{Stop: events.StopSoft, Restart: true}, starts: 1},
	}
}

// outcomeOf is how an event reads in the summary: its kind, and the
// reason for rejected and failed.
func outcomeOf(it item) string {
	k := kind(it.Event.Type())
	if it.Data.Reason != "" {
		return k + "/" + it.Data.Reason
	}
	return k
}

// send publishes the story's request: in binary mode through JetStream,
// or, for several copies, that many times at once through core NATS
// without a message id, as a producer retrying would, so that the stream
// holds each copy and the migrate consumer receives each.
func (s *story) send(ctx context.Context, b *bus.Bus, at time.Time) error {
	s.id, s.sent = newUUID(), at
	e, err := s.event(at)
	if err != nil {
		return err
	}
	if s.copies <= 1 {
		_, err := b.PublishMode(ctx, e, bus.Binary)
		return err
	}
	subj, err := b.Subject(e)
	if err != nil {
		return err
	}
	h, body, err := events.BinaryHeaders(e)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, s.copies)
	for range s.copies {
		wg.Go(func() { errs <- b.Conn().PublishMsg(&nats.Msg{Subject: subj, Header: nats.Header(h), Data: body}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return b.Conn().Flush()
}

// event builds the story's request CloudEvent.
func (s *story) event(at time.Time) (event.Event, error) {
	if !s.malformed {
		return events.NewRequested(demoSource, s.id, events.Request{ServerID: s.server, Target: s.target, Power: s.power}, at)
	}
	e := event.New()
	e.SetID(s.id)
	e.SetSource(demoSource)
	e.SetType(events.TypeRequested)
	e.SetSubject(s.server)
	e.SetTime(at)
	data, _ := json.Marshal(map[string]any{"server_id": s.server}) // no target
	if err := e.SetData(events.ContentType, json.RawMessage(data)); err != nil {
		return event.Event{}, fmt.Errorf("build the malformed request: %w", err)
	}
	return e, nil
}

// demoSource is the CloudEvent source of the demo's requests.
const demoSource = "urn:coldmove:demo"
