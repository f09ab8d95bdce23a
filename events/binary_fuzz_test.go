package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// headerLines reads "name: value" lines into a header map as NATS keeps
// them: names in the case given (so "ce-id" and "CE-ID" are two keys), a
// repeated name adding a value. A line without a colon is skipped.
func headerLines(s string) map[string][]string {
	h := map[string][]string{}
	for line := range strings.SplitSeq(s, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h[name] = append(h[name], strings.TrimPrefix(value, " "))
	}
	return h
}

// binarySeed is a valid binary-mode request's headers, one per line.
const binarySeed = "ce-specversion: 1.0\nce-id: 9a8b7c6d\nce-source: /ops/cli\nce-type: " + events.TypeRequested +
	"\nce-subject: " + serverID + "\nce-traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\ncontent-type: application/json"

// FuzzDecodeBinary feeds the decoder arbitrary binary-mode headers (any
// names, in any letter case, repeated, percent-encoded values) and
// bodies. Besides never panicking, decoding the same message must always
// give the same answer — a header map has no order, so an attribute given
// under two spellings must not be read as whichever comes first — and
// whatever it returns must be safe to use: a valid server id, a trace
// context free of control characters.
func FuzzDecodeBinary(f *testing.F) {
	body := []byte(`{"server_id":"` + serverID + `","target":{"public_pool":true}}`)
	for _, h := range []string{
		binarySeed,
		binarySeed + "\nCE-ID: other",
		binarySeed + "\nce-id: second",
		binarySeed + "\nContent-Type: text/plain",
		binarySeed + "\nCe-Source: /elsewhere",
		strings.Replace(binarySeed, "ce-id: 9a8b7c6d", "ce-id: ..%2F..%2Fetc%2Fpasswd", 1),
		strings.Replace(binarySeed, "ce-id: 9a8b7c6d", "ce-id: a%0D%0AX-Injected: 1", 1),
		strings.Replace(binarySeed, "-01\n", "-01%0D%0Atracestate: x=y\n", 1),
		binarySeed + "\nce-tracestate: a=b%0D%0Ac=d",
		strings.Replace(binarySeed, "ce-subject: "+serverID, "ce-subject: *", 1),
		strings.Replace(binarySeed, "ce-specversion: 1.0", "ce-specversion: 0.3", 1),
		"ce-specversion: 1.0\ncontent-type: application/json",
		"CE-SPECVERSION: 1.0\nCE-ID: x\nCE-SOURCE: /s\nCE-TYPE: " + events.TypeRequested,
	} {
		f.Add(h, body)
	}
	f.Add(binarySeed, []byte(`{"server_id":"../../x","target":{"public_pool":true}}`))
	f.Add(binarySeed, []byte(`not json`))
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		h := headerLines(header)
		p, err := events.Decode(h, body)
		// Go randomises map order on every range: a few more decodes see
		// the headers in other orders.
		for range 4 {
			p2, err2 := events.Decode(h, body)
			if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
				t.Fatalf("the same message decoded as %v, then as %v", err, err2)
			}
			if diff := cmp.Diff(p, p2); diff != "" {
				t.Fatalf("the same message decoded differently (-first +then):\n%s", diff)
			}
		}
		if err != nil {
			de, ok := errors.AsType[*events.DecodeError](err)
			if !ok {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if s := de.Origin.ServerID; s != "" && !ids.Server.Valid(s) {
				t.Fatalf("origin server id %q is not a valid one", s)
			}
			if strings.ContainsAny(de.Origin.TraceParent+de.Origin.TraceState, "\r\n\x00") {
				t.Fatalf("trace context with control characters kept: %q %q", de.Origin.TraceParent, de.Origin.TraceState)
			}
			return
		}
		if !ids.Server.Valid(p.ServerID) || p.ID == "" || p.Source == "" {
			t.Fatalf("decoded request %+v", p)
		}
		if strings.ContainsAny(p.TraceParent+p.TraceState, "\r\n\x00") {
			t.Fatalf("trace context with control characters kept: %q %q", p.TraceParent, p.TraceState)
		}
	})
}

// TestParseBinary_repeatedAttributeIsRefused: an attribute given twice in
// binary mode — under two spellings of its header name, or as two values
// of one header — is ambiguous, as it is in structured mode: the message
// is refused whatever the order its headers are read in, never read as
// one of the two at random.
func TestParseBinary_repeatedAttributeIsRefused(t *testing.T) {
	t.Parallel()
	body := []byte(`{"server_id":"` + serverID + `","target":{"public_pool":true}}`)
	tests := map[string]struct {
		extra  map[string][]string
		field  string
		refuse bool // no readable id or source: refused without an event
	}{
		"id in two spellings":     {extra: map[string][]string{"CE-ID": {"other"}}, field: "id", refuse: true},
		"id twice":                {extra: map[string][]string{"ce-id": {"9a8b7c6d", "other"}}, field: "id", refuse: true},
		"source in two spellings": {extra: map[string][]string{"Ce-Source": {"/elsewhere"}}, field: "source", refuse: true},
		"type twice":              {extra: map[string][]string{"Ce-Type": {"com.example.other"}}, field: "type"},
		"content type twice":      {extra: map[string][]string{"Content-Type": {"text/plain"}}, field: "datacontenttype"},
		"extension twice":         {extra: map[string][]string{"CE-TRACEPARENT": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b8-01"}}, field: "traceparent"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := headerLines(binarySeed)
			for k, v := range tc.extra {
				h[k] = v
			}
			for range 20 { // every order the map may be read in
				_, err := events.Decode(h, body)
				de, ok := errors.AsType[*events.DecodeError](err)
				if !ok || !errors.Is(err, events.ErrInvalidEvent) {
					t.Fatalf("Decode = %v, want an invalid event", err)
				}
				found := false
				for _, p := range de.Problems {
					found = found || p.Field == tc.field && strings.Contains(p.Problem, "more than once")
				}
				if !found {
					t.Fatalf("problems %+v do not name %s given more than once", de.Problems, tc.field)
				}
				if refused := de.Origin.RequestID == "" || de.Origin.RequestSource == ""; refused != tc.refuse {
					t.Fatalf("origin %+v: refused = %v, want %v", de.Origin, refused, tc.refuse)
				}
			}
		})
	}
}
