package ecstest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

var timings = ecstest.JobTimings{Queued: time.Second, Migrating: 30 * time.Second, Finishing: 5 * time.Second, Power: 10 * time.Second}

func TestClientMigrationLifecycle(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t, ecstest.WithJobTimings(timings))
	client := srv.Client()
	ctx, p := t.Context(), srv.ProjectID()
	from := srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 32768})
	to := srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 32768})
	sv := srv.AddServer(ecstest.ServerSpec{DedicatedHostID: from, VCPUs: 4, RAMMB: 8192, Name: "db-1"})
	start := srv.Clock().Now()

	before := mustShowServer(t, client, p, sv)
	want := &ecsclient.Server{
		ID: sv, Name: "db-1", Status: "SHUTOFF", VMState: "stopped", PowerState: 4, ChargingMode: "0",
		DedicatedHostID: from, VCPUs: 4, RAMMB: 8192, FlavorID: "sim.4c.8192m",
	}
	if diff := cmp.Diff(want, before); diff != "" {
		t.Fatalf("ShowServer before (-want +got):\n%s", diff)
	}
	if !before.Stopped() || !before.PayPerUse() || !before.OnDedicatedHost() {
		t.Errorf("pre-flight helpers: stopped %v, pay-per-use %v, on DeH %v", before.Stopped(), before.PayPerUse(), before.OnDedicatedHost())
	}

	jobID, err := client.MigrateServer(ctx, p, sv, ecsclient.Target{DedicatedHostID: to})
	if err != nil {
		t.Fatalf("MigrateServer: %v", err)
	}
	steps := []struct {
		advance          time.Duration
		status           ecsclient.JobStatus
		serverStatus     string
		taskState, onDeH string
	}{
		{0, ecsclient.JobInit, "RESIZE", "resize_prep", from},
		{time.Second, ecsclient.JobRunning, "RESIZE", "resize_migrating", from},
		{30 * time.Second, ecsclient.JobRunning, "RESIZE", "resize_finish", from},
		{5 * time.Second, ecsclient.JobSuccess, "SHUTOFF", "", to},
	}
	for _, st := range steps {
		srv.Advance(st.advance)
		job := mustShowJob(t, client, p, jobID)
		s := mustShowServer(t, client, p, sv)
		got := []string{string(job.Status), s.Status, s.TaskState, s.DedicatedHostID}
		if diff := cmp.Diff([]string{string(st.status), st.serverStatus, st.taskState, st.onDeH}, got); diff != "" {
			t.Fatalf("after %v (-want +got):\n%s", st.advance, diff)
		}
		if !job.BeginTime.Equal(start) || job.ServerID != sv || job.Type != ecstest.JobTypeMigrate {
			t.Errorf("job = %+v", job)
		}
	}
	done := mustShowJob(t, client, p, jobID)
	if !done.EndTime.Equal(start.Add(36*time.Second)) || done.ErrorCode != "" || done.FailReason != "" {
		t.Errorf("finished job = %+v", done)
	}
	if !mustShowServer(t, client, p, sv).Stopped() {
		t.Error("server not stopped and idle after the migration")
	}

	srv.Advance(ecstest.DefaultRetention)
	if _, err := client.ShowJob(ctx, p, jobID); !errors.Is(err, ecsclient.ErrJobNotFound) {
		t.Errorf("ShowJob after retention: %v, want ErrJobNotFound", err)
	}
	if n := srv.MigrateCalls(sv); n != 1 {
		t.Errorf("MigrateCalls = %d, want 1", n)
	}
}

func TestClientConstraints(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec     func(srv *ecstest.Server, target string) ecstest.ServerSpec
		target   func(srv *ecstest.Server) string // nil: a roomy DeH
		unknown  bool
		wantErr  error
		wantCode string
	}{
		"unknown server": {unknown: true, wantErr: ecsclient.ErrServerNotFound, wantCode: "Ecs.0114"},
		"running server": {spec: spec(ecstest.ServerSpec{Status: ecstest.StatusActive}), wantErr: ecsclient.ErrNotStopped, wantCode: "Ecs.0100"},
		"locked server":  {spec: spec(ecstest.ServerSpec{Locked: true}), wantErr: ecsclient.ErrLocked, wantCode: "Ecs.0605"},
		"prepaid server": {spec: spec(ecstest.ServerSpec{ChargingMode: ecstest.ChargingPrepaid}), wantErr: ecsclient.ErrInvalidParameter, wantCode: "Ecs.0005"},
		"unknown DeH":    {spec: spec(ecstest.ServerSpec{}), target: func(*ecstest.Server) string { return "0f0e0d0c-0b0a-4908-8706-050403020100" }, wantErr: ecsclient.ErrInvalidParameter, wantCode: "Ecs.0005"},
		"same DeH": {spec: func(_ *ecstest.Server, target string) ecstest.ServerSpec {
			return ecstest.ServerSpec{DedicatedHostID: target}
		}, wantErr: ecsclient.ErrSameHost, wantCode: "Ecs.0221"},
		"full DeH, at once": {
			spec: spec(ecstest.ServerSpec{VCPUs: 8}),
			target: func(srv *ecstest.Server) string {
				return srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 4, RejectWhenFull: true})
			},
			wantErr: ecsclient.ErrInsufficientResources, wantCode: "Ecs.0319",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := ecstest.NewServer(t)
			client := srv.Client()
			target := srv.AddDedicatedHost(ecstest.HostSpec{})
			if tt.target != nil {
				target = tt.target(srv)
			}
			sv := "5c2c8a6e-0000-4000-8000-000000000000"
			if !tt.unknown {
				sv = srv.AddServer(tt.spec(srv, target))
			}
			_, err := client.MigrateServer(t.Context(), srv.ProjectID(), sv, ecsclient.Target{DedicatedHostID: target})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			apiErr, ok := errors.AsType[*ecsclient.APIError](err)
			if !ok || apiErr.Code != tt.wantCode {
				t.Fatalf("err = %v, want an APIError with code %s", err, tt.wantCode)
			}
			log := srv.Requests()
			if len(log) != 1 || log[0].RequestID != apiErr.RequestID || log[0].Applied {
				t.Errorf("APIError request id %s, log %+v", apiErr.RequestID, log)
			}
			if ecsclient.IsTransient(err) {
				t.Error("a refusal classified as transient")
			}
		})
	}
}

func spec(s ecstest.ServerSpec) func(*ecstest.Server, string) ecstest.ServerSpec {
	return func(*ecstest.Server, string) ecstest.ServerSpec { return s }
}

func TestClientCapacityFailure(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t, ecstest.WithJobTimings(timings))
	client := srv.Client()
	p := srv.ProjectID()
	small := srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 2, MemoryMB: 4096})
	sv := srv.AddServer(ecstest.ServerSpec{VCPUs: 4, RAMMB: 8192})
	jobID, err := client.MigrateServer(t.Context(), p, sv, ecsclient.Target{DedicatedHostID: small})
	if err != nil {
		t.Fatalf("MigrateServer: %v", err)
	}
	srv.Advance(time.Second)
	job := mustShowJob(t, client, p, jobID)
	if job.Status != ecsclient.JobFail || job.ErrorCode != "Ecs.0319" || !strings.Contains(job.FailReason, "NUMA") || job.EndTime.IsZero() {
		t.Errorf("job = %+v, want FAIL Ecs.0319 with a NUMA reason", job)
	}
	s := mustShowServer(t, client, p, sv)
	if !s.Stopped() || s.DedicatedHostID != "" {
		t.Errorf("server after FAIL = %+v", s)
	}
}

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

func TestClientAuthentication(t *testing.T) {
	t.Parallel()
	temp := ecstest.GenerateTemporaryCredential()
	const token = "iam-token-for-the-simulator"
	tests := map[string]struct {
		opts    func(srv *ecstest.Server) []ecsclient.Option
		server  []ecstest.Option
		wantErr error
	}{
		"generated credential": {opts: func(*ecstest.Server) []ecsclient.Option { return nil }},
		"wrong secret key": {
			opts: func(srv *ecstest.Server) []ecsclient.Option {
				c := srv.Credentials()
				c.SecretKey = "not-the-secret"
				return []ecsclient.Option{ecsclient.WithCredentials(c)}
			},
			wantErr: ecsclient.ErrAuthFailed,
		},
		"unknown access key": {
			opts: func(*ecstest.Server) []ecsclient.Option {
				c := ecstest.GenerateCredential()
				return []ecsclient.Option{ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: c.AccessKey, SecretKey: c.SecretKey})}
			},
			wantErr: ecsclient.ErrAuthFailed,
		},
		"client clock 20 minutes behind the gateway": {
			opts:    func(*ecstest.Server) []ecsclient.Option { return nil },
			server:  []ecstest.Option{ecstest.WithGatewayClock(ecstest.NewManualClock(time.Now().Add(20 * time.Minute)))},
			wantErr: ecsclient.ErrAuthFailed,
		},
		"temporary credential": {
			opts: func(*ecstest.Server) []ecsclient.Option {
				return []ecsclient.Option{ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: temp.AccessKey, SecretKey: temp.SecretKey, SecurityToken: temp.SecurityToken})}
			},
			server: []ecstest.Option{ecstest.WithCredentials(temp)},
		},
		"temporary credential without its token": {
			opts: func(*ecstest.Server) []ecsclient.Option {
				return []ecsclient.Option{ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: temp.AccessKey, SecretKey: temp.SecretKey})}
			},
			server:  []ecstest.Option{ecstest.WithCredentials(temp)},
			wantErr: ecsclient.ErrAuthFailed,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := ecstest.NewServer(t, tt.server...)
			sv := srv.AddServer(ecstest.ServerSpec{})
			client := srv.Client(tt.opts(srv)...)
			_, err := client.ShowServer(t.Context(), srv.ProjectID(), sv)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				for _, secret := range []string{srv.Credentials().SecretKey, temp.SecretKey, temp.SecurityToken} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error reveals a secret: %v", err)
					}
				}
			}
		})
	}

	t.Run("X-Auth-Token", func(t *testing.T) {
		t.Parallel()
		srv := ecstest.NewServer(t, ecstest.WithTokens(token))
		sv := srv.AddServer(ecstest.ServerSpec{})
		for tok, wantErr := range map[string]error{token: nil, "forged": ecsclient.ErrAuthFailed} {
			client, err := ecsclient.New(ecsclient.WithEndpoint(srv.URL), ecsclient.WithToken(tok),
				ecsclient.WithHTTPClient(&http.Client{}), ecsclient.WithRetryPolicy(ecsclient.RetryPolicy{MaxAttempts: 1}))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := client.ShowServer(t.Context(), srv.ProjectID(), sv); !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
				t.Errorf("token %q: err = %v, want %v", tok, err, wantErr)
			}
		}
	})
}

func TestClientBatchPower(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t, ecstest.WithJobTimings(timings))
	client := srv.Client()
	ctx, p := t.Context(), srv.ProjectID()
	a := srv.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive})
	b := srv.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive})

	stop, err := client.BatchStopServers(ctx, p, []string{a, b}, true)
	if err != nil {
		t.Fatalf("BatchStopServers: %v", err)
	}
	if s := mustShowServer(t, client, p, a); s.Status != "ACTIVE" || s.TaskState != "powering-off" {
		t.Errorf("while stopping: %s/%s", s.Status, s.TaskState)
	}
	srv.Advance(11 * time.Second)
	job := mustShowJob(t, client, p, stop)
	var subs []string
	for _, sj := range job.SubJobs {
		subs = append(subs, sj.ServerID+":"+string(sj.Status))
	}
	if diff := cmp.Diff([]string{a + ":SUCCESS", b + ":SUCCESS"}, subs, cmpopts.SortSlices(func(x, y string) bool { return x < y })); diff != "" || job.Status != ecsclient.JobSuccess {
		t.Errorf("stop job %s, sub-jobs (-want +got):\n%s", job.Status, diff)
	}
	if !mustShowServer(t, client, p, b).Stopped() {
		t.Error("server not stopped")
	}

	start, err := client.BatchStartServers(ctx, p, []string{a})
	if err != nil {
		t.Fatalf("BatchStartServers: %v", err)
	}
	srv.Advance(11 * time.Second)
	if job := mustShowJob(t, client, p, start); job.Status != ecsclient.JobSuccess {
		t.Errorf("start job = %+v", job)
	}
	if s := mustShowServer(t, client, p, a); s.Status != "ACTIVE" || s.PowerState != 1 {
		t.Errorf("after start: %+v", s)
	}
}

func TestClientKeepsBasePath(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t, ecstest.WithBasePath("/ecs-proxy"))
	sv := srv.AddServer(ecstest.ServerSpec{})
	if _, err := srv.Client().ShowServer(t.Context(), srv.ProjectID(), sv); err != nil {
		t.Fatalf("with the base path: %v", err)
	}
	root := strings.TrimSuffix(srv.URL, "/ecs-proxy")
	_, err := srv.Client(ecsclient.WithEndpoint(root)).ShowServer(t.Context(), srv.ProjectID(), sv)
	apiErr, ok := errors.AsType[*ecsclient.APIError](err)
	if !ok || apiErr.StatusCode != http.StatusNotFound || apiErr.Code != "APIGW.0101" {
		t.Fatalf("outside the base path: %v, want 404 APIGW.0101", err)
	}
}

func mustShowJob(t *testing.T, c *ecsclient.Client, project, id string) *ecsclient.Job {
	t.Helper()
	j, err := c.ShowJob(t.Context(), project, id)
	if err != nil {
		t.Fatalf("ShowJob %s: %v", id, err)
	}
	return j
}

func mustShowServer(t *testing.T, c *ecsclient.Client, project, id string) *ecsclient.Server {
	t.Helper()
	s, err := c.ShowServer(t.Context(), project, id)
	if err != nil {
		t.Fatalf("ShowServer %s: %v", id, err)
	}
	return s
}
