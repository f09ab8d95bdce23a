package main

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ledger"
)

// raceAfterList is the real ledger, except that right after listing the
// due jobs another poller leases them all: the listing's revisions are
// stale by the time this poller leases.
type raceAfterList struct {
	Ledger
	other *ledger.Ledger
}

func (r raceAfterList) ListDueEach(ctx context.Context, each func([]ledger.JobRef)) (ledger.Schedule, error) {
	s, err := r.Ledger.ListDueEach(ctx, each)
	if err != nil {
		return s, err
	}
	for _, ref := range s.Due {
		if _, err := r.other.Lease(ctx, ref, time.Minute); err != nil {
			return s, err
		}
	}
	return s, nil
}

func TestTick_leaseLostToAnotherPoller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 3
	for range n {
		e.submit(submission{})
	}
	e.sim.Advance(migration)
	real, led := e.poller("poll-1")
	p := NewPoller(real.ecs, e.bus, raceAfterList{Ledger: led, other: e.ledger("poll-2")}, DefaultPolicy(4), WithClock(e.clock.Now))

	got := mustTick(t, t.Context(), p)
	want := Summary{Jobs: n, Due: n, LeaseLost: n, ListCalls: 1, Listed: n}
	if diff := cmp.Diff(want, got, ignoreDuration); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if calls := e.sim.Calls("ShowJob"); calls != 0 {
		t.Errorf("%d ShowJob calls for jobs another poller holds", calls)
	}
}

func TestTick_listingFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.submit(submission{})
	nc := e.nats.Connect()
	led, err := ledger.Open(t.Context(), mustJS(t, nc), e.cfg.Ledger, ledger.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	real, _ := e.poller("poll-1")
	p := NewPoller(real.ecs, e.bus, led, DefaultPolicy(1), WithClock(e.clock.Now))
	nc.Close()

	got, err := p.Tick(t.Context())
	if err == nil || got.Errors != 1 || got.Leased != 0 {
		t.Fatalf("Tick = %+v, %v; want an error and nothing leased", got, err)
	}
}
