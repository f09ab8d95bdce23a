package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natstest"
)

// waitTimeout bounds every wait for a delivery or an advisory.
const waitTimeout = 10 * time.Second

// consuming runs b.Consume with h until the returned stop is called; stop
// cancels, waits for Consume to return and returns its error.
func consuming(t *testing.T, b *bus.Bus, h bus.Handler, opts ...bus.ConsumeOption) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Consume(ctx, h, opts...) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(waitTimeout):
				err = errors.New("Consume did not return after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// recorder is a handler that records deliveries and answers with decide.
func recorder(decide func(*bus.Delivery) bus.Result) (bus.Handler, <-chan *bus.Delivery) {
	ch := make(chan *bus.Delivery, 100)
	return func(_ context.Context, d *bus.Delivery) bus.Result {
		ch <- d
		return decide(d)
	}, ch
}

func next(t *testing.T, ch <-chan *bus.Delivery) *bus.Delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(waitTimeout):
		t.Fatal("no delivery")
		return nil
	}
}

// advisories subscribes to JetStream advisories of one kind for the
// consumer, e.g. MAX_DELIVERIES or MSG_TERMINATED.
func advisories(t *testing.T, nc *nats.Conn, kind, consumer string) <-chan *nats.Msg {
	t.Helper()
	ch := make(chan *nats.Msg, 10)
	sub, err := nc.ChanSubscribe("$JS.EVENT.ADVISORY.CONSUMER."+kind+".COLDMOVE."+consumer, ch)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

func mustConsumerInfo(t *testing.T, s *natstest.Server, name string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := mustStream(t, s.JetStream(), "COLDMOVE").Consumer(t.Context(), name)
	if err != nil {
		t.Fatalf("Consumer(%s): %v", name, err)
	}
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// waitSettled polls the consumer until it has nothing left to deliver and
// nothing awaiting acknowledgement. Call it while Consume still runs, so
// that a delivery the test did not expect is handled rather than left
// pending.
func waitSettled(t *testing.T, s *natstest.Server, name string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		info := mustConsumerInfo(t, s, name)
		if info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s not settled after %s: pending %d, ack pending %d, redelivered %d",
				name, waitTimeout, info.NumPending, info.NumAckPending, info.NumRedelivered)
		}
		<-tick.C
	}
}

func TestConsume_roundTripBothModes(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	ctx := t.Context()
	sent := map[string]bus.ContentMode{"req-binary": bus.Binary, "req-structured": bus.Structured}
	for id, mode := range sent {
		if _, err := b.PublishMode(ctx, requestEvent(t, id), mode); err != nil {
			t.Fatal(err)
		}
	}
	// Outcomes share the stream but are not requests.
	if _, err := b.Publish(ctx, acceptedEvent(t, "req-binary")); err != nil {
		t.Fatal(err)
	}
	h, got := recorder(func(*bus.Delivery) bus.Result { return bus.Ack() })
	stop := consuming(t, b, h)
	for range sent {
		d := next(t, got)
		if d.DecodeErr != nil {
			t.Fatalf("DecodeErr: %v", d.DecodeErr)
		}
		if diff := diffEvents(t, requestEvent(t, d.Event.ID()), d.Event); diff != "" {
			t.Errorf("%s round trip (-sent +consumed):\n%s", sent[d.Event.ID()], diff)
		}
		if d.Subject != "coldmove.placement.requested."+serverA || d.NumDelivered != 1 || d.LastAttempt {
			t.Errorf("delivery subject %s, delivered %d, last %v", d.Subject, d.NumDelivered, d.LastAttempt)
		}
		if p, err := events.DecodeEvent(d.Event); err != nil {
			t.Errorf("DecodeEvent of the consumed event: %v", err)
		} else if err := p.CheckDeadline(at); err != nil {
			t.Errorf("CheckDeadline of the consumed event: %v", err)
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("Consume: %v", err)
	}
	info := mustConsumerInfo(t, s, "coldmove-migrate")
	if info.NumPending != 0 || info.NumAckPending != 0 || info.AckFloor.Consumer != 2 {
		t.Errorf("consumer after acks: pending %d, ack pending %d, ack floor %d; want 0, 0, 2",
			info.NumPending, info.NumAckPending, info.AckFloor.Consumer)
	}
	want := b.ConsumerConfig()
	cfg := info.Config
	if cfg.Durable != want.Durable || cfg.FilterSubject != "coldmove.placement.requested.*" ||
		cfg.AckPolicy != jetstream.AckExplicitPolicy || cfg.MaxDeliver != 5 || !cmp.Equal(cfg.BackOff, testConfig().Backoff) {
		t.Errorf("consumer config %+v, want durable %s on requests, explicit ack, max deliver 5, backoff %v", cfg, want.Durable, testConfig().Backoff)
	}
}

func TestConsume_decodeErrorReachesHandler(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	terminated := advisories(t, s.Conn(), "MSG_TERMINATED", "coldmove-migrate")
	if _, err := s.JetStream().Publish(t.Context(), "coldmove.placement.requested.x", []byte("not json"), jetstream.WithMsgID("garbage-1")); err != nil {
		t.Fatal(err)
	}
	h, got := recorder(func(d *bus.Delivery) bus.Result { return bus.Terminate("undecodable: answered with rejected") })
	consuming(t, b, h)
	d := next(t, got)
	if !errors.Is(d.DecodeErr, events.ErrNotCloudEvent) {
		t.Errorf("DecodeErr = %v, want events.ErrNotCloudEvent", d.DecodeErr)
	}
	var de *events.DecodeError
	if !errors.As(d.DecodeErr, &de) || de.Origin.RawDigest == "" {
		t.Errorf("DecodeErr %v carries no raw digest to correlate a rejection", d.DecodeErr)
	}
	if string(d.Data) != "not json" || d.Event.Context != nil {
		t.Errorf("delivery data %q, event %v; want the raw data and no event", d.Data, d.Event)
	}
	select {
	case m := <-terminated:
		var adv struct {
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(m.Data, &adv); err != nil || adv.Reason != "undecodable: answered with rejected" {
			t.Errorf("termination advisory %s", m.Data)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no termination advisory")
	}
}

func TestConsume_retry(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		retry   bus.Result
		backoff []time.Duration // nil: testConfig's
	}{
		"explicit delay": {retry: bus.Retry(5 * time.Millisecond)},
		// Retry(0) waits the first backoff delay, which is also the
		// acknowledgement wait, so here both are short. On a machine
		// slower than that, the second delivery comes from the expired
		// wait instead and the late negative acknowledgement may cause a
		// third; the handler acknowledges every delivery after the first,
		// and the assertions hold either way.
		"consumer backoff": {retry: bus.Retry(0), backoff: []time.Duration{200 * time.Millisecond}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := natstest.Run(t)
			cfg := testConfig()
			if tc.backoff != nil {
				cfg.Backoff = tc.backoff
			}
			b := mustBus(t, s, cfg)
			if _, err := b.Publish(t.Context(), requestEvent(t, "req-retry")); err != nil {
				t.Fatal(err)
			}
			h, got := recorder(func(d *bus.Delivery) bus.Result {
				if d.NumDelivered == 1 {
					return tc.retry
				}
				return bus.Ack()
			})
			stop := consuming(t, b, h)
			first, second := next(t, got), next(t, got)
			if first.NumDelivered > second.NumDelivered {
				first, second = second, first // handlers run concurrently
			}
			if first.NumDelivered != 1 || second.NumDelivered != 2 || first.Event.ID() != second.Event.ID() {
				t.Errorf("deliveries %d then %d of %s and %s; want 1 then 2 of one request",
					first.NumDelivered, second.NumDelivered, first.Event.ID(), second.Event.ID())
			}
			waitSettled(t, s, "coldmove-migrate")
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if info := mustConsumerInfo(t, s, "coldmove-migrate"); info.NumAckPending != 0 || info.NumRedelivered != 0 {
				t.Errorf("after the ack: ack pending %d, redelivered %d; want 0, 0", info.NumAckPending, info.NumRedelivered)
			}
		})
	}
}

func TestConsume_maxDeliver(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	cfg := testConfig()
	// Retry(time.Millisecond) redelivers at once; the long acknowledgement
	// wait never does.
	cfg.MaxDeliver, cfg.Backoff = 2, cfg.Backoff[:1]
	b := mustBus(t, s, cfg)
	exhausted := advisories(t, s.Conn(), "MAX_DELIVERIES", "coldmove-migrate")
	if _, err := b.Publish(t.Context(), requestEvent(t, "req-doomed")); err != nil {
		t.Fatal(err)
	}
	h, got := recorder(func(d *bus.Delivery) bus.Result {
		if d.Event.ID() == "req-doomed" {
			return bus.Retry(time.Millisecond)
		}
		return bus.Ack()
	})
	consuming(t, b, h)
	first, second := next(t, got), next(t, got)
	if first.NumDelivered != 1 || first.LastAttempt || second.NumDelivered != 2 || !second.LastAttempt {
		t.Errorf("deliveries (%d, last %v), (%d, last %v); want (1, false), (2, true)",
			first.NumDelivered, first.LastAttempt, second.NumDelivered, second.LastAttempt)
	}
	select {
	case <-exhausted:
	case <-time.After(waitTimeout):
		t.Fatal("no max-deliveries advisory")
	}
	// After the advisory the request is not delivered again: the next
	// delivery is a new request.
	if _, err := b.Publish(t.Context(), requestEvent(t, "req-next")); err != nil {
		t.Fatal(err)
	}
	if d := next(t, got); d.Event.ID() != "req-next" {
		t.Errorf("delivery after max-deliver: %s (delivery %d), want req-next", d.Event.ID(), d.NumDelivered)
	}
}

func TestConsume_stopsCleanlyAndFinishesInFlight(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	if _, err := b.Publish(t.Context(), requestEvent(t, "req-slow")); err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	var ctxErrAtRelease error
	stop := consuming(t, b, func(ctx context.Context, d *bus.Delivery) bus.Result {
		close(started)
		<-release
		ctxErrAtRelease = ctx.Err()
		return bus.Ack()
	})
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	close(release)
	if err := <-stopped; err != nil {
		t.Fatalf("Consume after stop: %v", err)
	}
	if ctxErrAtRelease != nil {
		t.Errorf("handler context cancelled by the stop: %v", ctxErrAtRelease)
	}
	if info := mustConsumerInfo(t, s, "coldmove-migrate"); info.AckFloor.Consumer != 1 || info.NumAckPending != 0 {
		t.Errorf("in-flight message not acknowledged: ack floor %d, ack pending %d", info.AckFloor.Consumer, info.NumAckPending)
	}
}

func TestConsume_graceCancelsHandlers(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	if _, err := b.Publish(t.Context(), requestEvent(t, "req-stuck")); err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	stop := consuming(t, b, func(ctx context.Context, d *bus.Delivery) bus.Result {
		close(started)
		<-ctx.Done() // a handler that only stops when told to
		return bus.Retry(time.Millisecond)
	}, bus.Grace(10*time.Millisecond))
	<-started
	if err := stop(); err != nil {
		t.Fatalf("Consume with a stuck handler: %v", err)
	}
}

func TestConsume_heartbeatPreventsRedeliveryOfSlowWork(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	cfg := testConfig()
	// The server's acknowledgement wait is real time, so this test needs a
	// real one. Consume signals progress every third of it.
	const ackWait = time.Second
	cfg.Backoff = []time.Duration{ackWait}
	b := mustBus(t, s, cfg)
	progress := make(chan *nats.Msg, 100)
	sub, err := s.Conn().ChanSubscribe("$JS.ACK.COLDMOVE.coldmove-migrate.>", progress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	if err := s.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), requestEvent(t, "req-long")); err != nil {
		t.Fatal(err)
	}
	longestStall := watchStalls()
	// The handler holds the first delivery until the server has been told
	// four times that it is in progress: by then it has outlasted the
	// acknowledgement wait.
	const beats = 4
	var gaps []time.Duration // from the delivery to each signal, then between signals
	held := make(chan struct{})
	h, got := recorder(func(d *bus.Delivery) bus.Result {
		if d.NumDelivered != 1 {
			return bus.Ack()
		}
		defer close(held)
		last := time.Now()
		timeout := time.After(waitTimeout)
		for len(gaps) < beats {
			select {
			case m := <-progress:
				if string(m.Data) == "+WPI" {
					gaps = append(gaps, time.Since(last))
					last = time.Now()
				}
			case <-timeout:
				t.Errorf("%d progress signals within %s, want %d", len(gaps), waitTimeout, beats)
				return bus.Ack()
			}
		}
		return bus.Ack()
	})
	stop := consuming(t, b, h)
	first := next(t, got)
	// Keep consuming while the handler holds the message, so that a
	// redelivery would reach a second handler, and until the ack lands.
	select {
	case <-held:
	case <-time.After(2 * waitTimeout):
		t.Fatal("handler still holding the first delivery")
	}
	waitSettled(t, s, "coldmove-migrate")
	stall := longestStall()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if first.NumDelivered != 1 {
		t.Errorf("first delivery count %d", first.NumDelivered)
	}
	// Signals a third of the wait apart keep the message in progress as
	// long as the process is not held up for another third or more; if it
	// was, the server may rightly have redelivered, and only the above is
	// checked.
	if stall >= ackWait/3 {
		t.Logf("the process stalled for %s; redelivery not judged (progress signal gaps %v)", stall, gaps)
		return
	}
	if longest := slices.Max(append(gaps, 0)); longest >= ackWait {
		t.Errorf("progress signals %v apart, want each within the acknowledgement wait %s", gaps, ackWait)
	}
	select {
	case d := <-got:
		t.Errorf("request delivered again (delivery %d) while the first delivery was in progress", d.NumDelivered)
	default:
	}
	// One delivery in all: the consumer sequence counts redeliveries too.
	if info := mustConsumerInfo(t, s, "coldmove-migrate"); info.Delivered.Consumer != 1 {
		t.Errorf("consumer delivered %d times, want once", info.Delivered.Consumer)
	}
}

// watchStalls starts measuring how late a goroutine ticking every few
// milliseconds wakes up, which is how long the process was kept from
// running. The returned function stops the measure and returns the
// longest delay.
func watchStalls() (longest func() time.Duration) {
	const period = 5 * time.Millisecond
	done, result := make(chan struct{}), make(chan time.Duration, 1)
	go func() {
		tick := time.NewTicker(period)
		defer tick.Stop()
		last, worst := time.Now(), time.Duration(0)
		for {
			select {
			case <-done:
				result <- worst
				return
			case <-tick.C:
				now := time.Now()
				worst = max(worst, now.Sub(last)-period)
				last = now
			}
		}
	}()
	var once sync.Once
	var worst time.Duration
	return func() time.Duration {
		once.Do(func() {
			close(done)
			worst = <-result
		})
		return worst
	}
}

func TestConsume_durableSurvivesRestart(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b := mustBus(t, s, testConfig())
	ctx := t.Context()
	if _, err := b.Publish(ctx, requestEvent(t, "req-before")); err != nil {
		t.Fatal(err)
	}
	h, got := recorder(func(*bus.Delivery) bus.Result { return bus.Ack() })
	stop := consuming(t, b, h)
	if d := next(t, got); d.Event.ID() != "req-before" {
		t.Fatalf("first delivery %s", d.Event.ID())
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(ctx, requestEvent(t, "req-pending")); err != nil {
		t.Fatal(err)
	}

	s.Restart()

	h2, got2 := recorder(func(*bus.Delivery) bus.Result { return bus.Ack() })
	stop2 := consuming(t, b, h2)
	if d := next(t, got2); d.Event.ID() != "req-pending" {
		t.Errorf("after restart delivered %s, want only req-pending (req-before was acked)", d.Event.ID())
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

func TestConsume_withoutStream(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b, err := bus.New(s.Conn(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	err = b.Consume(t.Context(), func(context.Context, *bus.Delivery) bus.Result { return bus.Ack() })
	if err == nil || !strings.Contains(err.Error(), "EnsureStream") {
		t.Errorf("Consume without a stream: %v, want an error pointing at EnsureStream", err)
	}
}

func TestResult_String(t *testing.T) {
	t.Parallel()
	tests := map[string]bus.Result{
		"ack":            bus.Ack(),
		"retry(1s)":      bus.Retry(time.Second),
		"terminate(bad)": bus.Terminate("bad"),
		"invalid":        {},
	}
	for want, r := range tests {
		if got := r.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}
