package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/secret"
)

const testToken = secret.String("t0ken-for-tests-0123456789")

// receiver serves e's handler over HTTP with limits, requiring token when
// it is set.
func (e *env) receiver(t *testing.T, token secret.String, limits httpLimits) (*httptest.Server, *httpReceiver) {
	t.Helper()
	a := &app{bus: e.bus, ledger: e.ledger}
	rc := newHTTPReceiver(e.h, slog.New(slog.NewJSONHandler(io.Discard, nil)), a.health, token, limits)
	ts := httptest.NewUnstartedServer(nil)
	srv := rc.server()
	ts.Config = srv
	ts.Listener = rc.listen(ts.Listener)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, rc
}

func post(t *testing.T, url string, body []byte, header map[string]string) (*http.Response, httpAnswer, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/cloudevents+json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a httpAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %q is not JSON: %v", raw, err)
	}
	return resp, a, string(raw)
}

func TestHTTPReceiver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts, _ := e.receiver(t, "", defaultHTTPLimits())

	binarySrv := e.sim.AddServer(ecstest.ServerSpec{})
	structuredSrv := e.sim.AddServer(ecstest.ServerSpec{})
	running := e.sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	throttled := e.sim.AddServer(ecstest.ServerSpec{})

	binary := func(srv string) *http.Request {
		ev, _ := events.ParseStructured(e.request(srv, events.HostTarget(e.host)))
		h, body, _ := events.BinaryHeaders(ev)
		req, _ := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader(body))
		for k, v := range h {
			req.Header.Set(k, v[0])
		}
		return req
	}
	structured := func(body []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/cloudevents+json")
		return req
	}
	tests := []struct {
		name   string
		req    func() *http.Request
		before func()
		code   int
		status Status
	}{
		{"binary accepted", func() *http.Request { return binary(binarySrv) }, nil, 202, StatusAccepted},
		{"structured accepted", func() *http.Request { return structured(e.request(structuredSrv, events.HostTarget(e.host))) }, nil, 202, StatusAccepted},
		{"pre-flight rejection", func() *http.Request { return structured(e.request(running, events.HostTarget(e.host))) }, nil, 200, StatusRejected},
		{"invalid request", func() *http.Request { return structured([]byte(`{"specversion":"1.0"}`)) }, nil, 400, StatusRejected},
		{"oversize body", func() *http.Request { return structured(bytes.Repeat([]byte("x"), 2<<20)) }, nil, 413, StatusRejected},
		{"throttled", func() *http.Request { return binary(throttled) },
			func() { e.sim.InjectNext(ecstest.OpShowServer, 4, ecstest.GatewayThrottle()) }, 503, StatusRetry},
		{"GET", func() *http.Request { r, _ := http.NewRequest(http.MethodGet, ts.URL, nil); return r }, nil, 405, StatusRejected},
	}
	for _, tc := range tests {
		if tc.before != nil {
			tc.before()
		}
		resp, err := http.DefaultClient.Do(tc.req())
		if err != nil {
			t.Fatal(err)
		}
		var a httpAnswer
		err = json.NewDecoder(resp.Body).Decode(&a)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.code || a.Status != tc.status {
			t.Errorf("%s: HTTP %d %+v (%v), want %d %s", tc.name, resp.StatusCode, a, err, tc.code, tc.status)
		}
		if tc.code == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", tc.name)
		}
		if resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: content type %q", tc.name, resp.Header.Get("Content-Type"))
		}
	}
}

// With a token, a request without it (or with another) is answered 401
// and moves nothing; with it, the request is handled.
func TestHTTPReceiver_bearerToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts, _ := e.receiver(t, testToken, defaultHTTPLimits())
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	for name, auth := range map[string]string{
		"none": "", "wrong": "Bearer not-the-token", "basic": "Basic " + testToken.Reveal(),
		"prefix": "Bearer " + testToken.Reveal()[:10], "longer": "Bearer " + testToken.Reveal() + "x",
	} {
		resp, a, _ := post(t, ts.URL, e.request(srv, events.HostTarget(e.host)), map[string]string{"Authorization": auth})
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" || a.Reason != "unauthenticated" {
			t.Errorf("%s: HTTP %d %+v", name, resp.StatusCode, a)
		}
	}
	if n := e.sim.Calls(ecstest.OpAny); n != 0 {
		t.Errorf("%d ECS calls for unauthenticated requests", n)
	}
	if evs := e.published(t); len(evs) != 0 {
		t.Errorf("%d events published for unauthenticated requests", len(evs))
	}
	resp, a, _ := post(t, ts.URL, e.request(srv, events.HostTarget(e.host)), map[string]string{"Authorization": "Bearer " + testToken.Reveal()})
	if resp.StatusCode != http.StatusAccepted || a.Status != StatusAccepted {
		t.Errorf("with the token: HTTP %d %+v", resp.StatusCode, a)
	}
	// The health check needs no token.
	if resp, err := http.Get(ts.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %v %v", resp, err)
	}
}

// Unreadable input (not JSON, no CloudEvent id or source) is answered 400
// and logged; nothing is stored on the stream. A readable request with an
// id and a source still gets its rejected event.
func TestHTTPReceiver_unreadableInputStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts, _ := e.receiver(t, "", defaultHTTPLimits())
	for i, body := range []string{"garbage", `{"specversion":"1.0","type":"x"}`, `{"id":"a","source":"/b"}`, `[1,2]`, ""} {
		resp, a, _ := post(t, ts.URL, []byte(body), nil)
		if resp.StatusCode != http.StatusBadRequest || a.Status != StatusRejected || a.EventID != "" {
			t.Errorf("body %d %q: HTTP %d %+v", i, body, resp.StatusCode, a)
		}
	}
	if evs := e.published(t); len(evs) != 0 {
		t.Fatalf("%d events stored for unreadable input", len(evs))
	}
	resp, a, _ := post(t, ts.URL, e.requestData("x", map[string]any{"server_id": "x"}), nil)
	if resp.StatusCode != http.StatusBadRequest || a.EventID == "" || a.Reason != string(events.RejectInvalidPayload) {
		t.Errorf("readable invalid request: HTTP %d %+v", resp.StatusCode, a)
	}
	if evs := e.published(t); len(evs) != 1 || evs[0].Type() != events.TypeRejected {
		t.Errorf("the readable request's rejection is not on the stream: %d events", len(evs))
	}
}

// Upstream error text — the endpoint, signed header values, the project —
// never reaches an HTTP answer; only a status, a reason and ids do.
func TestHTTPReceiver_answersCarryNoUpstreamText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts, _ := e.receiver(t, "", defaultHTTPLimits())
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	e.sim.InjectNext(ecstest.OpShowServer, 10, ecstest.ServerError(503))
	resp, a, raw := post(t, ts.URL, e.request(srv, events.HostTarget(e.host)), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || a.Status != StatusRetry {
		t.Fatalf("HTTP %d %s", resp.StatusCode, raw)
	}
	host := strings.TrimPrefix(e.sim.URL, "http://")
	for _, leak := range []string{host, "Access=", "Signature", "SDK-HMAC", e.sim.ProjectID(), e.sim.Credentials().AccessKey.Reveal(), "503", "Common"} {
		if strings.Contains(raw, leak) {
			t.Errorf("answer %s contains %q", raw, leak)
		}
	}
}

// More requests than MaxInFlight at once: the excess is answered 503 with
// Retry-After, at once.
func TestHTTPReceiver_inFlightCap(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	limits := defaultHTTPLimits()
	limits.MaxInFlight = 2
	ts, rc := e.receiver(t, "", limits)
	srv := e.sim.AddServer(ecstest.ServerSpec{})
	// Hold both slots, as two slow requests would.
	rc.inflight <- struct{}{}
	rc.inflight <- struct{}{}
	resp, a, _ := post(t, ts.URL, e.request(srv, events.HostTarget(e.host)), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" || a.Reason != "busy" {
		t.Errorf("over the cap: HTTP %d %+v, Retry-After %q", resp.StatusCode, a, resp.Header.Get("Retry-After"))
	}
	// The connection is not kept: a body still trickling in would hold it
	// until the read timeout.
	if !resp.Close {
		t.Error("over the cap: the connection is kept open")
	}
	<-rc.inflight
	if resp, _, _ := post(t, ts.URL, e.request(srv, events.HostTarget(e.host)), nil); resp.StatusCode != http.StatusAccepted {
		t.Errorf("with a slot free: HTTP %d", resp.StatusCode)
	}
}

// A body trickled byte by byte and an idle kept-alive connection are both
// closed by the server, and connections over MaxConns wait to be accepted.
func TestHTTPReceiver_slowAndIdleConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	limits := defaultHTTPLimits()
	limits.Read, limits.Idle, limits.MaxConns = 300*time.Millisecond, 300*time.Millisecond, 2
	ts, _ := e.receiver(t, "", limits)
	addr := strings.TrimPrefix(ts.URL, "http://")

	closed := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, c)
		return err == nil // EOF: the server closed it
	}
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_, _ = io.WriteString(slow, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	_, _ = io.WriteString(idle, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if st, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || st.StatusCode != 200 {
		t.Fatalf("healthz on the idle connection: %v %v", st, err)
	}

	// Both slots are taken: a third connection is not served until one
	// is closed.
	third := make(chan int, 1)
	go func() {
		resp, err := http.Get(ts.URL + "/healthz")
		if err != nil {
			third <- 0
			return
		}
		resp.Body.Close()
		third <- resp.StatusCode
	}()
	var wg sync.WaitGroup
	for _, c := range []net.Conn{slow, idle} {
		wg.Go(func() {
			if !closed(c) {
				t.Errorf("connection %s not closed by the server", c.LocalAddr())
			}
		})
	}
	wg.Wait()
	if code := <-third; code != http.StatusOK {
		t.Errorf("third connection: %d", code)
	}
}

// The receiver refuses to start on an address other hosts reach without a
// token, unless told something in front authenticates.
func TestConfig_httpAddrNeedsATokenOffLoopback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr     string
		token    secret.String
		insecure bool
		ok       bool
	}{
		{"", "", false, true},
		{"127.0.0.1:8080", "", false, true},
		{"[::1]:8080", "", false, true},
		{"localhost:8080", "", false, true},
		{":8080", "", false, false},
		{"0.0.0.0:8080", "", false, false},
		{"10.0.0.5:8080", "", false, false},
		{":8080", testToken, false, true},
		{":8080", "", true, true},
		{"8080", "", false, false},
	}
	for _, tc := range tests {
		c := defaultConfig()
		c.HTTPAddr, c.HTTPToken, c.HTTPInsecure = tc.addr, tc.token, tc.insecure
		msg := c.checkHTTPAddr()
		if (msg == "") != tc.ok {
			t.Errorf("addr %q token %v insecure %v: %q", tc.addr, tc.token != "", tc.insecure, msg)
		}
		if !tc.ok && tc.addr != "8080" && !strings.Contains(msg, "COLDMOVE_HTTP_TOKEN") {
			t.Errorf("addr %q: message does not say what to do: %q", tc.addr, msg)
		}
	}
}

// GET /healthz answers 200 while NATS and the ledger are reachable, and
// 503 with Retry-After once they are not.
func TestHTTPReceiver_healthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts, _ := e.receiver(t, testToken, defaultHTTPLimits())
	get := func() *http.Response {
		t.Helper()
		resp, err := http.Get(ts.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthy: status %d", resp.StatusCode)
	}
	e.nats.Shutdown()
	resp := get()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("NATS down: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}
