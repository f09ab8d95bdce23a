package main

import (
	"cmp"
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

// group is the servers of one project in one region: one list call
// lists up to ecsclient.MaxListIDs of them.
type group struct{ region, project string }

// observer lists the servers of a tick's job records as the ledger scan
// hands them over, so that listing overlaps the scan: each project's
// servers go out, ecsclient.MaxListIDs at a time, as soon as that many
// are known, the rest when the scan ends. Every server is listed once.
// A project that is backing off after throttling is not listed; the first
// call of a project that fails ends its listing for this tick, and one
// that fails other than transiently (no permission to list, an API
// without the call) holds its listing back for Schedule.Max. The jobs of
// servers not listed are looked at on their schedule. Calls spend from
// the tick's budget and end by stopAt; at most Policy.Concurrency run at
// once.
type observer struct {
	p      *Poller
	ctx    context.Context
	stopAt time.Time
	spend  *spender
	tally  *tally
	obs    *observation
	sem    chan struct{}
	wg     sync.WaitGroup

	// Touched by feed only (the scan's goroutine).
	pending map[group][]string
	seen    map[serverKey]bool
	out     bool // the budget or the time ran out: no more calls

	mu     sync.Mutex
	failed map[string]bool // projects whose listing ended this tick
}

func (p *Poller) newObserver(ctx context.Context, stopAt time.Time, spend *spender, t *tally) *observer {
	return &observer{
		p: p, ctx: ctx, stopAt: stopAt, spend: spend, tally: t,
		obs: &observation{sight: map[serverKey]sight{}}, sem: make(chan struct{}, p.policy.Concurrency),
		pending: map[group][]string{}, seen: map[serverKey]bool{}, failed: map[string]bool{},
	}
}

// feed takes a batch of the scan's references.
func (o *observer) feed(refs []ledger.JobRef) {
	for _, ref := range refs {
		if ref.ServerID == "" {
			continue
		}
		k := keyOf(ref)
		if o.seen[k] {
			continue
		}
		o.seen[k] = true
		g := group{ref.Region, ref.ProjectID}
		o.pending[g] = append(o.pending[g], ref.ServerID)
		if len(o.pending[g]) == ecsclient.MaxListIDs {
			o.dispatch(listBatch{region: g.region, project: g.project, ids: o.pending[g]})
			o.pending[g] = nil
		}
	}
}

// wait lists the servers still pending, waits for every call and returns
// what the answers said.
func (o *observer) wait() *observation {
	groups := sortedGroups(o.pending)
	for _, g := range groups {
		if ids := o.pending[g]; len(ids) > 0 {
			o.dispatch(listBatch{region: g.region, project: g.project, ids: ids})
		}
	}
	o.wg.Wait()
	return o.obs
}

func sortedGroups(m map[group][]string) []group {
	gs := make([]group, 0, len(m))
	for g := range m {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b group) int {
		return cmp.Or(strings.Compare(a.region, b.region), strings.Compare(a.project, b.project))
	})
	return gs
}

func (o *observer) stopped(project string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failed[project]
}

// dispatch makes one list call in the background, if the tick can still
// pay for it.
func (o *observer) dispatch(b listBatch) {
	now := o.p.now()
	if o.out || o.stopped(b.project) {
		return
	}
	if _, held := o.p.throttle.held(b.project, now); held {
		return
	}
	if _, held := o.p.listHold.held(b.project, now); held {
		return
	}
	if o.ctx.Err() != nil || !o.p.wall().Before(o.stopAt) || !o.spend.take(1) {
		o.out = true
		return
	}
	o.wg.Go(func() {
		select {
		case o.sem <- struct{}{}:
		case <-o.ctx.Done():
			return
		}
		defer func() { <-o.sem }()
		if o.stopped(b.project) {
			return
		}
		ls, err := o.p.ecs.ListServers(o.ctx, b.region, b.project, b.ids)
		o.tally.add(func(s *Summary) { s.ListCalls++ })
		if err != nil {
			o.mu.Lock()
			first := !o.failed[b.project]
			o.failed[b.project] = true
			o.mu.Unlock()
			if first {
				o.p.listFailed(o.ctx, b, err, o.tally)
			}
			return
		}
		o.obs.put(b.region, b.project, ls)
		answered := 0
		for _, l := range ls {
			if l.Presence != ecsclient.ServerUnanswered {
				answered++
			}
		}
		o.tally.add(func(s *Summary) { s.Listed += answered })
	})
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
