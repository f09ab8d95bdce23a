package events_test

import (
	"net/http"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
)

// TestRoundTrip encodes every outcome in both content modes and reads it
// back through the one decoder's parser: nothing is lost or changed.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for name, e := range outcomes(t, origin()) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, body, err := events.BinaryHeaders(e)
			if err != nil {
				t.Fatal(err)
			}
			if h["ce-id"][0] != e.ID() || h["content-type"][0] != events.ContentType || h["ce-traceparent"][0] != traceParent {
				t.Errorf("binary headers = %v", h)
			}
			fromBinary, err := events.ParseMessage(h, body)
			if err != nil {
				t.Fatalf("parse binary: %v", err)
			}
			// HTTP canonicalises header names; the parser must not care.
			hh := http.Header{}
			for k, v := range h {
				hh[http.CanonicalHeaderKey(k)] = v
			}
			fromHTTP, err := events.ParseMessage(hh, body)
			if err != nil {
				t.Fatalf("parse HTTP binary: %v", err)
			}
			b, err := events.Structured(e)
			if err != nil {
				t.Fatal(err)
			}
			fromStructured, err := events.ParseMessage(nil, b)
			if err != nil {
				t.Fatalf("parse structured: %v", err)
			}
			for mode, got := range map[string]event.Event{"binary": fromBinary, "http": fromHTTP, "structured": fromStructured} {
				if diff := cmp.Diff(e.String(), got.String()); diff != "" {
					t.Errorf("%s round trip changed the event (-want +got):\n%s", mode, diff)
				}
			}
		})
	}
}

func TestBinaryHeaders_invalidEvent(t *testing.T) {
	t.Parallel()
	if _, _, err := events.BinaryHeaders(event.New()); err == nil {
		t.Error("BinaryHeaders of an event without id, source and type: no error")
	}
	if _, err := events.Structured(event.New()); err == nil {
		t.Error("Structured of an event without id, source and type: no error")
	}
}
