package ecstest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

func TestClientFaults(t *testing.T) {
	t.Parallel()
	type outcome struct {
		errIs       error // nil: success
		calls       int   // requests the simulator saw
		migrations  int   // migrations started (MigrateServer cases)
		serverMoved bool
	}
	tests := map[string]struct {
		op    ecstest.Op
		fault ecstest.Fault
		times int
		want  outcome
	}{
		// MigrateServer: throttling is retried (not processed); anything that
		// may have been processed is reported, never repeated.
		"migrate: gateway throttle once": {ecstest.OpMigrateServer, ecstest.GatewayThrottle(), 1, outcome{calls: 2, migrations: 1, serverMoved: true}},
		"migrate: API throttle once":     {ecstest.OpMigrateServer, ecstest.APIThrottle(), 1, outcome{calls: 2, migrations: 1, serverMoved: true}},
		"migrate: 202 flow limit once":   {ecstest.OpMigrateServer, ecstest.FlowLimit(), 1, outcome{calls: 2, migrations: 1, serverMoved: true}},
		"migrate: throttled throughout":  {ecstest.OpMigrateServer, ecstest.GatewayThrottle(), 10, outcome{errIs: ecsclient.ErrThrottled, calls: 4}},
		"migrate: 500":                   {ecstest.OpMigrateServer, ecstest.ServerError(500), 1, outcome{errIs: ecsclient.ErrOutcomeUnknown, calls: 1}},
		"migrate: 501 busy is a refusal": {ecstest.OpMigrateServer, ecstest.ServerError(501), 1, outcome{errIs: ecsclient.ErrBusy, calls: 1}},
		"migrate: connection reset":      {ecstest.OpMigrateServer, ecstest.ConnectionReset(), 1, outcome{errIs: ecsclient.ErrOutcomeUnknown, calls: 1}},
		"migrate: response lost":         {ecstest.OpMigrateServer, ecstest.ResponseLost(), 1, outcome{errIs: ecsclient.ErrOutcomeUnknown, calls: 1, migrations: 1, serverMoved: true}},
		"migrate: malformed body":        {ecstest.OpMigrateServer, ecstest.MalformedBody(), 1, outcome{errIs: ecsclient.ErrOutcomeUnknown, calls: 1, migrations: 1, serverMoved: true}},
		"migrate: truncated body":        {ecstest.OpMigrateServer, ecstest.TruncatedBody(), 1, outcome{errIs: ecsclient.ErrOutcomeUnknown, calls: 1, migrations: 1, serverMoved: true}},
		"migrate: latency":               {ecstest.OpMigrateServer, ecstest.Latency(time.Millisecond), 1, outcome{calls: 1, migrations: 1, serverMoved: true}},
		// ShowJob: a GET is retried on every transient failure.
		"show job: 503 twice":               {ecstest.OpShowJob, ecstest.ServerError(503), 2, outcome{calls: 3}},
		"show job: throttled once":          {ecstest.OpShowJob, ecstest.APIThrottle(), 1, outcome{calls: 2}},
		"show job: 202 flow limit once":     {ecstest.OpShowJob, ecstest.FlowLimit(), 1, outcome{calls: 2}},
		"show job: reset once":              {ecstest.OpShowJob, ecstest.ConnectionReset(), 1, outcome{calls: 2}},
		"show job: truncated once":          {ecstest.OpShowJob, ecstest.TruncatedBody(), 1, outcome{calls: 2}},
		"show job: 502 throughout":          {ecstest.OpShowJob, ecstest.ServerError(502), 10, outcome{errIs: errTransient, calls: 4}},
		"show server: throttled throughout": {ecstest.OpShowServer, ecstest.GatewayThrottle(), 10, outcome{errIs: ecsclient.ErrThrottled, calls: 4}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := ecstest.NewServer(t)
			client := srv.Client()
			ctx, p := t.Context(), srv.ProjectID()
			deh := srv.AddDedicatedHost(ecstest.HostSpec{})
			sv := srv.AddServer(ecstest.ServerSpec{})
			var jobID string
			if tt.op == ecstest.OpShowJob {
				var err error
				if jobID, err = client.MigrateServer(ctx, p, sv, ecsclient.Target{DedicatedHostID: deh}); err != nil {
					t.Fatal(err)
				}
			}
			srv.InjectNext(tt.op, tt.times, tt.fault)
			var err error
			switch tt.op {
			case ecstest.OpMigrateServer:
				_, err = client.MigrateServer(ctx, p, sv, ecsclient.Target{DedicatedHostID: deh})
			case ecstest.OpShowJob:
				_, err = client.ShowJob(ctx, p, jobID)
			case ecstest.OpShowServer:
				_, err = client.ShowServer(ctx, p, sv)
			}
			switch {
			case tt.want.errIs == nil && err != nil:
				t.Fatalf("err = %v, want success", err)
			case tt.want.errIs == errTransient:
				if !ecsclient.IsTransient(err) {
					t.Fatalf("err = %v, want a transient error", err)
				}
			case tt.want.errIs != nil && !errors.Is(err, tt.want.errIs):
				t.Fatalf("err = %v, want %v", err, tt.want.errIs)
			}
			if got := srv.Calls(tt.op); got != tt.want.calls {
				t.Errorf("calls = %d, want %d", got, tt.want.calls)
			}
			if tt.op != ecstest.OpMigrateServer {
				return
			}
			if got := srv.Migrations(sv); got != tt.want.migrations {
				t.Errorf("migrations = %d, want %d", got, tt.want.migrations)
			}
			// Reconciling as a caller must: the server tells whether it moved.
			s := mustShowServer(t, client, p, sv)
			if moved := s.Status == "RESIZE"; moved != tt.want.serverMoved {
				t.Errorf("server status %s, moving want %v", s.Status, tt.want.serverMoved)
			}
		})
	}
}

// errTransient marks cases that expect any error for which
// ecsclient.IsTransient holds.
var errTransient = errors.New("transient")

func TestClientMalformedShowJob(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t)
	client := srv.Client()
	srv.InjectNext(ecstest.OpShowJob, 1, ecstest.MalformedBody())
	_, err := client.ShowJob(t.Context(), srv.ProjectID(), "ff80808288d41e1b018990260955686a")
	if err == nil || errors.Is(err, ecsclient.ErrJobNotFound) {
		t.Fatalf("err = %v, want a decoding error", err)
	}
	// Without the fault the same call is an ordinary unknown job.
	if _, err := client.ShowJob(t.Context(), srv.ProjectID(), "ff80808288d41e1b018990260955686a"); !errors.Is(err, ecsclient.ErrJobNotFound) {
		t.Fatalf("err = %v, want ErrJobNotFound", err)
	}
}

func TestClientLatencyAndDeadline(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t)
	client := srv.Client(ecsclient.WithRetryPolicy(ecsclient.RetryPolicy{MaxAttempts: 1}))
	sv := srv.AddServer(ecstest.ServerSpec{})
	srv.SetLatency(ecstest.OpShowServer, time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := client.ShowServer(ctx, srv.ProjectID(), sv); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

func TestClientRateLimit(t *testing.T) {
	t.Parallel()
	gw := ecstest.NewManualClock(time.Now())
	srv := ecstest.NewServer(t, ecstest.WithGatewayClock(gw), ecstest.WithRateLimit(1, 1))
	client := srv.Client()
	sv := srv.AddServer(ecstest.ServerSpec{})
	if _, err := client.ShowServer(t.Context(), srv.ProjectID(), sv); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := client.ShowServer(t.Context(), srv.ProjectID(), sv)
	if !errors.Is(err, ecsclient.ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled while the gateway clock stands still", err)
	}
	gw.Advance(time.Second)
	if _, err := client.ShowServer(t.Context(), srv.ProjectID(), sv); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}
