package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// nasty is a hostile request and how coldmove must answer it.
type nasty struct {
	name string
	// structured builds the request as a structured CloudEvent whose id is
	// id; nil when the case only exists in binary mode.
	structured func(id string) []byte
	// binary builds it in binary mode (ce-* headers, data as the body);
	// nil when the case only exists in structured mode.
	binary func(id string) (map[string][]string, []byte)
	// reason is the rejected event's reason; with refused, the reason of
	// the refusal, which publishes nothing (no readable id and source).
	reason  events.RejectReason
	refused bool
	// server is the server id the request names, for the NATS subject.
	server string
	// skip names adapters the case cannot travel through, and why.
	skip map[string]string
	// httpCode is the HTTP status, when it is not 400.
	httpCode int
}

// The hostile ids: path traversal, escapes, NATS wildcards, spaces,
// control characters, unicode, overlong.
var hostileIDs = map[string]string{
	"traversal": "../../etc/passwd",
	"escaped":   "a%2Fb%2F..%2F..",
	"star":      "*",
	"gt":        ">",
	"space":     "a b",
	"control":   "a\x00\x01\r\nb",
	"unicode":   "☃\u202eɐ",
	"long":      strings.Repeat("f", 300),
}

// ceJSON builds a structured CloudEvent: extra is raw JSON members after
// the required ones, data the raw JSON data ("" for none).
func ceJSON(id, extra, data string) []byte {
	b, _ := json.Marshal(id)
	s := `{"specversion":"1.0","id":` + string(b) + `,"source":"/hostile","type":"` + events.TypeRequested + `"` + extra
	if data != "" {
		s += `,"data":` + data
	}
	return []byte(s + "}")
}

// pct percent-encodes what a header value cannot carry as it is, as the
// CloudEvents HTTP binding asks.
func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == '%' || c == '"' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// ceBinary builds a binary-mode CloudEvent: the required ce-* headers, then
// extra (names as given, values percent-encoded), data as the body.
func ceBinary(id string, extra map[string]string, data string) (map[string][]string, []byte) {
	h := map[string][]string{
		"ce-specversion": {"1.0"}, "ce-id": {pct(id)}, "ce-source": {"/hostile"},
		"ce-type": {events.TypeRequested}, "content-type": {"application/json"},
	}
	for k, v := range extra {
		if v == "" {
			delete(h, k)
			continue
		}
		h[k] = append(h[k], pct(v))
	}
	return h, []byte(data)
}

// nastyRequests is the table: every case is invalid in some way, so that
// none may reach the ECS API.
func nastyRequests(srv, host string) []nasty {
	target := `{"dedicated_host_id":"` + host + `"}`
	req := func(members string) string { return `{"server_id":"` + srv + `","target":` + target + members + `}` }
	badTarget := `{"server_id":"` + srv + `","target":{}}`
	tp := "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	both := func(extra string, binExtra map[string]string, data string) (func(string) []byte, func(string) (map[string][]string, []byte)) {
		return func(id string) []byte { return ceJSON(id, extra, data) },
			func(id string) (map[string][]string, []byte) { return ceBinary(id, binExtra, data) }
	}
	var out []nasty
	add := func(n nasty) { out = append(out, n) }

	s, b := both("", nil, `{"server_id":"`+srv+`","server_id":"`+srv+`","target":`+target+`}`)
	add(nasty{name: "duplicate key in data", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both("", nil, req(`,"x":{"a":1,"a":2}`))
	add(nasty{name: "duplicate key deep in data", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	add(nasty{name: "duplicate id attribute", refused: true, reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte { return ceJSON(id, `,"id":"other"`, req("")) },
		binary: func(id string) (map[string][]string, []byte) {
			return ceBinary(id, map[string]string{"CE-ID": "other"}, req(""))
		}})
	add(nasty{name: "duplicate type attribute", reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte { return ceJSON(id, `,"type":"com.example.other"`, req("")) },
		binary: func(id string) (map[string][]string, []byte) {
			return ceBinary(id, map[string]string{"ce-type": "com.example.other"}, req(""))
		}})
	s, b = both("", nil, req(`,"pad":"`+strings.Repeat("x", 70<<10)+`"`))
	add(nasty{name: "oversize data", structured: s, binary: b, reason: events.RejectPayloadTooLarge, server: srv, httpCode: 413})
	add(nasty{name: "oversize message", refused: true, reason: events.RejectPayloadTooLarge, server: srv, httpCode: 413,
		structured: func(id string) []byte { return ceJSON(id, "", req(`,"pad":"`+strings.Repeat("x", 1<<20)+`"`)) },
		skip:       map[string]string{"nats": "the NATS server refuses a message over its max_payload"}})
	s, b = both("", nil, req(`,"x":`+strings.Repeat(`{"a":`, 40)+`1`+strings.Repeat(`}`, 40)))
	add(nasty{name: "deep nesting", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	add(nasty{name: "nesting past encoding/json's limit", refused: true, reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte {
			return ceJSON(id, "", `{"server_id":"`+srv+`","x":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)+`}`)
		}})

	for _, kind := range slices.Sorted(maps.Keys(hostileIDs)) {
		bad := hostileIDs[kind]
		quoted, _ := json.Marshal(bad)
		s, b := both("", nil, `{"server_id":`+string(quoted)+`,"target":{"public_pool":true}}`)
		add(nasty{name: "server id " + kind, structured: s, binary: b, reason: events.RejectInvalidPayload})
		s, b = both("", nil, `{"server_id":"`+srv+`","target":{"dedicated_host_id":`+string(quoted)+`}}`)
		add(nasty{name: "host id " + kind, structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
		s, b = both("", nil, req(`,"project_id":`+string(quoted)))
		add(nasty{name: "project id " + kind, structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
		s, b = both(`,"subject":`+string(quoted), map[string]string{"ce-subject": bad}, req(""))
		add(nasty{name: "subject " + kind, structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
		// The request's own id: anything goes, but it must never reach a
		// subject or a key; the payload is invalid, so that nothing is
		// sent.
		reason := events.RejectInvalidPayload
		if len(bad) > events.MaxIDSize-32 {
			reason = events.RejectInvalidEvent // over MaxIDSize with its prefix
		}
		add(nasty{name: "request id " + kind, reason: reason, server: srv,
			structured: func(id string) []byte { return ceJSON(id+bad, "", badTarget) },
			binary:     func(id string) (map[string][]string, []byte) { return ceBinary(id+bad, nil, badTarget) }})
	}

	// An id that fits a message but not, echoed, a ledger record: refused
	// before any call (it used to be submitted, then stuck).
	huge := strings.Repeat("i", 800<<10)
	add(nasty{name: "overlong request id, valid request", reason: events.RejectInvalidEvent, server: srv, httpCode: 431,
		structured: func(id string) []byte { return ceJSON(id+huge, "", req("")) },
		// JetStream takes headers up to 64 KiB.
		binary: func(id string) (map[string][]string, []byte) { return ceBinary(id+huge[:60<<10], nil, req("")) }})
	add(nasty{name: "overlong source, valid request", reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte {
			return bytes.Replace(ceJSON(id, "", req("")), []byte(`"source":"/hostile"`), []byte(`"source":"/`+huge[:300]+`"`), 1)
		}})
	s, b = both("", nil, req(`,"region":"`+strings.Repeat("a", 35)+`"`))
	add(nasty{name: "region of 35 characters", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both(`,"traceparent":"`+tp+`\r\nx-injected: 1"`, map[string]string{"ce-traceparent": tp + "\r\nx-injected: 1"}, badTarget)
	add(nasty{name: "CRLF in traceparent", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both(`,"traceparent":"`+tp+`","tracestate":"a=b\r\nx-injected: 1"`,
		map[string]string{"ce-traceparent": tp, "ce-tracestate": "a=b\r\nx-injected: 1"}, badTarget)
	add(nasty{name: "CRLF in tracestate", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both("", nil, `{"server_id":7,"target":"pool","deadline":12,"region":["x"]}`)
	add(nasty{name: "wrong types", structured: s, binary: b, reason: events.RejectInvalidPayload})
	s, b = both("", nil, `{"server_id":"`+srv+`","target":null}`)
	add(nasty{name: "null target", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both("", nil, `{"server_id":"`+srv+`"}`)
	add(nasty{name: "no target", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both("", nil, `{"server_id":"`+srv+`","target":{"public_pool":true,"dedicated_host_id":"`+host+`"}}`)
	add(nasty{name: "both targets", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both("", nil, `{"server_id":"`+srv+`","target":{"public_pool":false}}`)
	add(nasty{name: "public pool false", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	s, b = both("", nil, req(`,"deadline":"2001-01-01T00:00:00Z"`))
	add(nasty{name: "deadline passed", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv})
	add(nasty{name: "unknown type", reason: events.RejectUnsupportedType, server: srv,
		structured: func(id string) []byte {
			return bytes.Replace(ceJSON(id, "", req("")), []byte(events.TypeRequested), []byte("com.example.unknown"), 1)
		},
		binary: func(id string) (map[string][]string, []byte) {
			h, body := ceBinary(id, nil, req(""))
			h["ce-type"] = []string{"com.example.unknown"}
			return h, body
		}})
	add(nasty{name: "specversion 0.3", reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte {
			return bytes.Replace(ceJSON(id, "", req("")), []byte(`"specversion":"1.0"`), []byte(`"specversion":"0.3"`), 1)
		},
		binary: func(id string) (map[string][]string, []byte) {
			h, body := ceBinary(id, nil, req(""))
			h["ce-specversion"] = []string{"0.3"}
			return h, body
		}})
	add(nasty{name: "base64 data", reason: events.RejectInvalidPayload,
		structured: func(id string) []byte {
			return ceJSON(id, `,"data_base64":"`+base64.StdEncoding.EncodeToString([]byte(`{"server_id":"../x","target":{"public_pool":true}}`))+`"`, "")
		}})
	add(nasty{name: "base64 data not base64", reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte { return ceJSON(id, `,"data_base64":"%%%"`, "") }})
	add(nasty{name: "data and data_base64", reason: events.RejectInvalidEvent, server: srv,
		structured: func(id string) []byte { return ceJSON(id, `,"data_base64":"e30="`, req("")) }})
	s, b = both(`,"datacontenttype":"application/xml"`, map[string]string{"content-type": "", "Content-Type": "application/xml"}, req(""))
	add(nasty{name: "XML data", structured: s, binary: b, reason: events.RejectInvalidPayload})
	s, b = both(`,"comexampleext":{"a":1}`, nil, req(""))
	add(nasty{name: "extension of the wrong type", structured: s, reason: events.RejectInvalidEvent, server: srv})
	s, b = both(`,"time":"yesterday"`, map[string]string{"ce-time": "yesterday"}, req(""))
	add(nasty{name: "malformed time", structured: s, binary: b, reason: events.RejectInvalidEvent, server: srv})
	s, b = both(`,"tracestate":"`+strings.Repeat("k=v,", 16000)+`"`, map[string]string{"ce-tracestate": strings.Repeat("k=v,", 16000)}, badTarget)
	add(nasty{name: "huge header", structured: s, binary: b, reason: events.RejectInvalidPayload, server: srv, httpCode: 431})
	add(nasty{name: "no id", refused: true, reason: events.RejectInvalidEvent, server: srv,
		structured: func(string) []byte {
			return []byte(`{"specversion":"1.0","source":"/hostile","type":"` + events.TypeRequested + `","data":` + req("") + `}`)
		},
		binary: func(id string) (map[string][]string, []byte) {
			return ceBinary(id, map[string]string{"ce-id": ""}, req(""))
		}})
	add(nasty{name: "id of the wrong type", refused: true, reason: events.RejectInvalidEvent, server: srv,
		structured: func(string) []byte {
			return []byte(`{"specversion":"1.0","id":7,"source":"/hostile","type":"` + events.TypeRequested + `","data":` + req("") + `}`)
		}})
	add(nasty{name: "no specversion", refused: true, reason: events.RejectInvalidEvent,
		structured: func(id string) []byte {
			return bytes.Replace(ceJSON(id, "", req("")), []byte(`"specversion":"1.0",`), nil, 1)
		}})
	add(nasty{name: "not JSON", refused: true, reason: events.RejectInvalidEvent,
		structured: func(string) []byte { return []byte("hello\r\nX-Injected: 1") }})
	add(nasty{name: "empty", refused: true, reason: events.RejectInvalidEvent,
		structured: func(string) []byte { return nil }, skip: map[string]string{"nats": "an empty message is not a request"}})
	add(nasty{name: "a JSON array", refused: true, reason: events.RejectInvalidEvent,
		structured: func(string) []byte { return []byte(`[{"specversion":"1.0"}]`) }})
	return out
}

// delivery is one nasty request as one adapter sent it.
type delivery struct {
	n       nasty
	adapter string
	binary  bool
	prefix  string // the start of its CloudEvent id
}

var safeKey = regexp.MustCompile(`^(req\.[0-9a-f]{32}|lock\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|job\.[A-Za-z0-9_-]{1,80})$`)

// TestHostile_nastyRequestsThroughEveryAdapter sends every nasty request
// through every adapter — the NATS consumer, the HTTP receiver (binary and
// structured), a direct Lambda invocation, an SQS record (binary mode in
// message attributes) and an EventBridge envelope — and checks that each
// gets its rejected event with the right reason, or, when it carries no
// readable id and source, a refusal with no event; that none is retried
// or reached the ECS API; and that no id that is not a valid server id
// reached a subject on the stream or a key or record of the ledger.
func TestHostile_nastyRequestsThroughEveryAdapter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	ts, _ := e.receiver(t, testToken, defaultHTTPLimits())
	a := &lambdaAdapter{h: e.h, log: quietLog()}
	lambdaInvoke := lambda.NewHandler(a.Invoke)

	ctx, cancel := context.WithCancel(t.Context())
	consumed := make(chan error, 1)
	go func() { consumed <- consume(ctx, e.bus, e.h, quietLog()) }()
	defer func() {
		cancel()
		if err := <-consumed; err != nil {
			t.Errorf("consume: %v", err)
		}
	}()

	var sent []delivery
	cases := nastyRequests(srv, e.host)
	for i, n := range cases {
		for _, adapter := range []string{"nats", "http", "lambda", "sqs", "eventbridge"} {
			if _, skip := n.skip[adapter]; skip {
				continue
			}
			for _, binary := range []bool{false, true} {
				if binary && (n.binary == nil || adapter == "lambda" || adapter == "eventbridge") || !binary && n.structured == nil {
					continue
				}
				d := delivery{n: n, adapter: adapter, binary: binary, prefix: fmt.Sprintf("hx-%s-%d-%t:", adapter, i, binary)}
				t.Run(fmt.Sprintf("%s/%s/binary=%t", n.name, adapter, binary), func(t *testing.T) {
					var header map[string][]string
					var body []byte
					if binary {
						header, body = n.binary(d.prefix)
					} else {
						body = n.structured(d.prefix)
					}
					switch adapter {
					case "nats":
						sendNATS(t, e, n.server, header, body)
					case "http":
						sendHTTP(t, ts.URL, n, header, body)
					case "lambda":
						sendLambda(t, lambdaInvoke, n, body)
					case "eventbridge":
						sendLambda(t, lambdaInvoke, n, eventBridgeOf(body))
					case "sqs":
						sendSQS(t, a, header, body)
					}
				})
				sent = append(sent, d)
			}
		}
	}
	waitSettled(t, e)

	if n := e.sim.Calls(ecstest.OpAny); n != 0 {
		t.Errorf("%d ECS calls for invalid requests, want none", n)
	}
	// Every outcome on the stream: on a subject whose last token is a
	// valid server id or _invalid, and the one rejection of one delivery.
	got := map[string]events.Rejected{}
	for _, p := range e.Events() {
		last := p.Subject[strings.LastIndexByte(p.Subject, '.')+1:]
		if last != events.InvalidToken && !ids.Server.Valid(last) {
			t.Errorf("a message on subject %q", p.Subject)
		}
		if strings.Contains(p.Subject, ".placement.requested.") {
			continue // the test's own requests
		}
		checkSafeEvent(t, p.Event)
		if p.Event.Type() != events.TypeRejected {
			t.Errorf("%s event published for an invalid request: %s", p.Event.Type(), p.Event)
			continue
		}
		r := mustData[events.Rejected](t, p.Event)
		if _, dup := got[r.RequestID]; dup {
			t.Errorf("two rejections of request %q", r.RequestID)
		}
		got[r.RequestID] = r
	}
	rejections, refusals := len(got), 0
	for _, d := range sent {
		if d.n.refused {
			refusals++
		}
		var match []events.Rejected
		for id, r := range got {
			if strings.HasPrefix(id, d.prefix) {
				match = append(match, r)
				delete(got, id)
			}
		}
		name := fmt.Sprintf("%s via %s (binary %t)", d.n.name, d.adapter, d.binary)
		switch {
		case d.n.refused && len(match) != 0:
			t.Errorf("%s: refused input published %d rejections: %+v", name, len(match), match)
		case !d.n.refused && d.n.httpCode == 431 && d.adapter == "http" && d.binary:
			// net/http refuses the headers before coldmove sees them.
		case !d.n.refused && len(match) != 1:
			t.Errorf("%s: %d rejections on the stream, want 1", name, len(match))
		case !d.n.refused && match[0].Reason != d.n.reason:
			t.Errorf("%s: rejected %s (%s), want %s", name, match[0].Reason, match[0].Message, d.n.reason)
		}
	}
	for id, r := range got {
		t.Errorf("a rejection of no delivery: %q %+v", id, r)
	}
	checkLedgerSafe(t, e)
	t.Logf("%d cases, %d deliveries: %d rejected events, %d refusals without an event, 0 ECS calls",
		len(cases), len(sent), rejections, refusals)
}

// checkLedgerSafe checks every key of the ledger bucket against the shape
// of the keys coldmove writes, and every record's server id.
func checkLedgerSafe(t *testing.T, e *env) {
	t.Helper()
	kv, err := e.nats.JetStream().KeyValue(t.Context(), e.ledger.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	lister, err := kv.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for k := range lister.Keys() {
		if !safeKey.MatchString(k) {
			t.Errorf("ledger key %q", k)
		}
	}
	snap := e.Snapshot()
	for _, c := range snap.Claims {
		if c.ServerID != "" && !ids.Server.Valid(c.ServerID) {
			t.Errorf("claim %s names server %q", c.RequestKey, c.ServerID)
		}
	}
	for _, lk := range snap.Locks {
		if !ids.Server.Valid(lk.ServerID) {
			t.Errorf("lock on server %q", lk.ServerID)
		}
	}
	for _, j := range snap.Jobs {
		if !ids.Server.Valid(j.ServerID) {
			t.Errorf("job record %s names server %q", j.RecordID(), j.ServerID)
		}
	}
}

func sendNATS(t *testing.T, e *env, server string, header map[string][]string, body []byte) {
	t.Helper()
	msg := &nats.Msg{Subject: events.RequestSubject(events.DefaultPrefix, server), Data: body}
	if header != nil {
		msg.Header = nats.Header(header)
	}
	if _, err := e.nats.JetStream().PublishMsg(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
}

func sendHTTP(t *testing.T, url string, n nasty, header map[string][]string, body []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if header == nil {
		req.Header.Set("Content-Type", "application/cloudevents+json")
	}
	for k, vs := range header {
		req.Header[k] = vs // as given: the server reads the names in any case
	}
	req.Header.Set("Authorization", "Bearer "+testToken.Reveal())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	want := n.httpCode
	if want == 0 || want == 431 && header == nil {
		want = http.StatusBadRequest
	}
	if resp.StatusCode != want {
		t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, raw, want)
	}
	if want == 431 {
		return
	}
	var ans httpAnswer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.Status != StatusRejected || ans.Reason != string(n.reason) {
		t.Errorf("answer %s (%v), want rejected/%s", raw, err, n.reason)
	}
	if ans.ServerID != "" && !ids.Server.Valid(ans.ServerID) {
		t.Errorf("answer names server %q", ans.ServerID)
	}
	if n.refused && ans.EventID != "" {
		t.Errorf("refused input answered with event %s", ans.EventID)
	}
}

// sendLambda invokes the adapter through aws-lambda-go's handler, as the
// runtime does: a payload that is not JSON fails there, before coldmove.
func sendLambda(t *testing.T, h lambda.Handler, n nasty, payload []byte) {
	t.Helper()
	out, err := h.Invoke(t.Context(), payload)
	if err != nil {
		if !n.refused || json.Valid(payload) {
			t.Fatalf("invocation failed (Lambda would retry it): %v", err)
		}
		return // the runtime refuses it: nothing reached coldmove
	}
	var o Outcome
	if err := json.Unmarshal(out, &o); err != nil || o.Status != StatusRejected || o.Reason != string(n.reason) {
		t.Errorf("result %s (%v), want rejected/%s", out, err, n.reason)
	}
	if n.refused && o.EventID != "" {
		t.Errorf("refused input answered with event %s", o.EventID)
	}
}

// eventBridgeOf wraps a request as EventBridge's detail; detail must be a
// JSON object, so anything else travels as a JSON string.
func eventBridgeOf(body []byte) []byte {
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) || !json.Valid(body) {
		s, _ := json.Marshal(string(body))
		return eventBridge(s)
	}
	return eventBridge(body)
}

func sendSQS(t *testing.T, a *lambdaAdapter, header map[string][]string, body []byte) {
	t.Helper()
	m := awsevents.SQSMessage{MessageId: "m0", Body: string(body), EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:placements"}
	if header != nil {
		m.MessageAttributes = map[string]awsevents.SQSMessageAttribute{}
		for k, vs := range header {
			for i, v := range vs {
				name := k
				if i > 0 {
					name = strings.ToUpper(k) // a second value: a second spelling
				}
				m.MessageAttributes[name] = awsevents.SQSMessageAttribute{StringValue: &v, DataType: "String"}
			}
		}
	}
	payload, err := json.Marshal(awsevents.SQSEvent{Records: []awsevents.SQSMessage{m}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatalf("SQS invocation failed (the batch would come back): %v", err)
	}
	if res, ok := out.(awsevents.SQSEventResponse); !ok || len(res.BatchItemFailures) != 0 {
		t.Errorf("SQS answer %+v: invalid input retried", out)
	}
}

// waitSettled waits until the request consumer has settled every
// message, and fails if any was delivered twice.
func waitSettled(t *testing.T, e *env) {
	t.Helper()
	st, err := e.nats.JetStream().Stream(t.Context(), e.bus.Config().Stream)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	var info *jetstream.ConsumerInfo
	for {
		cons, err := st.Consumer(t.Context(), e.bus.Config().Consumer)
		if err == nil {
			info, err = cons.Info(t.Context())
		}
		if err == nil && info.NumPending == 0 && info.NumAckPending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not settled: %+v, %v", info, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.NumRedelivered != 0 {
		t.Errorf("%d requests delivered again: invalid input retried", info.NumRedelivered)
	}
}
