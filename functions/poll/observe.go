package main

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ledger"
)

// Bulk observation. Each tick reads every outstanding server with
// ListServersDetails, up to ecsclient.MaxListIDs in one call, and spends
// a ShowJob only where the answer says the job may have moved on: the
// server settled (idle, or in ERROR) in a state other than the one seen at
// the job's last look, or it vanished. A server the list shows busy (a
// migration or a power action running) needs no ShowJob: its job runs.
// ShowJob stays the authority for every outcome; the list only says when
// to ask, and stands in for ShowServer where an answer of this tick
// describes the server. A job whose server the list did not answer about
// (the call failed, the entry is missing) is looked at on the per-job
// schedule, as without bulk observation.

// sight is what this tick's list answer said about a job's server; the
// zero value, ecsclient.ServerUnanswered, says nothing.
type sight = ecsclient.ServerLookup

// seenMissing is the seen token of a server the list said does not
// exist.
const seenMissing = "missing"

// seenOf returns the token of the state a sight describes, kept as the
// job's Seen at a look so that a later answer can be compared with it: a
// hash of status, task, placement and updated time, or seenMissing; ""
// when the sight says nothing.
func seenOf(s sight) string {
	switch s.Presence {
	case ecsclient.ServerMissing:
		return seenMissing
	case ecsclient.ServerFound:
		h := fnv.New64a()
		srv := s.Server
		for _, f := range []string{srv.Status, srv.TaskState, strings.ToLower(srv.DedicatedHostID), srv.Updated} {
			h.Write([]byte(f))
			h.Write([]byte{0})
		}
		return fmt.Sprintf("%016x", h.Sum64())
	}
	return ""
}

// busy reports whether the sight shows the server in the middle of
// something, so that its job still runs.
func busy(s sight) bool { return s.Presence == ecsclient.ServerFound && s.Server.Busy() }

// changed reports whether the sight says the job may have moved on since
// its last look, whose token is seen: the server settled in another state,
// or vanished.
func changed(s sight, seen string) bool {
	switch s.Presence {
	case ecsclient.ServerMissing:
		return seen != seenMissing
	case ecsclient.ServerFound:
		return !s.Server.Busy() && seenOf(s) != seen
	}
	return false
}

// serverKey names a server of a project in a region; the id is lower
// case, as ids compare.
type serverKey struct{ region, project, server string }

func keyOf(ref ledger.JobRef) serverKey {
	return serverKey{ref.Region, ref.ProjectID, strings.ToLower(ref.ServerID)}
}

// observation holds this tick's list answers.
type observation struct {
	mu    sync.Mutex
	sight map[serverKey]sight
}

// of returns what the list said about the server of ref.
func (o *observation) of(ref ledger.JobRef) sight {
	if o == nil || ref.ServerID == "" {
		return sight{}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sight[keyOf(ref)]
}

func (o *observation) put(region, project string, ls []ecsclient.ServerLookup) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, l := range ls {
		o.sight[serverKey{region, project, strings.ToLower(l.ID)}] = l
	}
}

// listBatch is one ListServersDetails call of a tick.
type listBatch struct {
	region, project string
	ids             []string
}

// batches groups the servers of refs by region and project, each server
// once, in calls of at most ecsclient.MaxListIDs ids, in the order the
// refs come (most urgent first).
func batches(refs []ledger.JobRef) []listBatch {
	type group struct{ region, project string }
	var order []group
	ids := map[group][]string{}
	seen := map[serverKey]bool{}
	for _, ref := range refs {
		if ref.ServerID == "" {
			continue
		}
		k := keyOf(ref)
		if seen[k] {
			continue
		}
		seen[k] = true
		g := group{ref.Region, ref.ProjectID}
		if _, ok := ids[g]; !ok {
			order = append(order, g)
		}
		ids[g] = append(ids[g], ref.ServerID)
	}
	var out []listBatch
	for _, g := range order {
		for chunk := range slices.Chunk(ids[g], ecsclient.MaxListIDs) {
			out = append(out, listBatch{region: g.region, project: g.project, ids: chunk})
		}
	}
	return out
}

// observe lists the servers of refs, as many calls as spend allows and
// until stopAt on the wall clock, at most Policy.Concurrency at once. A project that is backing off after
// throttling is not listed; the first call of a project that fails ends
// its listing for this tick, and one that fails other than transiently
// (no permission to list, an API without the call) holds its listing
// back for Schedule.Max. The jobs of servers not listed are looked at on
// their schedule.
func (p *Poller) observe(ctx context.Context, stopAt time.Time, refs []ledger.JobRef, spend *spender, t *tally) *observation {
	o := &observation{sight: map[serverKey]sight{}}
	var (
		mu     sync.Mutex
		failed = map[string]bool{} // projects whose listing ended this tick
	)
	sem := make(chan struct{}, p.policy.Concurrency)
	var wg sync.WaitGroup
	now := p.now()
	for _, b := range batches(refs) {
		if _, held := p.throttle.held(b.project, now); held {
			continue
		}
		if _, held := p.listHold.held(b.project, now); held {
			continue
		}
		mu.Lock()
		stop := failed[b.project]
		mu.Unlock()
		if stop {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || !p.wall().Before(stopAt) || !spend.take(1) {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			mu.Lock()
			stop := failed[b.project]
			mu.Unlock()
			if stop {
				return
			}
			ls, err := p.ecs.ListServers(ctx, b.region, b.project, b.ids)
			t.add(func(s *Summary) { s.ListCalls++ })
			if err != nil {
				mu.Lock()
				first := !failed[b.project]
				failed[b.project] = true
				mu.Unlock()
				if first {
					p.listFailed(ctx, b, err, t)
				}
				return
			}
			o.put(b.region, b.project, ls)
			answered := 0
			for _, l := range ls {
				if l.Presence != ecsclient.ServerUnanswered {
					answered++
				}
			}
			t.add(func(s *Summary) { s.Listed += answered })
		})
	}
	wg.Wait()
	return o
}

// listFailed handles the first failed list call of a project in a tick.
func (p *Poller) listFailed(ctx context.Context, b listBatch, err error, t *tally) {
	t.add(func(s *Summary) { s.Errors++ })
	now := p.now()
	switch {
	case errors.Is(err, ecsclient.ErrThrottled):
		until := now.Add(p.policy.Schedule.Throttled)
		p.throttle.hold(b.project, until)
		p.log.WarnContext(ctx, "throttled listing servers: backing off the project", "project_id", b.project, "until", until, "error", err)
	case ctx.Err() != nil || ecsclient.IsTransient(err):
		p.log.WarnContext(ctx, "list servers failed; their jobs are looked at on their schedule", "project_id", b.project, "error", err)
	default:
		until := now.Add(p.policy.Schedule.Max)
		p.listHold.hold(b.project, until)
		p.log.WarnContext(ctx, "cannot list servers: jobs of the project are looked at on their schedule until then",
			"project_id", b.project, "until", until, "error", err)
	}
}

// spender is a tick's budget of ECS calls: what the request rate pays
// for before the tick stops calling.
type spender struct {
	mu   sync.Mutex
	left float64 // +Inf without a rate
}

// callMargin is the least time a tick keeps at the end of its calls for
// the last ones to be answered.
const callMargin = 250 * time.Millisecond

// newSpender returns the budget of a tick that may call for d, spending
// from lim (no limit when lim is nil or infinite): the calls lim has now,
// and those its rate pays for in d less a margin for the last calls to be
// answered (a tenth of d, at least callMargin).
func newSpender(lim *rate.Limiter, d time.Duration) *spender {
	if lim == nil || lim.Limit() == rate.Inf {
		return &spender{left: math.Inf(1)}
	}
	paid := max(d-max(d/10, callMargin), 0)
	return &spender{left: lim.Tokens() + float64(lim.Limit())*paid.Seconds()}
}

// take reserves n calls, if the budget has them.
func (s *spender) take(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if float64(n) > s.left {
		return false
	}
	s.left -= float64(n)
	return true
}
