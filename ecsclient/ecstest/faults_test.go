package ecstest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// trySend is send that reports transport and body errors instead of failing.
// It uses a fresh connection per request, so that Go's transport never
// retries a request on a reused connection behind the test's back.
func (c *rawClient) trySend(req *http.Request) (rawResponse, error) {
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}, err
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		fault       Fault
		wantStatus  int    // 0: no answer
		wantCode    string // error code of the answer
		wantErr     bool   // the client sees a transport or body error
		wantApplied bool
		badJSON     bool // 200 with a body that does not decode
	}{
		"gateway throttle":     {fault: GatewayThrottle(), wantStatus: 429, wantCode: "APIGW.0308"},
		"API throttle":         {fault: APIThrottle(), wantStatus: 429, wantCode: "Common.1503"},
		"flow limit with 202":  {fault: FlowLimit(), wantStatus: 202, wantCode: "Common.0024"},
		"500":                  {fault: ServerError(500), wantStatus: 500, wantCode: "Common.0001"},
		"501":                  {fault: ServerError(501), wantStatus: 501, wantCode: "Ecs.0603"},
		"502":                  {fault: ServerError(502), wantStatus: 502, wantCode: "APIGW.0202"},
		"503":                  {fault: ServerError(503), wantStatus: 503, wantCode: "APIGW.0202"},
		"504":                  {fault: ServerError(504), wantStatus: 504, wantCode: "APIGW.0203"},
		"connection reset":     {fault: ConnectionReset(), wantErr: true},
		"malformed body":       {fault: MalformedBody(), wantStatus: 200, badJSON: true, wantApplied: true},
		"truncated body":       {fault: TruncatedBody(), wantStatus: 200, wantErr: true, wantApplied: true},
		"response lost":        {fault: ResponseLost(), wantErr: true, wantApplied: true},
		"short latency passes": {fault: Latency(time.Millisecond), wantStatus: 200, wantApplied: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t)
			c := newRawClient(t, srv)
			p := srv.ProjectID()
			deh := srv.AddDedicatedHost(HostSpec{})
			sv := srv.AddServer(ServerSpec{})
			srv.InjectNext(OpMigrateServer, 1, tt.fault)

			req := c.newRequest(http.MethodPost, migratePath(p, sv), migrateBody(deh))
			sign(t, req, migrateBody(deh), c.cred, time.Now())
			resp, err := c.trySend(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error: %v", err, tt.wantErr)
			}
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", resp.status, tt.wantStatus, resp.body)
			}
			if tt.wantCode != "" {
				if code := resp.errorCode(t); code != tt.wantCode {
					t.Errorf("code = %s, want %s", code, tt.wantCode)
				}
			}
			if tt.badJSON && json.Valid(resp.body) {
				t.Errorf("body %s is valid JSON", resp.body)
			}
			if got := srv.Migrations(sv) == 1; got != tt.wantApplied {
				t.Errorf("applied = %v, want %v", got, tt.wantApplied)
			}
			s, _ := srv.Server(sv)
			if got := s.Status == StatusResize; got != tt.wantApplied {
				t.Errorf("server status %s, applied want %v", s.Status, tt.wantApplied)
			}
			if n := srv.MigrateCalls(sv); n != 1 {
				t.Errorf("MigrateCalls = %d, want 1", n)
			}
			log := srv.Requests()
			if len(log) != 1 || log[0].Fault != tt.fault.String() || log[0].Applied != tt.wantApplied {
				t.Errorf("request log = %+v", log)
			}

			// The script was for one call: the next one is answered normally.
			again := c.do(http.MethodGet, serverPath(p, sv), "")
			again.mustStatus(t, http.StatusOK)
		})
	}
}

func TestFaultScripting(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	sv := srv.AddServer(ServerSpec{})
	srv.InjectNext(OpShowJob, 2, ServerError(503))
	srv.InjectNext(OpAny, 1, APIThrottle())

	statuses := func(op string, n int) []int {
		var out []int
		for range n {
			path := serverPath(p, sv)
			if op == "job" {
				path = jobPath(p, "ff80808288d41e1b018990260955686a")
			}
			out = append(out, c.do(http.MethodGet, path, "").status)
		}
		return out
	}
	// ShowServer skips the ShowJob rule and takes the OpAny one, then is clean.
	if diff := cmp.Diff([]int{429, 200}, statuses("server", 2)); diff != "" {
		t.Errorf("ShowServer (-want +got):\n%s", diff)
	}
	// ShowJob takes its two scripted faults, then answers (Common.0011: 400).
	if diff := cmp.Diff([]int{503, 503, 400}, statuses("job", 3)); diff != "" {
		t.Errorf("ShowJob (-want +got):\n%s", diff)
	}
	srv.InjectRandom(OpShowServer, 1, GatewayThrottle())
	if diff := cmp.Diff([]int{429, 429}, statuses("server", 2)); diff != "" {
		t.Errorf("random p=1 (-want +got):\n%s", diff)
	}
	srv.ClearFaults()
	if diff := cmp.Diff([]int{200}, statuses("server", 1)); diff != "" {
		t.Errorf("after ClearFaults (-want +got):\n%s", diff)
	}
	if got, want := srv.Calls(OpShowServer), 5; got != want {
		t.Errorf("Calls(ShowServer) = %d, want %d", got, want)
	}
	if got, want := srv.Calls(OpAny), 8; got != want {
		t.Errorf("Calls(OpAny) = %d, want %d", got, want)
	}
}

func TestRandomFaultsAreSeeded(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []int {
		srv := NewServer(t, WithSeed(seed))
		srv.InjectRandom(OpShowServer, 0.3, GatewayThrottle())
		c := newRawClient(t, srv)
		var out []int
		for range 40 {
			out = append(out, c.do(http.MethodGet, serverPath(srv.ProjectID(), "x"), "").status)
		}
		return out
	}
	a, b := run(7), run(7)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different faults (-first +second):\n%s", diff)
	}
	throttled := 0
	for _, s := range a {
		if s == 429 {
			throttled++
		}
	}
	if throttled == 0 || throttled == len(a) {
		t.Errorf("p=0.3 throttled %d of %d calls", throttled, len(a))
	}
}

func TestLatencyHonoursContext(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{})
	sv := srv.AddServer(ServerSpec{})
	srv.SetLatency(OpMigrateServer, time.Hour)

	// The deadline leaves the request time to reach the handler on a
	// loaded machine; the hour of latency then outlasts it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	req := c.newRequest(http.MethodPost, migratePath(p, sv), migrateBody(deh)).WithContext(ctx)
	sign(t, req, migrateBody(deh), c.cred, time.Now())
	if _, err := c.trySend(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the client's deadline", err)
	}
	// The handler gives up with the client; Close waits for it to finish.
	srv.Close()
	if n := srv.Migrations(sv); n != 0 {
		t.Errorf("Migrations = %d after the client gave up during latency", n)
	}
	if log := srv.Requests(); len(log) != 1 || log[0].Status != 0 || log[0].Applied {
		t.Errorf("log = %+v, want one request, abandoned unanswered", log)
	}

	// The delay is real wall time, and only for the operation it is set on.
	srv = NewServer(t)
	c = newRawClient(t, srv)
	p = srv.ProjectID()
	sv = srv.AddServer(ServerSpec{})
	srv.SetLatency(OpMigrateServer, time.Hour)
	srv.SetLatency(OpShowServer, 30*time.Millisecond)
	begin := time.Now()
	c.do(http.MethodGet, serverPath(p, sv), "").mustStatus(t, http.StatusOK)
	if waited := time.Since(begin); waited < 30*time.Millisecond {
		t.Errorf("ShowServer answered after %v, before its 30ms latency", waited)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	gw := NewManualClock(time.Now())
	srv := NewServer(t, WithGatewayClock(gw), WithRateLimit(2, 2))
	c := newRawClient(t, srv)
	c.now = gw.Now
	p := srv.ProjectID()
	other := srv.AddProject()
	get := func(project string) int { return c.do(http.MethodGet, serverPath(project, "x"), "").status }

	got := []int{get(p), get(p), get(p), get(other)}
	if diff := cmp.Diff([]int{404, 404, 429, 404}, got); diff != "" {
		t.Errorf("within one instant (-want +got):\n%s", diff)
	}
	r := c.do(http.MethodGet, serverPath(p, "x"), "")
	if code := r.errorCode(t); code != "APIGW.0308" {
		t.Errorf("throttled code = %s", code)
	}
	gw.Advance(500 * time.Millisecond) // one token back
	got = []int{get(p), get(p)}
	if diff := cmp.Diff([]int{404, 429}, got); diff != "" {
		t.Errorf("after half a second (-want +got):\n%s", diff)
	}
}

func TestRequestLogBounded(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithRequestLogSize(3))
	c := newRawClient(t, srv)
	var ids []string
	for range 5 {
		ids = append(ids, c.do(http.MethodGet, serverPath(srv.ProjectID(), "x"), "").header.Get("X-Request-Id"))
	}
	var logged []string
	for _, r := range srv.Requests() {
		logged = append(logged, r.RequestID)
		if r.Op != OpShowServer || r.Status != 404 || r.Code != "Ecs.0114" || !r.Authenticated || r.ServerID != "x" {
			t.Errorf("entry = %+v", r)
		}
	}
	if diff := cmp.Diff(ids[2:], logged); diff != "" {
		t.Errorf("log keeps the last three (-want +got):\n%s", diff)
	}
	if n := srv.Calls(OpShowServer); n != 5 {
		t.Errorf("Calls = %d, want 5 (counters outlive the log)", n)
	}

	off := NewServer(t, WithRequestLogSize(-1))
	newRawClient(t, off).do(http.MethodGet, serverPath(off.ProjectID(), "x"), "")
	if n := len(off.Requests()); n != 0 || off.Calls(OpShowServer) != 1 {
		t.Errorf("log off: %d entries, %d calls", n, off.Calls(OpShowServer))
	}
}
