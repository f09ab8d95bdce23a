package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/events"
)

// Delivery is one delivery of a request message to a [Handler].
type Delivery struct {
	// Event is the CloudEvent read from the message (either content
	// mode). It is the zero Event when DecodeErr is set.
	Event event.Event
	// DecodeErr is set when the message is not a readable CloudEvent (a
	// *events.DecodeError): the handler should answer it with a rejected
	// event and terminate it, not drop it silently.
	DecodeErr error
	// Subject, Header and Data are the raw message.
	Subject string
	Header  map[string][]string
	Data    []byte
	// StreamSequence is the message's position in the stream.
	StreamSequence uint64
	// NumDelivered counts the deliveries of this message, this one
	// included; LastAttempt is true when it is the last the consumer's
	// MaxDeliver allows, so a Retry would not be delivered again.
	NumDelivered uint64
	LastAttempt  bool
}

// Handler handles one delivery and says what becomes of the message.
// Its context is not cancelled when consumption stops, so in-flight work
// can finish; it is cancelled when the grace period after the stop ends.
type Handler func(ctx context.Context, d *Delivery) Result

// action is what happens to a delivered message.
type action int

const (
	actAck action = iota + 1
	actRetry
	actTerminate
)

// Result is a [Handler]'s verdict on a message: [Ack], [Retry] or
// [Terminate].
type Result struct {
	act    action
	delay  time.Duration
	reason string
}

// Ack acknowledges the message: it was handled and is not delivered again.
func Ack() Result { return Result{act: actAck} }

// Retry asks for the message to be delivered again after the delay; a
// delay of zero uses the consumer's backoff for this delivery count. It is
// for transient trouble (an API or NATS outage, a claim in progress
// elsewhere).
func Retry(after time.Duration) Result { return Result{act: actRetry, delay: after} }

// Terminate stops all further deliveries of the message, with a reason
// recorded in the server's advisory. It is for messages that can never
// succeed, once they have been answered (for example with a rejected
// event).
func Terminate(reason string) Result { return Result{act: actTerminate, reason: reason} }

// String names the verdict.
func (r Result) String() string {
	switch r.act {
	case actAck:
		return "ack"
	case actRetry:
		return fmt.Sprintf("retry(%s)", r.delay)
	case actTerminate:
		return fmt.Sprintf("terminate(%s)", r.reason)
	}
	return "invalid"
}

// ConsumeOption adjusts [Bus.Consume].
type ConsumeOption func(*consumeOpts)

type consumeOpts struct {
	onError func(error)
	grace   time.Duration
}

// OnError receives errors that do not stop consumption: failed
// acknowledgements, transient pull errors. Libraries do not log; a
// function's main can.
func OnError(f func(error)) ConsumeOption { return func(o *consumeOpts) { o.onError = f } }

// Grace sets how long in-flight handlers may run after consumption was
// asked to stop before their context is cancelled. The default is the
// first backoff delay, after which JetStream would redeliver anyway.
func Grace(d time.Duration) ConsumeOption { return func(o *consumeOpts) { o.grace = d } }

// ConsumerConfig returns the durable pull consumer [Bus.Consume] uses:
// every request subject, explicit acknowledgement, the configured backoff
// (whose first delay is also the acknowledgement wait) and max-deliver.
func (b *Bus) ConsumerConfig() jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       b.cfg.Consumer,
		Description:   "coldmove migrate: placement requests",
		FilterSubject: events.RequestFilter(b.cfg.SubjectPrefix),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       b.cfg.Backoff[0],
		BackOff:       b.cfg.Backoff,
		MaxDeliver:    b.cfg.MaxDeliver,
		MaxAckPending: 4 * b.cfg.Concurrency,
	}
}

// Consume creates or updates the durable request consumer and hands each
// request to h, up to cfg.Concurrency at once, until ctx is cancelled. It
// then stops pulling, returns buffered messages undelivered (negatively
// acknowledged, for another instance to take at once), waits for the
// handlers in flight, and returns nil. It returns an error when the
// consumer cannot be set up or disappears.
func (b *Bus) Consume(ctx context.Context, h Handler, opts ...ConsumeOption) error {
	o := consumeOpts{onError: func(error) {}, grace: b.cfg.Backoff[0]}
	for _, opt := range opts {
		opt(&o)
	}
	stream, err := b.js.Stream(ctx, b.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("bus: consume: stream %s does not exist (EnsureStream creates it)", b.cfg.Stream)
	}
	if err != nil {
		return fmt.Errorf("bus: consume: stream %s: %w", b.cfg.Stream, err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, b.ConsumerConfig())
	if err != nil {
		return fmt.Errorf("bus: consume: consumer %s on %s: %w", b.cfg.Consumer, b.cfg.Stream, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(b.cfg.Concurrency))
	if err != nil {
		return fmt.Errorf("bus: consume: pull from %s: %w", b.cfg.Consumer, err)
	}

	// Handlers outlive ctx by the grace period.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	stopWatch := context.AfterFunc(ctx, func() {
		it.Drain()
		time.AfterFunc(o.grace, hcancel)
	})
	defer stopWatch()

	sem := make(chan struct{}, b.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		msg, err := it.Next()
		if err != nil {
			switch {
			case errors.Is(err, jetstream.ErrMsgIteratorClosed):
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("bus: consume: %s: iterator closed", b.cfg.Consumer)
			case errors.Is(err, jetstream.ErrConsumerDeleted), errors.Is(err, jetstream.ErrConsumerNotFound):
				it.Stop()
				return fmt.Errorf("bus: consume: %s: %w", b.cfg.Consumer, err)
			}
			o.onError(fmt.Errorf("bus: consume: %s: %w", b.cfg.Consumer, err))
			continue
		}
		if ctx.Err() != nil {
			// Stopping: give the buffered message back at once.
			if err := msg.Nak(); err != nil {
				o.onError(fmt.Errorf("bus: consume: return undelivered message: %w", err))
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			if err := msg.Nak(); err != nil {
				o.onError(fmt.Errorf("bus: consume: return undelivered message: %w", err))
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := b.handle(hctx, msg, h); err != nil {
				o.onError(err)
			}
		})
	}
}

// handle runs h on one message, keeping the message in progress while h
// runs, and applies the verdict.
func (b *Bus) handle(ctx context.Context, msg jetstream.Msg, h Handler) error {
	d := &Delivery{Subject: msg.Subject(), Header: msg.Headers(), Data: msg.Data()}
	if md, err := msg.Metadata(); err == nil {
		d.StreamSequence = md.Sequence.Stream
		d.NumDelivered = md.NumDelivered
		d.LastAttempt = md.NumDelivered >= uint64(b.cfg.MaxDeliver)
	}
	d.Event, d.DecodeErr = events.ParseMessage(d.Header, d.Data)
	if d.DecodeErr != nil {
		d.Event = event.Event{}
	}

	stop := b.keepInProgress(msg)
	res := h(ctx, d)
	stop()

	var err error
	switch res.act {
	case actAck:
		// Wait for the server to confirm, so that an acknowledged request
		// is never delivered again because the ack was lost.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
		err = msg.DoubleAck(actx)
		cancel()
	case actRetry:
		delay := res.delay
		if delay <= 0 {
			delay = b.backoff(d.NumDelivered)
		}
		err = msg.NakWithDelay(delay)
	case actTerminate:
		err = msg.TermWithReason(res.reason)
	default:
		err = msg.Nak()
		if err == nil {
			err = errors.New("handler returned no verdict; message returned for redelivery")
		}
	}
	if err != nil {
		return fmt.Errorf("bus: consume: %s on %s (stream sequence %d): %w", res, d.Subject, d.StreamSequence, err)
	}
	return nil
}

// ackTimeout bounds the wait for the server to confirm an acknowledgement.
const ackTimeout = 5 * time.Second

// backoff returns the configured delay for the n-th delivery's retry.
func (b *Bus) backoff(n uint64) time.Duration {
	bo := b.cfg.Backoff
	i := int(min(n, uint64(len(bo)))) - 1
	return bo[max(i, 0)]
}

// keepInProgress tells JetStream every third of the acknowledgement wait
// that the message is still being worked on, until the returned stop is
// called.
func (b *Bus) keepInProgress(msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(max(b.cfg.Backoff[0]/3, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
