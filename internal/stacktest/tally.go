package stacktest

import (
	"fmt"
	"slices"

	"github.com/coldmove/coldmove/events"
)

// RequestEvents is what the stream holds for one request, in stream order.
type RequestEvents struct {
	Accepted []Published
	Terminal []Published
}

// ByRequest returns the outcome events on the stream grouped by the
// request they answer: the key is [events.RequestKey] of the payload's
// request_source and request_id.
func (s *Stack) ByRequest() map[string]*RequestEvents {
	s.TB.Helper()
	out := make(map[string]*RequestEvents)
	for _, p := range s.Outcomes() {
		var c events.Correlation
		if err := p.Event.DataAs(&c); err != nil {
			s.TB.Fatalf("%s %s: data: %v", p.Event.Type(), p.Event.ID(), err)
		}
		key := events.RequestKey(c.RequestSource, c.RequestID)
		re := out[key]
		if re == nil {
			re = &RequestEvents{}
			out[key] = re
		}
		if p.Event.Type() == events.TypeAccepted {
			re.Accepted = append(re.Accepted, p)
		} else {
			re.Terminal = append(re.Terminal, p)
		}
	}
	return out
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
