package events_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// now is the fixed clock of these tests: the fixtures' deadlines are in
// 2030, and the past one is in 2001.
var now = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

const (
	serverID  = "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10"
	hostID    = "5c3f2a4e-8d7b-4e1f-9a6c-1d2e3f4a5b6c"
	projectID = "0605767a2b00d4e22f46c00a6d3a5c19"
)

func mustRead(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// binaryFixture is a binary-mode message stored as JSON.
type binaryFixture struct {
	Headers map[string][]string `json:"headers"`
	Body    json.RawMessage     `json:"body"`
}

func mustBinary(t testing.TB, name string) binaryFixture {
	t.Helper()
	var f binaryFixture
	if err := json.Unmarshal(mustRead(t, name), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDecodeMessage_valid(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		header map[string][]string
		body   []byte
		want   *events.Placement
	}{
		"structured dedicated host": {
			body: mustRead(t, "request-dedicated-host.json"),
			want: &events.Placement{
				ID: "4f8e2a7c-1b3d-4e5f-8a9b-0c1d2e3f4a5b", Source: "/capacity-planner/rebalance",
				Time: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC),
				Request: events.Request{
					ServerID: serverID, Target: events.HostTarget(hostID),
					ProjectID: projectID, Region: "cn-north-4", Deadline: &deadline,
				},
			},
		},
		"structured public pool with trace": {
			body: mustRead(t, "request-public-pool.json"),
			want: &events.Placement{
				ID: "7d1c9e2b-5a4f-4c3b-9e8d-1f2a3b4c5d6e", Source: "/maintenance/decommission-deh",
				TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
				TraceState:  "vendor=opaque",
				Request:     events.Request{ServerID: serverID, Target: events.PublicPoolTarget()},
			},
		},
		"binary NATS headers": {
			header: mustBinary(t, "request-binary.json").Headers,
			body:   mustBinary(t, "request-binary.json").Body,
			want: &events.Placement{
				ID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Source: "/ops/cli",
				TraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
				Request:     events.Request{ServerID: serverID, Target: events.HostTarget(hostID)},
			},
		},
		"binary HTTP canonical headers": {
			header: http.Header{
				"Ce-Specversion": {"1.0"}, "Ce-Id": {"h1"}, "Ce-Source": {"/http"},
				"Ce-Type": {events.TypeRequested}, "Content-Type": {"application/json; charset=utf-8"},
			},
			body: []byte(`{"server_id":"` + serverID + `","target":{"public_pool":true}}`),
			want: &events.Placement{ID: "h1", Source: "/http",
				Request: events.Request{ServerID: serverID, Target: events.PublicPoolTarget()}},
		},
		"structured data_base64": {
			body: []byte(`{"specversion":"1.0","id":"b64","source":"/t","type":"` + events.TypeRequested +
				`","datacontenttype":"application/json","data_base64":"eyJzZXJ2ZXJfaWQiOiIwYjlhM2IxZS02ZjBjLTRkM2MtOWM1My0yYjFmM2Y2YTllMTAiLCJ0YXJnZXQiOnsicHVibGljX3Bvb2wiOnRydWV9fQ=="}`),
			want: &events.Placement{ID: "b64", Source: "/t",
				Request: events.Request{ServerID: serverID, Target: events.PublicPoolTarget()}},
		},
		"malformed traceparent is dropped, not fatal": {
			body: []byte(`{"specversion":"1.0","id":"tp","source":"/t","type":"` + events.TypeRequested +
				`","traceparent":"garbage","data":{"server_id":"` + serverID + `","target":{"public_pool":true}}}`),
			want: &events.Placement{ID: "tp", Source: "/t",
				Request: events.Request{ServerID: serverID, Target: events.PublicPoolTarget()}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := events.DecodeMessage(tc.header, tc.body, now)
			if err != nil {
				t.Fatalf("DecodeMessage: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("placement mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// request returns a structured request envelope around the JSON data.
func request(id, data string) []byte {
	return []byte(`{"specversion":"1.0","id":"` + id + `","source":"/t","type":"` + events.TypeRequested + `","data":` + data + `}`)
}

// nested returns n objects nested in one another, as the value of key "x".
func nested(n int) string {
	return strings.Repeat(`{"x":`, n) + "1" + strings.Repeat("}", n)
}

func TestDecode_invalid(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body     []byte
		kind     error
		reason   events.RejectReason
		problems map[string]string // field → problem; nil means none expected
		origin   events.Origin     // the correlation fields that must have been read
	}{
		"not JSON": {
			body: mustRead(t, "invalid-not-json.txt"), kind: events.ErrNotCloudEvent, reason: events.RejectInvalidEvent,
		},
		"JSON array": {
			body: []byte(`[1,2]`), kind: events.ErrNotCloudEvent, reason: events.RejectInvalidEvent,
		},
		"no specversion": {
			body: mustRead(t, "invalid-no-specversion.json"), kind: events.ErrNotCloudEvent, reason: events.RejectInvalidEvent,
			origin: events.Origin{RequestID: "x1", RequestSource: "/t"},
		},
		"specversion 0.3": {
			body: mustRead(t, "invalid-specversion.json"), kind: events.ErrSpecVersion, reason: events.RejectInvalidEvent,
			origin: events.Origin{RequestID: "x2", RequestSource: "/t"},
		},
		"bad attributes": {
			body: mustRead(t, "invalid-attributes.json"), kind: events.ErrInvalidEvent, reason: events.RejectInvalidEvent,
			problems: map[string]string{
				"id":     "is required and must not be empty",
				"source": "must be a string",
				"time":   "must be an RFC 3339 time",
			},
			origin: events.Origin{ServerID: serverID, Target: events.PublicPoolTarget()},
		},
		"wrong type": {
			body: mustRead(t, "invalid-wrong-type.json"), kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "x3", RequestSource: "/t", ServerID: serverID, Target: events.PublicPoolTarget()},
		},
		"wrong type, every readable field read": {
			body: []byte(`{"specversion":"1.0","id":"w1","source":"/t","type":"dev.coldmove.placement.bogus","data":` +
				`{"server_id":"` + serverID + `","project_id":"` + projectID + `","region":"cn-north-4","target":{"dedicated_host_id":"` + hostID + `"},"deadline":7}}`),
			kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "w1", RequestSource: "/t", ServerID: serverID, ProjectID: projectID,
				Region: "cn-north-4", Target: events.HostTarget(hostID)},
		},
		"wrong type, hostile server id and subject left out": {
			body: []byte(`{"specversion":"1.0","id":"w2","source":"/t","type":"dev.coldmove.placement.bogus","subject":"a.>",` +
				`"data":{"server_id":"coldmove.>","region":"` + strings.Repeat("r", 300) + `","target":{"dedicated_host_id":"` + strings.Repeat("h", 300) + `"}}}`),
			kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "w2", RequestSource: "/t", Region: strings.Repeat("r", 256),
				Target: events.HostTarget(strings.Repeat("h", 256))},
		},
		"wrong type, data not JSON": {
			body: []byte(`{"specversion":"1.0","id":"w3","source":"/t","type":"other","datacontenttype":"text/plain","data":"{\"server_id\":\"` + serverID + `\"}"}`),
			kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "w3", RequestSource: "/t"},
		},
		"wrong type, data not an object": {
			body: []byte(`{"specversion":"1.0","id":"w4","source":"/t","type":"other","data":[1,2]}`),
			kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "w4", RequestSource: "/t"},
		},
		"wrong type, data over the limit is not read": {
			body: []byte(`{"specversion":"1.0","id":"w5","source":"/t","type":"other","data":{"server_id":"` + serverID +
				`","pad":"` + strings.Repeat("x", events.MaxDataSize) + `"}}`),
			kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "w5", RequestSource: "/t"},
		},
		"wrong type, ambiguous server id not read": {
			body: []byte(`{"specversion":"1.0","id":"w6","source":"/t","type":"other","data":{"server_id":"` + serverID +
				`","server_id":"` + hostID + `","target":{"public_pool":true}}}`),
			kind: events.ErrUnsupportedType, reason: events.RejectUnsupportedType,
			origin: events.Origin{RequestID: "w6", RequestSource: "/t", Target: events.PublicPoolTarget()},
		},
		"bad attribute, data read from base64": {
			body: []byte(`{"specversion":"1.0","id":"b1","source":"/t","type":"` + events.TypeRequested + `","time":"soon",` +
				`"data_base64":"eyJzZXJ2ZXJfaWQiOiIwYjlhM2IxZS02ZjBjLTRkM2MtOWM1My0yYjFmM2Y2YTllMTAiLCJ0YXJnZXQiOnsicHVibGljX3Bvb2wiOnRydWV9fQ=="}`),
			kind: events.ErrInvalidEvent, reason: events.RejectInvalidEvent,
			problems: map[string]string{"time": "must be an RFC 3339 time"},
			origin:   events.Origin{RequestID: "b1", RequestSource: "/t", ServerID: serverID, Target: events.PublicPoolTarget()},
		},
		"repeated key at the top": {
			body: request("k1", `{"server_id":"`+serverID+`","target":{"dedicated_host_id":"`+hostID+`"},"target":{"public_pool":true}}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"data": `repeats the key "target"`},
			origin:   events.Origin{RequestID: "k1", RequestSource: "/t", ServerID: serverID},
		},
		"repeated key in target": {
			body: request("k2", `{"server_id":"`+serverID+`","target":{"dedicated_host_id":"`+hostID+`","dedicated_host_id":"`+serverID+`"}}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"target": `repeats the key "dedicated_host_id"`},
			origin:   events.Origin{RequestID: "k2", RequestSource: "/t", ServerID: serverID},
		},
		"repeated key spelt with an escape": {
			body: request("k3", `{"server_id":"`+serverID+`","target":{"public_pool":true},"t\u0061rget":{"public_pool":true}}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"data": `repeats the key "target"`},
			origin:   events.Origin{RequestID: "k3", RequestSource: "/t", ServerID: serverID},
		},
		"repeated key deep in an unknown field": {
			body: request("k4", `{"server_id":"`+serverID+`","target":{"public_pool":true},"extra":[{"a":1},{"b":[{"c":1,"c":[2]}]}],"x.y":{"z":1,"z":2}}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{
				"extra[1].b[0]": `repeats the key "c"`,
				`["x.y"]`:       `repeats the key "z"`,
			},
			origin: events.Origin{RequestID: "k4", RequestSource: "/t", ServerID: serverID, Target: events.PublicPoolTarget()},
		},
		"repeated server id, with every other problem": {
			body: request("k5", `{"server_id":"`+serverID+`","server_id":"`+hostID+`","target":{},"project_id":"abc"}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{
				"data":       `repeats the key "server_id"`,
				"target":     `is empty: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`,
				"project_id": "must be " + ids.Project.Rule(),
			},
			origin: events.Origin{RequestID: "k5", RequestSource: "/t", ProjectID: "abc", Target: &events.Target{}},
		},
		"nesting 32 levels deep is read": {
			body: request("n1", `{"server_id":"`+serverID+`","target":{"dedicated_host_id":"x"},"deep":`+nested(31)+`}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"target.dedicated_host_id": "must be " + ids.DedicatedHost.Rule()},
			origin:   events.Origin{RequestID: "n1", RequestSource: "/t", ServerID: serverID, Target: events.HostTarget("x")},
		},
		"nesting 33 levels deep is refused": {
			body: request("n2", `{"server_id":"`+serverID+`","target":{"public_pool":true},"deep":`+nested(32)+`}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"deep" + strings.Repeat(".x", 31): "nests deeper than 32 levels"},
			origin:   events.Origin{RequestID: "n2", RequestSource: "/t", ServerID: serverID, Target: events.PublicPoolTarget()},
		},
		"nesting far too deep is refused, not recursed into": {
			body: request("n3", `{"server_id":"`+serverID+`","target":{"public_pool":true},"deep":[`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`]}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"deep" + strings.Repeat("[0]", 31): "nests deeper than 32 levels"},
			origin:   events.Origin{RequestID: "n3", RequestSource: "/t", ServerID: serverID, Target: events.PublicPoolTarget()},
		},
		"repeated attribute": {
			body: []byte(`{"specversion":"1.0","id":"a1","source":"/t","type":"` + events.TypeRequested + `",` +
				`"data":{"server_id":"` + serverID + `","target":{"dedicated_host_id":"` + hostID + `"}},` +
				`"data":{"server_id":"` + serverID + `","target":{"public_pool":true}}}`),
			kind: events.ErrInvalidEvent, reason: events.RejectInvalidEvent,
			problems: map[string]string{"data": "is given more than once"},
			origin:   events.Origin{RequestID: "a1", RequestSource: "/t"},
		},
		"repeated specversion": {
			body: []byte(`{"specversion":"1.0","specversion":"0.3","id":"a2","source":"/t","type":"` + events.TypeRequested + `","data":{}}`),
			kind: events.ErrInvalidEvent, reason: events.RejectInvalidEvent,
			problems: map[string]string{"specversion": "is given more than once"},
			origin:   events.Origin{RequestID: "a2", RequestSource: "/t"},
		},
		"target both": {
			body: mustRead(t, "invalid-target-both.json"), kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"target": "names both a dedicated host and the public pool; give exactly one"},
			origin: events.Origin{RequestID: "x4", RequestSource: "/t", ServerID: serverID,
				Target: &events.Target{DedicatedHostID: hostID, PublicPool: true}},
		},
		"target empty": {
			body: mustRead(t, "invalid-target-empty.json"), kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"target": `is empty: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`},
			origin:   events.Origin{RequestID: "x5", RequestSource: "/t", ServerID: serverID, Target: &events.Target{}},
		},
		"target null": {
			body: mustRead(t, "invalid-target-null.json"), kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"target": `must not be null: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`},
			origin:   events.Origin{RequestID: "x6", RequestSource: "/t", ServerID: serverID},
		},
		"target missing": {
			body: mustRead(t, "invalid-target-missing.json"), kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"target": `is required: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`},
			origin:   events.Origin{RequestID: "x7", RequestSource: "/t", ServerID: serverID},
		},
		"every field wrong at once (the past deadline is judged later)": {
			body: mustRead(t, "invalid-fields.json"), kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{
				"server_id":                "must be " + ids.Server.Rule(),
				"target.dedicated_host_id": "must be " + ids.Server.Rule(),
				"project_id":               "must be " + ids.Project.Rule(),
				"region":                   "must be " + ids.Region.Rule(),
				"subject":                  "must equal data.server_id (or be absent)",
			},
			// The invalid server id is not echoed; the subject's valid one is.
			origin: events.Origin{RequestID: "x8", RequestSource: "/t", ServerID: serverID, ProjectID: "abc", Region: "North",
				Target: events.HostTarget("deh-1")},
		},
		"every field of the wrong JSON type": {
			body: mustRead(t, "invalid-field-types.json"), kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{
				"server_id":          "must be a string",
				"target.public_pool": "must be the boolean true",
				"project_id":         "must be a string",
				"deadline":           "must be an RFC 3339 time, for example 2026-01-02T15:04:05Z",
			},
			origin: events.Origin{RequestID: "x9", RequestSource: "/t", Target: &events.Target{}},
		},
		"data not an object": {
			body: []byte(`{"specversion":"1.0","id":"d","source":"/t","type":"` + events.TypeRequested + `","data":"hello"}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"data": "must be a JSON object"},
			origin:   events.Origin{RequestID: "d", RequestSource: "/t"},
		},
		"no data": {
			body: []byte(`{"specversion":"1.0","id":"d","source":"/t","type":"` + events.TypeRequested + `"}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"data": "is required: a JSON object with server_id and target"},
			origin:   events.Origin{RequestID: "d", RequestSource: "/t"},
		},
		"non-JSON content type": {
			body: []byte(`{"specversion":"1.0","id":"c","source":"/t","type":"` + events.TypeRequested + `","datacontenttype":"text/plain","data":"x"}`),
			kind: events.ErrInvalidPayload, reason: events.RejectInvalidPayload,
			problems: map[string]string{"datacontenttype": `is "text/plain"; must be application/json`},
			origin:   events.Origin{RequestID: "c", RequestSource: "/t"},
		},
		"oversize data": {
			body: []byte(`{"specversion":"1.0","id":"big","source":"/t","type":"` + events.TypeRequested +
				`","data":{"server_id":"` + serverID + `","target":{"public_pool":true},"pad":"` + strings.Repeat("x", events.MaxDataSize) + `"}}`),
			kind: events.ErrDataTooLarge, reason: events.RejectPayloadTooLarge,
			origin: events.Origin{RequestID: "big", RequestSource: "/t"},
		},
		"oversize message": {
			body: []byte(`{"pad":"` + strings.Repeat("x", 2<<20) + `"}`),
			kind: events.ErrDataTooLarge, reason: events.RejectPayloadTooLarge,
		},
		"bad extension value": {
			body: []byte(`{"specversion":"1.0","id":"e","source":"/t","type":"` + events.TypeRequested + `","myext":{"a":1},"Bad_Name":"x","data":{}}`),
			kind: events.ErrInvalidEvent, reason: events.RejectInvalidEvent,
			problems: map[string]string{
				"myext":    "must be a string, an integer (32-bit) or a boolean",
				"Bad_Name": "is not a valid extension name (lower-case letters and digits only)",
			},
			origin: events.Origin{RequestID: "e", RequestSource: "/t"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := events.Decode(nil, tc.body)
			if p != nil {
				t.Fatalf("Decode returned a placement with error %v", err)
			}
			var de *events.DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %q", err, tc.kind)
			}
			if de.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", de.Reason, tc.reason)
			}
			got := (&events.ValidationError{Problems: de.Problems}).Fields()
			if len(de.Problems) == 0 {
				got = nil
			}
			if diff := cmp.Diff(tc.problems, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			o := de.Origin
			o.RawDigest = ""
			if diff := cmp.Diff(tc.origin, o); diff != "" {
				t.Errorf("origin mismatch (-want +got):\n%s", diff)
			}
			if de.Origin.RequestID == "" && de.Origin.RawDigest == "" {
				t.Error("an origin without request id has no raw digest to tell it apart")
			}
			if r := de.Rejection(); r.Reason != tc.reason || r.Message == "" {
				t.Errorf("Rejection() = %+v", r)
			}
		})
	}
}

func TestDecodeRequest_sdkEvent(t *testing.T) {
	t.Parallel()
	e := event.New()
	e.SetID("sdk-1")
	e.SetSource("/sdk")
	e.SetType(events.TypeRequested)
	if err := e.SetData(event.ApplicationJSON, map[string]any{"server_id": serverID, "target": map[string]string{"dedicated_host_id": hostID}}); err != nil {
		t.Fatal(err)
	}
	got, err := events.DecodeRequestAt(e, now)
	if err != nil {
		t.Fatal(err)
	}
	want := &events.Placement{ID: "sdk-1", Source: "/sdk", Request: events.Request{ServerID: serverID, Target: events.HostTarget(hostID)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	var zero event.Event
	if _, err := events.DecodeRequestAt(zero, now); !errors.Is(err, events.ErrNotCloudEvent) {
		t.Errorf("zero event: err = %v, want ErrNotCloudEvent", err)
	}
	old := event.New(event.CloudEventsVersionV03)
	old.SetID("o")
	old.SetSource("/o")
	old.SetType(events.TypeRequested)
	if _, err := events.DecodeRequestAt(old, now); !errors.Is(err, events.ErrSpecVersion) {
		t.Errorf("v0.3 event: err = %v, want ErrSpecVersion", err)
	}
}

func TestDecodeMessage_distinctDigests(t *testing.T) {
	t.Parallel()
	a := decodeErr(t, []byte("garbage one"))
	b := decodeErr(t, []byte("garbage two"))
	if a.Origin.Key() == b.Origin.Key() {
		t.Errorf("two different unreadable messages share the request key %s", a.Origin.Key())
	}
	if again := decodeErr(t, []byte("garbage one")); again.Origin.Key() != a.Origin.Key() {
		t.Error("the same unreadable message got two request keys")
	}
}

func decodeErr(t *testing.T, body []byte) *events.DecodeError {
	t.Helper()
	_, err := events.DecodeMessage(nil, body, now)
	var de *events.DecodeError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DecodeError", err)
	}
	return de
}
