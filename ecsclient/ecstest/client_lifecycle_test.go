package ecstest_test

import (
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
		Updated: before.Updated,
	}
	if _, err := time.Parse(time.RFC3339, before.Updated); err != nil {
		t.Errorf("updated %q: %v", before.Updated, err)
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

// A server's own migration time replaces the simulator's for its
// migrations only.
func TestClientMigrationTimePerServer(t *testing.T) {
	t.Parallel()
	srv := ecstest.NewServer(t, ecstest.WithJobTimings(timings))
	client := srv.Client()
	ctx, p := t.Context(), srv.ProjectID()
	to := srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 32768})
	slow := srv.AddServer(ecstest.ServerSpec{Migrating: 10 * time.Minute})
	quick := srv.AddServer(ecstest.ServerSpec{})
	start := srv.Clock().Now()
	var jobs []string
	for _, sv := range []string{slow, quick} {
		id, err := client.MigrateServer(ctx, p, sv, ecsclient.Target{DedicatedHostID: to})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, id)
	}
	srv.Advance(time.Hour)
	for i, want := range []time.Duration{
		timings.Queued + 10*time.Minute + timings.Finishing,
		timings.Queued + timings.Migrating + timings.Finishing,
	} {
		j, ok := srv.Job(jobs[i])
		if !ok || j.Status != "SUCCESS" || j.EndTime.Sub(start) != want {
			t.Errorf("job %d: %+v, want SUCCESS after %s", i, j, want)
		}
	}
}
