package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
)

// item is one event read from the stream, with the fields of its data
// that people and the follow logic look at.
type item struct {
	Subject string
	Seq     uint64
	Event   event.Event
	Data    view
}

// view is the union of the payload fields the CLI shows: the correlation
// every outcome carries, the request's own fields, and each outcome's.
type view struct {
	events.Correlation
	Reason         string           `json:"reason"`
	Message        string           `json:"message"`
	Problems       []events.Problem `json:"problems"`
	ServerStatus   string           `json:"server_status"`
	APIErrorCode   string           `json:"api_error_code"`
	ErrorCode      string           `json:"error_code"`
	FailReason     string           `json:"fail_reason"`
	AlreadyInPlace bool             `json:"already_in_place"`
	Deadline       *time.Time       `json:"deadline"`
	LastStatus     string           `json:"last_status"`
	Step           string           `json:"step"`
}

// matches reports whether the event answers the request with this
// CloudEvent source and id.
func (it item) matches(source, id string) bool {
	return it.Data.RequestID == id && it.Data.RequestSource == source
}

// terminal reports whether the event ends its request.
func (it item) terminal() bool { return events.IsTerminal(it.Event.Type()) }

// follower reads the stream through an ordered consumer: ephemeral, so
// it is cleaned up when it ends, and reading each stored event once,
// however often it was published.
type follower struct {
	it jetstream.MessagesContext
}

// openFollower starts reading the events on subjects from now on, or with
// all from the start of the stream. Events published after it returns are
// not missed.
func openFollower(ctx context.Context, b *bus.Bus, subjects []string, all bool) (*follower, error) {
	policy := jetstream.DeliverNewPolicy
	if all {
		policy = jetstream.DeliverAllPolicy
	}
	cons, err := b.JetStream().OrderedConsumer(ctx, b.Config().Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects, DeliverPolicy: policy,
	})
	if err != nil {
		return nil, fmt.Errorf("follow the stream %s: %w", b.Config().Stream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("follow the stream %s: %w", b.Config().Stream, err)
	}
	return &follower{it: it}, nil
}

// run hands every event to fn until fn returns false (run then returns
// nil) or ctx ends (run returns ctx's error), and stops the consumer.
func (f *follower) run(ctx context.Context, fn func(item) bool) error {
	defer f.it.Stop()
	stop := context.AfterFunc(ctx, f.it.Stop)
	defer stop()
	for {
		msg, err := f.it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return errors.New("follow the stream: the consumer was closed")
			}
			continue // a heartbeat missed while reconnecting: the ordered consumer recovers
		}
		e, err := events.ParseMessage(msg.Headers(), msg.Data())
		if err != nil {
			continue // not a CloudEvent: nothing coldmove published
		}
		var v view
		_ = json.Unmarshal(e.Data(), &v)
		var seq uint64
		if md, err := msg.Metadata(); err == nil {
			seq = md.Sequence.Stream
		}
		if !fn(item{Subject: msg.Subject(), Seq: seq, Event: e, Data: v}) {
			return nil
		}
	}
}

// placementSubjects is every event of the placement vocabulary under the
// configured prefix; with a server, only that server's.
func placementSubjects(prefix, serverID string) []string {
	if serverID == "" {
		return []string{prefix + ".placement.>"}
	}
	return []string{prefix + ".placement.*." + serverID}
}
