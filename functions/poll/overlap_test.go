package main

import (
	"fmt"
	"sync"
	"testing"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

func TestTick_threeOverlappingTicksOver1000Jobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 1000
	host := e.sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 2 * n, MemoryMB: 4096 * n})
	target := ledger.Target{DedicatedHostID: host}
	reqs := make([]request, n)
	errs := make([]error, n)
	parallel(n, 8, func(i int) { reqs[i], errs[i] = e.trySubmit(submission{target: target}) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	e.sim.Advance(migration)

	var pollers []*Poller
	for i := range 3 {
		p, _ := e.poller(fmt.Sprintf("poll-%d", i))
		pollers = append(pollers, p)
	}
	sums := make([]Summary, len(pollers))
	tickErrs := make([]error, len(pollers))
	var wg sync.WaitGroup
	for i, p := range pollers {
		wg.Go(func() { sums[i], tickErrs[i] = p.Tick(t.Context()) })
	}
	wg.Wait()

	var total Summary
	for i, s := range sums {
		if tickErrs[i] != nil {
			t.Fatalf("tick %d: %v", i, tickErrs[i])
		}
		t.Logf("tick %d: %+v", i, s)
		total.Leased += s.Leased
		total.Completed += s.Completed
		total.Republished += s.Republished
		total.Errors += s.Errors
	}
	if total.Leased != n || total.Completed != n || total.Republished != 0 || total.Errors != 0 {
		t.Errorf("together: leased %d, completed %d, republished %d, errors %d; want %d leased and completed once each",
			total.Leased, total.Completed, total.Republished, total.Errors, n)
	}
	// Each job was asked about exactly once: no two ticks worked one job.
	if calls := e.sim.Calls(ecstest.OpShowJob); calls != n {
		t.Errorf("ShowJob calls = %d, want %d", calls, n)
	}

	perID := map[string]int{}
	perSubject := map[string]int{}
	for _, o := range e.outcomes() {
		if o.Event.Type() != events.TypeCompleted {
			t.Errorf("published %s", o.Event.Type())
		}
		perID[o.Event.ID()]++
		perSubject[o.Subject]++
	}
	for _, r := range reqs {
		id := events.OutcomeID(events.TypeCompleted, r.JobID, r.Key)
		if perID[id] != 1 || perSubject["coldmove.placement.completed."+r.ServerID] != 1 {
			t.Errorf("request %s: %d events with its id, %d on its subject; want 1 and 1", r.ID, perID[id], perSubject["coldmove.placement.completed."+r.ServerID])
		}
	}
	if len(perID) != n {
		t.Errorf("%d distinct events on the stream, want %d", len(perID), n)
	}
	if left := len(e.jobs()); left != 0 {
		t.Errorf("%d job records left", left)
	}
}
