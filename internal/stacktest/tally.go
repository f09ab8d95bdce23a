package stacktest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/coldmove/coldmove/events"
)

// RequestEvents is what the stream holds for one request, in stream order:
// its accepted events, its progressed events (the power steps) and its
// terminal events.
type RequestEvents struct {
	Accepted   []Published
	Progressed []Published
	Terminal   []Published
}

// All returns every outcome event of the request, in stream order.
func (re *RequestEvents) All() []Published {
	if re == nil {
		return nil
	}
	out := slices.Concat(re.Accepted, re.Progressed, re.Terminal)
	slices.SortFunc(out, func(a, b Published) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}

// Steps returns the progressed events of the request by their step
// (events.Step).
func (re *RequestEvents) Steps(tb testing.TB) map[events.Step][]Published {
	tb.Helper()
	out := make(map[events.Step][]Published)
	for _, p := range re.Progressed {
		st := Data[events.Progressed](tb, p.Event).Step
		out[st] = append(out[st], p)
	}
	return out
}

// ByRequest returns the outcome events on the stream grouped by the
// request they answer: the key is [events.RequestKey] of the payload's
// request_source and request_id.
func (s *Stack) ByRequest() map[string]*RequestEvents {
	s.TB.Helper()
	out := make(map[string]*RequestEvents)
	for _, p := range s.Outcomes() {
		s.group(out, p)
	}
	return out
}

// group adds an outcome event to the events of its request.
func (s *Stack) group(byReq map[string]*RequestEvents, p Published) {
	s.TB.Helper()
	var c events.Correlation
	if err := p.Event.DataAs(&c); err != nil {
		s.TB.Fatalf("%s %s: data: %v", p.Event.Type(), p.Event.ID(), err)
	}
	key := events.RequestKey(c.RequestSource, c.RequestID)
	re := byReq[key]
	if re == nil {
		re = &RequestEvents{}
		byReq[key] = re
	}
	switch p.Event.Type() {
	case events.TypeAccepted:
		re.Accepted = append(re.Accepted, p)
	case events.TypeProgressed:
		re.Progressed = append(re.Progressed, p)
	default:
		re.Terminal = append(re.Terminal, p)
	}
}

// Follower groups the outcome events on the stream by request, as
// [Stack.ByRequest] does, reading only what was published since its last
// read: for harnesses that check the stream after every round.
type Follower struct {
	s     *Stack
	last  uint64
	byReq map[string]*RequestEvents
}

// Follow returns a follower of the stream, which has read nothing yet.
func (s *Stack) Follow() *Follower {
	return &Follower{s: s, byReq: make(map[string]*RequestEvents)}
}

// ByRequest reads the events published since the last call and returns
// every outcome event so far, grouped by request. The map and its values
// are the follower's: they change with the next call.
func (f *Follower) ByRequest() map[string]*RequestEvents {
	f.s.TB.Helper()
	for _, p := range f.s.EventsAfter(f.last) {
		f.last = p.Seq
		if p.Event.Type() != events.TypeRequested {
			f.s.group(f.byReq, p)
		}
	}
	return f.byReq
}

// Count is how often events occur on the stream, counted two ways: by
// CloudEvent id, and by content (type and request). A JetStream duplicate
// window that let a re-publish through shows as one id twice; two
// different events for one outcome as one content twice.
type Count struct {
	Messages int
	IDs      map[string]int
	Contents map[string]int
}

// CountOf counts events of one request.
func CountOf(ps []Published) Count {
	c := Count{Messages: len(ps), IDs: map[string]int{}, Contents: map[string]int{}}
	for _, p := range ps {
		c.IDs[p.Event.ID()]++
		var corr events.Correlation
		_ = p.Event.DataAs(&corr)
		c.Contents[p.Event.Type()+" "+events.RequestKey(corr.RequestSource, corr.RequestID)]++
	}
	return c
}

// Once reports whether the events are one event, once: one message, one
// id, one content.
func (c Count) Once() bool {
	return c.Messages == 1 && len(c.IDs) == 1 && len(c.Contents) == 1
}

// AtMostOnce reports whether there is no event, or one, once.
func (c Count) AtMostOnce() bool { return c.Messages == 0 || c.Once() }

// String lists the counts, for failure messages.
func (c Count) String() string {
	ids := make([]string, 0, len(c.IDs))
	for id, n := range c.IDs {
		ids = append(ids, fmt.Sprintf("%s×%d", id, n))
	}
	slices.Sort(ids)
	contents := make([]string, 0, len(c.Contents))
	for k, n := range c.Contents {
		contents = append(contents, fmt.Sprintf("%s×%d", k, n))
	}
	slices.Sort(contents)
	return fmt.Sprintf("%d messages; by id %v; by content %v", c.Messages, ids, contents)
}
