package events_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/events"
)

// TestDecode_idAndSourceAreBounded: a request's CloudEvent id and source
// travel onto every outcome and into the ledger's records, which NATS
// bounds (1 MiB by default). An id or a source over events.MaxIDSize is an
// invalid event — refused before anything is claimed or sent, with a
// rejection that names it (clipped) — while one of exactly MaxIDSize bytes
// is read as sent.
func TestDecode_idAndSourceAreBounded(t *testing.T) {
	t.Parallel()
	data := `{"server_id":"` + serverID + `","target":{"public_pool":true}}`
	request := func(id, source string) []byte {
		return []byte(`{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"` + events.TypeRequested + `","data":` + data + `}`)
	}
	longest := strings.Repeat("i", events.MaxIDSize)
	p, err := events.Decode(nil, request(longest, "/s"+strings.Repeat("s", events.MaxIDSize-2)))
	if err != nil || p.ID != longest || len(p.Source) != events.MaxIDSize {
		t.Fatalf("an id and a source of %d bytes: %v", events.MaxIDSize, err)
	}
	for name, body := range map[string][]byte{
		"id":     request(strings.Repeat("i", 800<<10), "/s"),
		"source": request("a", "/"+strings.Repeat("s", events.MaxIDSize)),
	} {
		_, err := events.Decode(nil, body)
		de, ok := errors.AsType[*events.DecodeError](err)
		if !ok || !errors.Is(err, events.ErrInvalidEvent) || len(de.Problems) != 1 || de.Problems[0].Field != name {
			t.Fatalf("an overlong %s: %v", name, err)
		}
		if len(de.Origin.RequestID) > events.MaxIDSize || len(de.Origin.RequestSource) > events.MaxIDSize || de.Origin.ServerID != serverID {
			t.Errorf("an overlong %s: origin id %.80q…, source %.80q…, server %q", name, de.Origin.RequestID, de.Origin.RequestSource, de.Origin.ServerID)
		}
	}
}
