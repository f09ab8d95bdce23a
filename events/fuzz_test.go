package events_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// FuzzDecodeMessage feeds the decoder arbitrary bodies, in structured mode
// and (when binary is set) as binary-mode data under fixed ce-* headers, one
// of them named by header. It must never panic; DecodeMessage must be Decode
// then CheckDeadline; every failure must be a *DecodeError of one
// documented kind with a valid reason, and an origin whose server id, if
// any, is valid; every success must be a valid request whose outcomes can
// be built.
func FuzzDecodeMessage(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false, "")
	}
	f.Add([]byte(`{"server_id":"`+serverID+`","target":{"public_pool":true}}`), true, "")
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"b","type":"`+events.TypeRequested+`","data_base64":"e30="}`), false, "x")
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"b","type":"t","ext":true,"n":12,"data":null}`), false, "")
	f.Add([]byte(`{"server_id":"`+serverID+`","target":{"public_pool":true},"target":{"public_pool":true}}`), true, "")
	f.Add([]byte(`{"server_id":"`+serverID+`","target":{"public_pool":true},"x":[{"a":1,"a":[[[]]]}]}`), true, "")
	f.Add([]byte(`{"server_id":"`+serverID+`","target":{"public_pool":true},"deadline":"2001-01-01T00:00:00Z"}`), true, "")
	f.Add([]byte(`{"specversion":"1.0","id":"a","source":"b","type":"t","id":"c","data":{"server_id":"`+serverID+`"}}`), false, "")
	f.Add([]byte(`{"server_id":"`+serverID+`"}`), true, "type")
	f.Add([]byte(`{"server_id":"`+serverID+`","target":{"public_pool":true}}`), true, "tracestate")
	// Hostile structured requests: ids that must never reach a subject, a
	// URL or a key; trace context with line breaks; nesting past the limit
	// and past encoding/json's; other specversions; base64 data.
	structured := func(extra, data string) []byte {
		return []byte(`{"specversion":"1.0","id":"h","source":"/fuzz","type":"` + events.TypeRequested + `"` + extra + `,"data":` + data + `}`)
	}
	good := `{"server_id":"` + serverID + `","target":{"public_pool":true}}`
	for _, id := range []string{"../../etc/passwd", "a%2Fb", "*", ">", "a b", "\u0000\r\n", "☃", strings.Repeat("f", 300)} {
		f.Add(structured("", `{"server_id":"`+id+`","target":{"dedicated_host_id":"`+id+`"},"project_id":"`+id+`","region":"`+id+`"}`), false, "")
		f.Add(structured(`,"subject":"`+id+`"`, good), false, "")
		f.Add([]byte(`{"specversion":"1.0","id":"`+id+`","source":"`+id+`","type":"`+events.TypeRequested+`","data":`+good+`}`), false, "")
	}
	f.Add(structured(`,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y"`, good), false, "")
	f.Add(structured(`,"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","tracestate":"a=b\r\nc=d"`, good), false, "")
	f.Add(structured(`,"region":"`+strings.Repeat("a", 35)+`"`, `{"server_id":"`+serverID+`","target":{"public_pool":true},"region":"`+strings.Repeat("a", 35)+`"}`), false, "")
	f.Add(structured("", `{"server_id":"`+serverID+`","target":{"public_pool":true,"dedicated_host_id":"`+serverID+`"}}`), false, "")
	f.Add(structured("", `{"server_id":"`+serverID+`","target":{"public_pool":true},"x":`+strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat(`}`, 40)+`}`), false, "")
	f.Add(structured("", strings.Repeat(`[`, 11000)+strings.Repeat(`]`, 11000)), false, "")
	f.Add(structured("", `{"server_id":7,"target":"pool","deadline":12}`), false, "")
	f.Add([]byte(`{"specversion":"0.3","id":"h","source":"/fuzz","type":"`+events.TypeRequested+`","data":`+good+`}`), false, "")
	f.Add([]byte(`{"specversion":"1.0","id":"h","source":"/fuzz","type":"`+events.TypeRequested+`","data_base64":"eyJzZXJ2ZXJfaWQiOiIuLi8ifQ=="}`), false, "")
	f.Add([]byte(`{"specversion":"1.0","id":"h","source":"/fuzz","type":"`+events.TypeRequested+`","data_base64":"%%%"}`), false, "")
	f.Add(structured("", `{"server_id":"`+serverID+`","target":{"public_pool":true},"pad":"`+strings.Repeat("x", 70<<10)+`"}`), false, "")
	kinds := []error{events.ErrNotCloudEvent, events.ErrSpecVersion, events.ErrInvalidEvent,
		events.ErrUnsupportedType, events.ErrInvalidPayload, events.ErrDataTooLarge}
	f.Fuzz(func(t *testing.T, body []byte, binary bool, header string) {
		var h map[string][]string
		if binary {
			h = map[string][]string{
				"ce-specversion": {"1.0"}, "ce-id": {"fz"}, "ce-source": {"/fuzz"},
				"ce-type": {events.TypeRequested}, "content-type": {"application/json"},
			}
			if header != "" {
				h["ce-"+strings.ToLower(header)] = []string{header}
			}
		}
		p, err := events.Decode(h, body)
		if err == nil {
			// DecodeMessage is Decode, then CheckDeadline.
			late := p.CheckDeadline(now)
			_, errAt := events.DecodeMessage(h, body, now)
			if (late == nil) != (errAt == nil) {
				t.Fatalf("CheckDeadline = %v, DecodeMessage = %v", late, errAt)
			}
			if late != nil {
				err, p = late, nil
			}
		}
		if err != nil {
			var de *events.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			known := false
			for _, k := range kinds {
				known = known || errors.Is(err, k)
			}
			if !known || !de.Reason.Valid() || err.Error() == "" {
				t.Fatalf("unspecific error %q (reason %q)", err, de.Reason)
			}
			if (de.Kind == events.ErrInvalidEvent || de.Kind == events.ErrInvalidPayload) && len(de.Problems) == 0 {
				t.Fatalf("%v without field problems", err)
			}
			if s := de.Origin.ServerID; s != "" && !ids.Server.Valid(s) {
				t.Fatalf("origin server id %q is not a valid one", s)
			}
			if _, err := events.NewRejected(de.Origin, de.Rejection(), now); err != nil {
				t.Fatalf("cannot reject %q: %v", body, err)
			}
			return
		}
		if err := p.ValidateAt(now); err != nil {
			t.Fatalf("decoded request does not validate: %v", err)
		}
		o := p.Origin()
		o.ProjectID = projectID
		if _, err := events.NewAccepted(o, "job", now.Add(1), now); err != nil {
			t.Fatalf("cannot accept decoded request: %v", err)
		}
	})
}
