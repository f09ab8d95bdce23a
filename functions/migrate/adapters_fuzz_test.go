package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// The fuzz targets of this file feed the migrate function's adapters what
// the outside world may send: any Lambda payload, any SQS message
// attributes, any HTTP request. Each builds one test stack (simulator,
// JetStream, ledger) and a handler over it, and checks after every input
// that nothing panicked, that input the decoder refuses is neither retried
// nor sent to the ECS API, and that nothing unvalidated reached an event's
// subject or an ECS URL.

// tapPublisher records what a handler publishes, and publishes it.
type tapPublisher struct {
	Publisher
	mu     sync.Mutex
	events []event.Event
}

func (p *tapPublisher) Publish(ctx context.Context, e event.Event) (bus.PublishResult, error) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
	return p.Publisher.Publish(ctx, e)
}

// take returns what was published since the last take.
func (p *tapPublisher) take() []event.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.events
	p.events = nil
	return out
}

// fuzzStack is a handler over a test stack, with what a fuzz target
// checks after each input.
type fuzzStack struct {
	*env
	tap *tapPublisher
	h   *Handler
	// srv is a stopped server on which a valid request is accepted.
	srv string
}

func newFuzzStack(f *testing.F) *fuzzStack {
	f.Helper()
	e := newEnv(f)
	tap := &tapPublisher{Publisher: e.bus}
	return &fuzzStack{env: e, tap: tap, h: e.handlerWith(tap, nil, nil), srv: e.sim.AddServer(ecstest.ServerSpec{})}
}

// calls returns the number of ECS calls so far.
func (s *fuzzStack) calls() int { return s.sim.Calls(ecstest.OpAny) }

// check checks what one input led to: every event published names only a
// valid server (or none, which publishes on the _invalid token), carries
// no control character in its trace context and has a valid reason; every
// ECS request made since before (the call count then) named valid ids.
func (s *fuzzStack) check(t *testing.T, before int) []event.Event {
	t.Helper()
	published := s.tap.take()
	for _, e := range published {
		checkSafeEvent(t, e)
	}
	if n := s.calls() - before; n > 0 {
		log := s.sim.Requests()
		for _, r := range log[max(len(log)-n, 0):] {
			checkSafeCall(t, r)
		}
	}
	return published
}

// checkSafeEvent fails the test when an outcome event carries an id that
// is not valid where an id goes, or a trace context that is not clean.
func checkSafeEvent(t testing.TB, e event.Event) {
	t.Helper()
	if s := e.Subject(); s != "" && !ids.Server.Valid(s) {
		t.Fatalf("event %s published with subject %q", e.Type(), s)
	}
	var c events.Correlation
	if err := e.DataAs(&c); err != nil {
		t.Fatalf("event %s data: %v", e.Type(), err)
	}
	if c.ServerID != "" && !ids.Server.Valid(c.ServerID) {
		t.Fatalf("event %s names server %q", e.Type(), c.ServerID)
	}
	for _, ext := range []string{"traceparent", "tracestate"} {
		if v, ok := e.Extensions()[ext].(string); ok && strings.ContainsAny(v, "\r\n\x00 ") && ext == "traceparent" ||
			ok && strings.ContainsAny(v, "\r\n\x00") {
			t.Fatalf("event %s carries %s %q", e.Type(), ext, v)
		}
	}
	if e.Type() == events.TypeRejected {
		var r events.Rejected
		if err := e.DataAs(&r); err != nil || !r.Reason.Valid() {
			t.Fatalf("rejected event %s: reason %q (%v)", e.ID(), r.Reason, err)
		}
	}
}

// checkSafeCall fails the test when an ECS request named an id that is
// not valid, or a path that is not a plain one.
func checkSafeCall(t testing.TB, r ecstest.Request) {
	t.Helper()
	if r.ServerID != "" && !ids.Server.Valid(r.ServerID) || r.JobID != "" && !ids.Job.Valid(r.JobID) ||
		r.ProjectID != "" && !ids.Project.Valid(r.ProjectID) {
		t.Fatalf("ECS request %s %s named server %q, job %q, project %q", r.Method, r.Path, r.ServerID, r.JobID, r.ProjectID)
	}
	if strings.Contains(r.Path, "..") || strings.ContainsAny(r.Path, "% *>\r\n") {
		t.Fatalf("ECS request to path %q", r.Path)
	}
}

// refusedInput reports whether the decoder refuses a message, and with
// which reason.
func refusedInput(header map[string][]string, body []byte) (events.RejectReason, bool) {
	_, err := events.Decode(header, body)
	if de, ok := errors.AsType[*events.DecodeError](err); ok {
		return de.Reason, true
	}
	return "", false
}

func quietLog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// FuzzLambdaInvoke feeds the Lambda adapter any JSON payload: a single
// CloudEvent, an EventBridge envelope, an SQS batch, or something else.
// It must never panic; an SQS batch response lists only ids of the batch,
// and never a record the decoder refuses (bad input is answered, not
// retried); a single request the decoder refuses is rejected with the
// decoder's reason, not retried, and makes no ECS call.
func FuzzLambdaInvoke(f *testing.F) {
	s := newFuzzStack(f)
	a := &lambdaAdapter{h: s.h, log: quietLog()}
	const arn = "arn:aws:sqs:eu-west-1:123456789012:placements"
	good := s.request(s.srv, events.HostTarget(s.host))
	invalid := s.requestData("x", map[string]any{"server_id": "../../x", "target": map[string]any{}})
	for _, seed := range [][]byte{
		good, invalid, eventBridge(good), eventBridge(invalid), eventBridge([]byte(`"a string"`)),
		sqsBatch(arn, good, invalid, []byte("junk"), []byte("")),
		sqsBatch(arn+".fifo", invalid, good),
		eventBridge(sqsBatch(arn, good)), // an envelope in an envelope
		sqsBatch(arn, eventBridge(good)),
		[]byte(`{"Records":[]}`), []byte(`{"Records":5}`), []byte(`{"Records":[null]}`), []byte(`{"Records":[{}]}`),
		[]byte(`{"Records":[{"messageId":"a","body":"x","eventSource":"aws:s3"}]}`),
		[]byte(`{"Records":[{"messageId":"a","body":"x"},{"messageId":"a","body":"y"}]}`),
		[]byte(`{"RECORDS":[{"MessageId":"m","Body":"{}"}]}`),
		[]byte(`{"Records":[{"messageId":"m","body":"{}","messageAttributes":{"ce-specversion":{"stringValue":"1.0","dataType":"String"},` +
			`"ce-id":{"stringValue":"../x","dataType":"String"},"ce-source":{"stringValue":"/q","dataType":"String"},` +
			`"ce-type":{"stringValue":"` + events.TypeRequested + `","dataType":"String"}}}]}`),
		[]byte(`{"Records":[{"messageId":"m","body":"{}","messageAttributes":{"ce-specversion":{"stringValue":5}}}]}`),
		[]byte(`{"detail-type":"x","detail":null}`), []byte(`{"detail-type":null,"detail":{}}`), []byte(`{"detail-type":"x"}`),
		[]byte(`[]`), []byte(`"str"`), []byte(`null`), []byte(`{}`), []byte(`7`), []byte(``), []byte(`{`),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		before := s.calls()
		out, err := a.Invoke(t.Context(), payload)
		published := s.check(t, before)
		if err != nil {
			// The runtime reports the error and ignores the result: the
			// invocation (or the whole batch) is retried, which bad input
			// must never be.
			if re, isRetry := errors.AsType[*RetryError](err); isRetry && (re.Outcome.invalidInput() || re.Outcome.RequestID == "") {
				t.Fatalf("bad input retried: %+v", re.Outcome)
			}
			return
		}
		switch res := out.(type) {
		case awsevents.SQSEventResponse:
			var batch awsevents.SQSEvent
			if jerr := json.Unmarshal(payload, &batch); jerr != nil {
				t.Fatalf("a batch response to a payload that is not an SQS batch: %v", jerr)
			}
			inBatch := map[string]bool{}
			refused := map[string]bool{}
			anyRead := false
			for _, m := range batch.Records {
				inBatch[m.MessageId] = true
				if _, bad := refusedInput(sqsHeaders(m), []byte(m.Body)); bad {
					refused[m.MessageId] = true
				} else {
					anyRead = true
				}
			}
			for _, fail := range res.BatchItemFailures {
				if !inBatch[fail.ItemIdentifier] {
					t.Fatalf("batchItemFailures lists %q, not in the batch", fail.ItemIdentifier)
				}
				if !anyRead {
					t.Fatalf("batchItemFailures lists %q though no record could be read: bad input retried", fail.ItemIdentifier)
				}
			}
			if !anyRead && s.calls() != before {
				t.Fatalf("%d ECS calls for a batch of unreadable records", s.calls()-before)
			}
		case Outcome:
			if res.Status == StatusRejected && res.invalidInput() && s.calls() != before {
				t.Fatalf("rejected as %s after %d ECS calls", res.Reason, s.calls()-before)
			}
			if res.EventID != "" && !containsEvent(published, res.EventID) && res.Status != StatusDuplicate {
				t.Fatalf("outcome names event %s, which was not published", res.EventID)
			}
		default:
			t.Fatalf("result of type %T", out)
		}
	})
}

func containsEvent(es []event.Event, id string) bool {
	for _, e := range es {
		if e.ID() == id {
			return true
		}
	}
	return false
}

// attributeLines reads "name=value" lines into SQS string attributes.
func attributeLines(s string) map[string]awsevents.SQSMessageAttribute {
	attrs := map[string]awsevents.SQSMessageAttribute{}
	for line := range strings.SplitSeq(s, "\n") {
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		attrs[name] = awsevents.SQSMessageAttribute{StringValue: &value, DataType: "String"}
	}
	return attrs
}

// FuzzSQSAttributes feeds the SQS path binary-mode CloudEvents: any
// message attributes (ce-* names in any case, any values) over any body.
// The one record is retried only when it could be read, and one the
// decoder refuses makes no ECS call.
func FuzzSQSAttributes(f *testing.F) {
	s := newFuzzStack(f)
	a := &lambdaAdapter{h: s.h, log: quietLog()}
	good := []byte(`{"server_id":"` + s.srv + `","target":{"dedicated_host_id":"` + s.host + `"}}`)
	base := "ce-specversion=1.0\nce-id=sqs-1\nce-source=/queue\nce-type=" + events.TypeRequested + "\ncontent-type=application/json"
	for _, seed := range []struct {
		attrs string
		body  []byte
		fifo  bool
	}{
		{base, good, false},
		{base + "\nce-subject=" + s.srv, good, true},
		{base + "\nCE-ID=other", good, false},
		{base + "\nce-subject=..%2F..%2Fx", good, false},
		{base + "\nce-traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01%0D%0Ax", good, false},
		{strings.Replace(base, "ce-specversion=1.0", "ce-specversion=0.3", 1), good, false},
		{strings.Replace(base, "content-type=application/json", "content-type=text/plain", 1), good, false},
		{base, []byte(`{"server_id":"*","target":{"public_pool":true}}`), false},
		{base, []byte("not json"), false},
		{"", good, false},
		{"ce-id=x\nce-source=/q", good, false},
	} {
		f.Add(seed.attrs, seed.body, seed.fifo)
	}
	f.Fuzz(func(t *testing.T, attrs string, body []byte, fifo bool) {
		arn := "arn:aws:sqs:eu-west-1:123456789012:placements"
		if fifo {
			arn += ".fifo"
		}
		payload, err := json.Marshal(awsevents.SQSEvent{Records: []awsevents.SQSMessage{{
			MessageId: "m0", Body: string(body), MessageAttributes: attributeLines(attrs), EventSource: "aws:sqs", EventSourceARN: arn,
		}}})
		if err != nil { // strings always marshal: a broken test
			t.Fatal(err)
		}
		var sent awsevents.SQSEvent // the record as Lambda hands it over
		if err := json.Unmarshal(payload, &sent); err != nil {
			t.Fatal(err)
		}
		before := s.calls()
		out, err := a.Invoke(t.Context(), payload)
		s.check(t, before)
		res, ok := out.(awsevents.SQSEventResponse)
		if err != nil || !ok {
			t.Fatalf("Invoke = %#v, %v", out, err)
		}
		m := sent.Records[0]
		_, refused := refusedInput(ceAttributes(m), []byte(m.Body))
		for _, fail := range res.BatchItemFailures {
			if fail.ItemIdentifier != "m0" {
				t.Fatalf("batchItemFailures lists %q, not in the batch", fail.ItemIdentifier)
			}
			if refused {
				t.Fatal("a record the decoder refuses was retried")
			}
		}
		if refused && s.calls() != before {
			t.Fatalf("%d ECS calls for a record the decoder refuses", s.calls()-before)
		}
	})
}

// ceAttributes reads a record's binary-mode attributes as the CloudEvents
// SQS convention has them — string attributes named ce-* or content-type —
// written here apart from the adapter's own sqsHeaders.
func ceAttributes(m awsevents.SQSMessage) map[string][]string {
	var h map[string][]string
	for name, a := range m.MessageAttributes {
		ln := strings.ToLower(name)
		if a.StringValue == nil || !(strings.HasPrefix(ln, "ce-") || ln == "content-type") {
			continue
		}
		if h == nil {
			h = map[string][]string{}
		}
		h[name] = append(h[name], *a.StringValue)
	}
	return h
}

// FuzzHTTPReceiver sends any method, target, headers and body through the
// receiver's ServeHTTP (with a token required). It must never panic; it
// answers JSON; a request without the token gets 401 and nothing happens;
// a request the decoder refuses gets 400 or 413 with the decoder's reason,
// no ECS call and no 5xx; 503 (with Retry-After) is only ever the answer
// to a readable request or a health check; an answer names only the
// request's own ids and never the ECS endpoint.
func FuzzHTTPReceiver(f *testing.F) {
	s := newFuzzStack(f)
	a := &app{bus: s.bus, ledger: s.ledger}
	rc := newHTTPReceiver(s.h, quietLog(), a.health, testToken, defaultHTTPLimits())
	auth := "Authorization: Bearer " + testToken.Reveal()
	good := s.request(s.srv, events.HostTarget(s.host))
	binary := auth + "\nCe-Specversion: 1.0\nCe-Id: http-1\nCe-Source: /http\nCe-Type: " + events.TypeRequested + "\nContent-Type: application/json"
	data := []byte(`{"server_id":"` + s.srv + `","target":{"public_pool":true}}`)
	for _, seed := range []struct {
		method, target, header string
		body                   []byte
	}{
		{"POST", "/", auth + "\nContent-Type: application/cloudevents+json", good},
		{"POST", "/", binary, data},
		{"POST", "/", binary + "\nCe-Id: http-2", data},
		{"POST", "/", binary + "\nCe-Subject: ..%2F..%2Fetc", data},
		{"POST", "/", binary + "\nCe-Traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01%0D%0AX-Evil: 1", data},
		{"POST", "/", strings.Replace(binary, "Ce-Specversion: 1.0", "Ce-Specversion: 0.3", 1), data},
		{"POST", "/", binary, []byte(`{"server_id":"` + s.srv + `","target":{"public_pool":true,"dedicated_host_id":"` + s.host + `"}}`)},
		{"POST", "/", binary, bytes.Repeat([]byte("x"), 70<<10)},
		{"POST", "/", "Content-Type: application/cloudevents+json", good},
		{"POST", "/", "Authorization: Bearer wrong", good},
		{"POST", "/", "Authorization: bearer  " + testToken.Reveal() + "  ", good},
		{"POST", "/", "Authorization: Basic " + testToken.Reveal(), good},
		{"GET", "/healthz", "", nil},
		{"HEAD", "/healthz", "", nil},
		{"GET", "/", auth, nil},
		{"PUT", "/../../etc/passwd", auth, good},
		{"POST", "/%2e%2e/%2F", auth, []byte("{")},
		{"DELETE", "*", auth, nil},
		{"POST", "/", auth, nil},
	} {
		f.Add(seed.method, seed.target, seed.header, seed.body)
	}
	sim := strings.TrimPrefix(s.sim.URL, "http://")
	f.Fuzz(func(t *testing.T, method, target, header string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			u = &url.URL{Path: "/"}
		}
		h := http.Header{}
		for line := range strings.SplitSeq(header, "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				h.Add(k, strings.TrimPrefix(v, " "))
			}
		}
		req := &http.Request{Method: method, URL: u, Header: h, Body: io.NopCloser(bytes.NewReader(body)),
			ContentLength: int64(len(body)), RemoteAddr: "192.0.2.1:4242", Host: "coldmove.example", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
		req = req.WithContext(t.Context())
		before := s.calls()
		w := httptest.NewRecorder()
		rc.ServeHTTP(w, req)
		published := s.check(t, before)
		code, raw := w.Code, w.Body.Bytes()
		if code >= 500 && code != http.StatusServiceUnavailable {
			t.Fatalf("answered %d: %s", code, raw)
		}
		if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		if bytes.Contains(raw, []byte(sim)) || bytes.Contains(raw, []byte(testToken.Reveal())) {
			t.Fatalf("the answer names the endpoint or the token: %s", raw)
		}
		healthz := u.Path == "/healthz" && (method == http.MethodGet || method == http.MethodHead)
		if healthz {
			return
		}
		var ans httpAnswer
		if err := json.Unmarshal(raw, &ans); err != nil || ans.Status == "" {
			t.Fatalf("answer %d %q is not an answer: %v", code, raw, err)
		}
		if code == http.StatusUnauthorized {
			if s.calls() != before || len(published) != 0 {
				t.Fatalf("unauthenticated request made %d calls, published %d events", s.calls()-before, len(published))
			}
			return
		}
		if !strings.Contains(h.Get("Authorization"), testToken.Reveal()) {
			t.Fatalf("answered %d to a request without the token", code)
		}
		if method != http.MethodPost {
			return
		}
		if ans.ServerID != "" && !ids.Server.Valid(ans.ServerID) {
			t.Fatalf("answer names server %q", ans.ServerID)
		}
		reason, refused := refusedInput(h, body)
		if !refused {
			return
		}
		if code != http.StatusBadRequest && code != http.StatusRequestEntityTooLarge || ans.Reason != string(reason) {
			t.Fatalf("a request the decoder refuses (%s) was answered %d %+v", reason, code, ans)
		}
		if s.calls() != before {
			t.Fatalf("%d ECS calls for a request the decoder refuses", s.calls()-before)
		}
	})
}
