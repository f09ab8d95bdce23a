package ecsclient_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// These tests run the client against the ECS simulator (an external test
// package, since ecstest imports ecsclient). The simulator verifies every
// signature with its own verifier; its fault scripts reproduce the failure
// modes the retry rules are about, and its counters show what the cloud
// saw.

func TestSimulator_migrationLifecycle(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t)
	project := sim.ProjectID()
	from := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 65536})
	to := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 65536})
	server := sim.AddServer(ecstest.ServerSpec{DedicatedHostID: from, VCPUs: 4, RAMMB: 8192})
	c := sim.Client()
	ctx := t.Context()

	before, err := c.ShowServer(ctx, project, server)
	if err != nil {
		t.Fatal(err)
	}
	if !before.Stopped() || !before.PayPerUse() || before.Locked || before.DedicatedHostID != from || before.VCPUs != 4 || before.RAMMB != 8192 {
		t.Fatalf("pre-flight view = %+v", before)
	}

	jobID, err := c.MigrateServer(ctx, project, server, ecsclient.Target{DedicatedHostID: to})
	if err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Second)
	during, err := c.ShowServer(ctx, project, server)
	if err != nil {
		t.Fatal(err)
	}
	if during.Status != "RESIZE" || during.TaskState == "" || during.Stopped() {
		t.Errorf("during migration: status %q task %q", during.Status, during.TaskState)
	}
	running, err := c.ShowJob(ctx, project, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if running.Status.Terminal() || running.ServerID != server {
		t.Errorf("running job = %+v", running)
	}

	sim.Advance(time.Hour)
	done, err := c.ShowJob(ctx, project, jobID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != ecsclient.JobSuccess || done.BeginTime.IsZero() || done.EndTime.Before(done.BeginTime) {
		t.Errorf("finished job = %+v", done)
	}
	after, err := c.ShowServer(ctx, project, server)
	if err != nil {
		t.Fatal(err)
	}
	if !after.Stopped() || after.DedicatedHostID != to {
		t.Errorf("after migration: %+v", after)
	}

	// Back to the public pool ({"migrate": null}), then the same target
	// again is refused.
	if _, err := c.MigrateServer(ctx, project, server, ecsclient.Target{}); err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Hour)
	if s, err := c.ShowServer(ctx, project, server); err != nil || s.OnDedicatedHost() {
		t.Errorf("after moving to the public pool: %+v, %v", s, err)
	}

	// A finished job disappears after the retention period.
	sim.Advance(48 * time.Hour)
	if _, err := c.ShowJob(ctx, project, jobID); !errors.Is(err, ecsclient.ErrJobNotFound) {
		t.Errorf("expired job: err = %v, want ErrJobNotFound", err)
	}
}

func TestSimulator_refusals(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t)
	project := sim.ProjectID()
	host := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 65536})
	running := sim.AddServer(ecstest.ServerSpec{Status: "ACTIVE"})
	locked := sim.AddServer(ecstest.ServerSpec{Locked: true})
	onHost := sim.AddServer(ecstest.ServerSpec{DedicatedHostID: host})
	c := sim.Client()
	tests := map[string]struct {
		server string
		want   error
	}{
		"running":        {running, ecsclient.ErrNotStopped},
		"locked":         {locked, ecsclient.ErrLocked},
		"same host":      {onHost, ecsclient.ErrSameHost},
		"unknown server": {"a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", ecsclient.ErrServerNotFound},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := c.MigrateServer(t.Context(), project, tc.server, ecsclient.Target{DedicatedHostID: host})
			if !errors.Is(err, tc.want) || errors.Is(err, ecsclient.ErrOutcomeUnknown) || ecsclient.IsTransient(err) {
				t.Errorf("err = %v, want a permanent %v", err, tc.want)
			}
			if n := sim.MigrateCalls(tc.server); n != 1 {
				t.Errorf("%d migrate calls, want 1", n)
			}
		})
	}
}

func TestSimulator_faults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		op             ecstest.Op
		fault          ecstest.Fault
		times          int
		wantOutcome    bool // MigrateServer reports ErrOutcomeUnknown
		wantCalls      int  // migrate requests the simulator saw
		wantMigrations int  // migrations it started
	}{
		{"gateway throttle twice", ecstest.OpMigrateServer, ecstest.GatewayThrottle(), 2, false, 3, 1},
		{"API throttle", ecstest.OpMigrateServer, ecstest.APIThrottle(), 1, false, 2, 1},
		{"202 flow limit", ecstest.OpMigrateServer, ecstest.FlowLimit(), 3, false, 4, 1},
		{"applied, response lost", ecstest.OpMigrateServer, ecstest.ResponseLost(), 1, true, 1, 1},
		{"connection reset", ecstest.OpMigrateServer, ecstest.ConnectionReset(), 1, true, 1, 0},
		{"truncated body", ecstest.OpMigrateServer, ecstest.TruncatedBody(), 1, true, 1, 1},
		{"malformed body", ecstest.OpMigrateServer, ecstest.MalformedBody(), 1, true, 1, 1},
		{"503", ecstest.OpMigrateServer, ecstest.ServerError(503), 1, true, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := ecstest.NewServer(t)
			host := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 65536})
			server := sim.AddServer(ecstest.ServerSpec{})
			sim.InjectNext(tc.op, tc.times, tc.fault)
			jobID, err := sim.Client().MigrateServer(t.Context(), sim.ProjectID(), server, ecsclient.Target{DedicatedHostID: host})
			if got := errors.Is(err, ecsclient.ErrOutcomeUnknown); got != tc.wantOutcome {
				t.Errorf("err = %v; outcome unknown %v, want %v", err, got, tc.wantOutcome)
			}
			if !tc.wantOutcome && (err != nil || jobID == "") {
				t.Errorf("MigrateServer = %q, %v; want a job", jobID, err)
			}
			if n := sim.MigrateCalls(server); n != tc.wantCalls {
				t.Errorf("%d migrate calls, want %d", n, tc.wantCalls)
			}
			if n := sim.Migrations(server); n != tc.wantMigrations {
				t.Errorf("%d migrations started, want %d", n, tc.wantMigrations)
			}
		})
	}
}

func TestSimulator_showJobRetriesFaults(t *testing.T) {
	t.Parallel()
	for _, f := range []ecstest.Fault{ecstest.ConnectionReset(), ecstest.TruncatedBody(), ecstest.ServerError(502), ecstest.GatewayThrottle()} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			sim := ecstest.NewServer(t)
			host := sim.AddDedicatedHost(ecstest.HostSpec{VCPUs: 16, MemoryMB: 65536})
			server := sim.AddServer(ecstest.ServerSpec{})
			c := sim.Client()
			jobID, err := c.MigrateServer(t.Context(), sim.ProjectID(), server, ecsclient.Target{DedicatedHostID: host})
			if err != nil {
				t.Fatal(err)
			}
			sim.InjectNext(ecstest.OpShowJob, 2, f)
			job, err := c.ShowJob(t.Context(), sim.ProjectID(), jobID)
			if err != nil {
				t.Fatalf("ShowJob after 2 × %v: %v", f, err)
			}
			if job.ID != jobID {
				t.Errorf("job id %q, want %q", job.ID, jobID)
			}
			if n := sim.Calls(ecstest.OpShowJob); n != 3 {
				t.Errorf("%d ShowJob calls, want 3", n)
			}
		})
	}
}

func TestSimulator_rejectsBadSignature(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t)
	wrong := sim.Credentials()
	wrong.SecretKey += "x"
	c := sim.Client(ecsclient.WithCredentials(wrong))
	_, err := c.ShowJob(t.Context(), sim.ProjectID(), "ff80808288d41e1b018990260955686a")
	if !errors.Is(err, ecsclient.ErrAuthFailed) || ecsclient.IsTransient(err) {
		t.Errorf("err = %v, want a permanent ErrAuthFailed", err)
	}
}
