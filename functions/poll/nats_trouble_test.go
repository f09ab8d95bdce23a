package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/stacktest"
	"github.com/coldmove/coldmove/ledger"
)

// NATS trouble: JetStream goes away in the middle of a tick and comes
// back, a cluster loses its leader, publishes time out. Nothing is lost
// (every request reaches its one terminal event once NATS is back),
// nothing is doubled, and while NATS is away ticks count errors and decide
// no outcome.

// troubleTick bounds each tick of these tests, so that a tick waiting for
// NATS ends soon.
const troubleTick = time.Second

// batch submits each state poll takes requests on in (pollSources),
// perSource times.
func (e *env) batch(perSource int) []pollCrashRequest {
	var reqs []pollCrashRequest
	for i := range pollSources {
		for range perSource {
			reqs = append(reqs, pollCrashRequest{request: pollSources[i].make(e), src: &pollSources[i]})
		}
	}
	return reqs
}

// tickUntilDone ticks p, each tick bounded by troubleTick, until the
// ledger holds no record, moving the clock to the next due record (or a
// second on) after each. A tick that failed, or a ledger that cannot be
// read, is waited out a moment of wall time (a leader being elected, a
// connection coming back). It checks the guarantees after every round and
// fails the test after maxRounds rounds or five minutes; it returns the sum
// of the ticks' summaries and the rounds.
func tickUntilDone(t *testing.T, e *env, reqs []pollCrashRequest, p *Poller, maxRounds int) (Summary, int) {
	t.Helper()
	var sum Summary
	stop := time.Now().Add(5 * time.Minute)
	for round := 1; ; round++ {
		if round > maxRounds || time.Now().After(stop) {
			t.Fatalf("records left after %d rounds", round-1)
		}
		ctx, cancel := context.WithTimeout(t.Context(), troubleTick)
		s, err := p.Tick(ctx)
		cancel()
		add(&sum, s)
		troubled := err != nil || s.Errors > 0
		var refs []ledger.JobRef
		if err == nil {
			ctx, cancel := context.WithTimeout(t.Context(), troubleTick)
			refs, err = e.migrate.Scan(ctx)
			cancel()
		}
		if err != nil || troubled {
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			continue
		}
		checkPollCrash(t, e, reqs, fmt.Sprintf("after round %d", round))
		if len(refs) == 0 {
			return sum, round
		}
		if next := refs[0].DueAt; next.After(e.clock.Now()) {
			e.clock.Set(next)
		} else {
			e.clock.Advance(time.Second)
		}
	}
}

// add adds s's counts to sum.
func add(sum *Summary, s Summary) {
	sum.Leased += s.Leased
	sum.Polled += s.Polled
	sum.Completed += s.Completed
	sum.Failed += s.Failed
	sum.TimedOut += s.TimedOut
	sum.Republished += s.Republished
	sum.Errors += s.Errors
}

// TestTrouble_natsRestartMidTick stops the embedded server at each of a
// tick's step boundaries (or before the tick), as the tick goes on: the
// tick ends within its budget with its errors counted and no outcome it
// did not publish. The server restarts on the same store, and ticks end
// every request, once.
func TestTrouble_natsRestartMidTick(t *testing.T) {
	t.Parallel()
	for _, point := range append([]string{"before the tick"}, pollCrashPoints...) {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			reqs := e.batch(1)
			p, _ := e.poller("poll-1", func(p *Policy) { p.Concurrency = 1 })
			var stopped atomic.Bool
			p.crash = func(pt string) {
				if pt == point && stopped.CompareAndSwap(false, true) {
					e.nats.Shutdown()
				}
			}
			if point == "before the tick" {
				stopped.Store(true)
				e.nats.Shutdown()
			}
			// Tick as usual until the tick in which the server goes away.
			for round := 0; ; round++ {
				if round == 100 {
					t.Fatalf("never reached %s", point)
				}
				down := stopped.Load()
				start := time.Now()
				ctx, cancel := context.WithTimeout(t.Context(), troubleTick)
				s, err := p.Tick(ctx)
				cancel()
				// It ends by its budget, not by some longer timeout of the
				// client (a margin for a loaded machine).
				if took := time.Since(start); took > troubleTick+4*time.Second {
					t.Errorf("a tick without NATS took %s, its budget %s", took, troubleTick)
				}
				if !stopped.Load() {
					if err != nil {
						t.Fatal(err)
					}
					e.clock.Advance(15 * time.Second)
					continue
				}
				if down != (err != nil) {
					t.Errorf("Tick error %v with the server down from the start %t", err, down)
				}
				// Outcomes it counts, JetStream acknowledged before the
				// server went: only at these two boundaries.
				acked := 0
				if point == crashPublished || point == crashFinished {
					acked = 1
				}
				if s.Errors == 0 || s.Completed+s.Failed+s.TimedOut+s.Republished > acked {
					t.Errorf("the tick NATS went away in: %+v (error %v); want errors counted, at most %d outcome", s, err, acked)
				}
				t.Logf("the tick NATS went away in: leased %d, polled %d, completed %d, errors %d, deferred %d, error %v",
					s.Leased, s.Polled, s.Completed, s.Errors, s.Deferred, err)
				break
			}
			e.nats.Restart()
			sum, rounds := tickUntilDone(t, e, reqs, p, 200)
			t.Logf("NATS stopped at %s: %d requests, done in %d more rounds, %d errors counted", point, len(reqs), rounds, sum.Errors)
			checkAllDone(t, e, reqs)
		})
	}
}

// TestTrouble_clusterLeaderKilled runs poll on a three-node JetStream
// cluster, the stream and the ledger replicated three ways, and kills the
// ledger stream's leader in the middle of a tick (as the first outcome is
// recorded; in the long form, at each boundary): the other two elect a
// new one, the ticks that come during the
// election count their errors, and every request ends once, as read from
// the two members left and again once the third came back.
func TestTrouble_clusterLeaderKilled(t *testing.T) {
	t.Parallel()
	points := []string{crashRecorded}
	if stacktest.Soak() {
		points = pollCrashPoints
	}
	for _, point := range points {
		t.Run(point, func(t *testing.T) {
			t.Parallel()
			leaderKilled(t, point)
		})
	}
}

// leaderKilled kills the ledger stream's leader when a job first reaches
// point.
func leaderKilled(t *testing.T, point string) {
	e := envOn(t, stacktest.NewCluster(t, 3))
	reqs := e.batch(1)
	p, _ := e.poller("poll-1", func(p *Policy) { p.Concurrency = 2 })
	killed := -1
	var (
		once    sync.Once
		killErr error
	)
	p.crash = func(pt string) {
		if pt == point {
			once.Do(func() { killed, killErr = e.killLeader(e.LedgerConfig.Bucket) })
		}
	}
	sum, rounds := tickUntilDone(t, e, reqs, p, 400)
	if killed < 0 {
		t.Fatalf("no leader was killed: %v", killErr)
	}
	t.Logf("leader %d killed at %s: %d requests done in %d rounds, %d errors counted", killed, point, len(reqs), rounds, sum.Errors)
	e.WaitCurrent()
	checkAllDone(t, e, reqs)
	// The member comes back and catches up: nothing changed meanwhile.
	e.Cluster.Restart(killed)
	e.WaitCurrent()
	checkAllDone(t, e, reqs)
}

// killLeader shuts down the member leading the ledger bucket's stream and
// returns its index. It runs on a tick's worker, so it reports trouble
// rather than failing the test.
func (e *env) killLeader(bucket string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := e.JetStream().Stream(ctx, "KV_"+bucket)
	if err != nil {
		return -1, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return -1, err
	}
	if info.Cluster == nil {
		return -1, errors.New("stream info without cluster")
	}
	for i, s := range e.Cluster.Servers() {
		if s.Name() == info.Cluster.Leader {
			s.Shutdown()
			return i, nil
		}
	}
	return -1, fmt.Errorf("leader %q is no member", info.Cluster.Leader)
}

// flakyPublisher fails publishes at random by its seed: some are never
// written (a stream that refuses, a connection that drops the message),
// some are written but their acknowledgement is lost (a publish timeout).
type flakyPublisher struct {
	base Publisher
	p    float64

	mu               sync.Mutex
	rng              *rand.Rand
	refused, ackLost int
}

var errPublishTimeout = errors.New("flaky publisher: nats: timeout")

func (f *flakyPublisher) Publish(ctx context.Context, e event.Event) (bus.PublishResult, error) {
	f.mu.Lock()
	roll := f.rng.Float64()
	f.mu.Unlock()
	switch {
	case roll < f.p/2:
		f.mu.Lock()
		f.refused++
		f.mu.Unlock()
		return bus.PublishResult{}, fmt.Errorf("publish %s: %w", e.ID(), errPublishTimeout)
	case roll < f.p:
		if _, err := f.base.Publish(ctx, e); err != nil {
			return bus.PublishResult{}, err
		}
		f.mu.Lock()
		f.ackLost++
		f.mu.Unlock()
		return bus.PublishResult{}, fmt.Errorf("publish %s: ack: %w", e.ID(), errPublishTimeout)
	}
	return f.base.Publish(ctx, e)
}

// TestTrouble_publishTimeouts: publishes fail at random, half of them
// after JetStream stored the event: every failure is counted as an error,
// no outcome is counted or finished before an acknowledgement, and every
// request ends with its one event.
func TestTrouble_publishTimeouts(t *testing.T) {
	t.Parallel()
	perSource := stacktest.Scale(1, 3)
	for _, seed := range stacktest.Seeds(t, 2, 16) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			reqs := e.batch(perSource)
			pub := &flakyPublisher{base: e.bus, p: 0.6, rng: rand.New(rand.NewPCG(seed, 0xf1a4))}
			p, _ := e.pollerWith("poll-1", pub, func(p *Policy) { p.Concurrency = 1 })
			sum, rounds := tickUntilDone(t, e, reqs, p, 400)
			t.Logf("seed %d: %d requests done in %d rounds; %d publishes refused, %d acknowledgements lost, %d errors counted",
				seed, len(reqs), rounds, pub.refused, pub.ackLost, sum.Errors)
			if sum.Errors < pub.refused+pub.ackLost {
				t.Errorf("%d errors counted for %d failed publishes", sum.Errors, pub.refused+pub.ackLost)
			}
			checkAllDone(t, e, reqs)
		})
	}
}
