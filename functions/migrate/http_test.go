package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
)

func TestHTTPReceiver(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ts := httptest.NewServer(&httpReceiver{h: e.h, log: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	t.Cleanup(ts.Close)

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
		var o Outcome
		err = json.NewDecoder(resp.Body).Decode(&o)
		resp.Body.Close()
		if err != nil || resp.StatusCode != tc.code || o.Status != tc.status {
			t.Errorf("%s: HTTP %d %+v (%v), want %d %s", tc.name, resp.StatusCode, o, err, tc.code, tc.status)
		}
		if tc.code == 503 && resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s: no Retry-After", tc.name)
		}
		if resp.Header.Get("Content-Type") != "application/json" || strings.Contains(o.Message, e.sim.Credentials().SecretKey.Reveal()) {
			t.Errorf("%s: content type %q", tc.name, resp.Header.Get("Content-Type"))
		}
	}
}

// GET /healthz answers 200 while NATS and the ledger are reachable, and
// 503 with Retry-After once they are not.
func TestHTTPReceiver_healthz(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := &app{bus: e.bus, ledger: e.ledger}
	ts := httptest.NewServer(&httpReceiver{h: e.h, log: slog.New(slog.NewJSONHandler(io.Discard, nil)), health: a.health})
	t.Cleanup(ts.Close)
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
