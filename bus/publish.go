package bus

import (
	"context"
	"fmt"
	"slices"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/events"
)

// structuredContentType is the content-type of a structured-mode message.
const structuredContentType = "application/cloudevents+json"

// PublishResult is JetStream's acknowledgement of a publish.
type PublishResult struct {
	// Subject is where the event was published.
	Subject string
	// Stream and Sequence locate the stored message; for a duplicate they
	// locate the copy stored first.
	Stream   string
	Sequence uint64
	// Duplicate is true when JetStream already had a message with this
	// CloudEvent id in its duplicate window and dropped this one: success
	// without effect.
	Duplicate bool
}

// Subject returns the subject an event is published on: the request
// subject for a request, the outcome subject of its type otherwise, with
// the event's subject (the server id) as the last token.
func (b *Bus) Subject(e event.Event) (string, error) {
	if !slices.Contains(events.Types(), e.Type()) {
		return "", fmt.Errorf("bus: event %s: type %q is not a coldmove event type", e.ID(), e.Type())
	}
	if e.Type() == events.TypeRequested {
		return events.RequestSubject(b.cfg.SubjectPrefix, e.Subject()), nil
	}
	return events.OutcomeSubject(b.cfg.SubjectPrefix, e.Type(), e.Subject()), nil
}

// Publish publishes a coldmove CloudEvent in the configured content mode
// and waits for JetStream's acknowledgement. The message id (Nats-Msg-Id)
// is the CloudEvent id, so publishing the same event again within the
// stream's duplicate window stores nothing and reports Duplicate. ctx
// bounds the wait; without a deadline JetStream's default timeout applies.
func (b *Bus) Publish(ctx context.Context, e event.Event) (PublishResult, error) {
	return b.PublishMode(ctx, e, b.cfg.ContentMode)
}

// PublishMode is [Bus.Publish] in the given content mode.
func (b *Bus) PublishMode(ctx context.Context, e event.Event, mode ContentMode) (PublishResult, error) {
	subj, err := b.Subject(e)
	if err != nil {
		return PublishResult{}, err
	}
	msg := &nats.Msg{Subject: subj}
	switch mode {
	case Binary:
		h, body, err := events.BinaryHeaders(e)
		if err != nil {
			return PublishResult{}, fmt.Errorf("bus: publish %s %s: %w", e.Type(), e.ID(), err)
		}
		msg.Header, msg.Data = nats.Header(h), body
	case Structured:
		body, err := events.Structured(e)
		if err != nil {
			return PublishResult{}, fmt.Errorf("bus: publish %s %s: %w", e.Type(), e.ID(), err)
		}
		msg.Header = nats.Header{"content-type": []string{structuredContentType}}
		msg.Data = body
	default:
		return PublishResult{}, fmt.Errorf("bus: publish %s %s: unknown content mode %q", e.Type(), e.ID(), mode)
	}
	ack, err := b.js.PublishMsg(ctx, msg, jetstream.WithMsgID(e.ID()), jetstream.WithExpectStream(b.cfg.Stream))
	if err != nil {
		return PublishResult{}, fmt.Errorf("bus: publish %s %s to %s: %w", e.Type(), e.ID(), subj, err)
	}
	return PublishResult{Subject: subj, Stream: ack.Stream, Sequence: ack.Sequence, Duplicate: ack.Duplicate}, nil
}
