package ecstest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestMigrateRefusals(t *testing.T) {
	t.Parallel()
	type fixture struct {
		srv            *Server
		server, target string
		project        string
	}
	tests := map[string]struct {
		setup      func(t *testing.T, f *fixture)
		body       func(f *fixture) string
		wantStatus int
		wantCode   string
	}{
		"unknown server": {
			setup:      func(t *testing.T, f *fixture) { f.server = "5c2c8a6e-0000-4000-8000-000000000000" },
			wantStatus: http.StatusNotFound, wantCode: "Ecs.0114",
		},
		"server of another project": {
			setup: func(t *testing.T, f *fixture) {
				other := f.srv.AddProject()
				f.server = f.srv.AddServer(ServerSpec{ProjectID: other})
			},
			wantStatus: http.StatusNotFound, wantCode: "Ecs.0114",
		},
		"running server": {
			setup:      func(t *testing.T, f *fixture) { f.server = f.srv.AddServer(ServerSpec{Status: StatusActive}) },
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0100",
		},
		"server already migrating": {
			setup: func(t *testing.T, f *fixture) {
				f.server = f.srv.AddServer(ServerSpec{})
				other := f.srv.AddDedicatedHost(HostSpec{})
				newRawClient(t, f.srv).do(http.MethodPost, migratePath(f.project, f.server), migrateBody(other)).jobID(t)
			},
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0100",
		},
		"prepaid server": {
			setup:      func(t *testing.T, f *fixture) { f.server = f.srv.AddServer(ServerSpec{ChargingMode: ChargingPrepaid}) },
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0005",
		},
		"spot server": {
			setup:      func(t *testing.T, f *fixture) { f.server = f.srv.AddServer(ServerSpec{ChargingMode: ChargingSpot}) },
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0005",
		},
		"locked server": {
			setup:      func(t *testing.T, f *fixture) { f.server = f.srv.AddServer(ServerSpec{Locked: true}) },
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0605",
		},
		"locked beats running": {
			setup: func(t *testing.T, f *fixture) {
				f.server = f.srv.AddServer(ServerSpec{Locked: true, Status: StatusActive})
			},
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0605",
		},
		"same DeH": {
			setup: func(t *testing.T, f *fixture) {
				f.server = f.srv.AddServer(ServerSpec{DedicatedHostID: f.target})
			},
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0221",
		},
		"public pool to public pool": {
			setup:      func(t *testing.T, f *fixture) { f.server = f.srv.AddServer(ServerSpec{}) },
			body:       func(f *fixture) string { return migrateBody("") },
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0005",
		},
		"unknown DeH": {
			setup:      func(t *testing.T, f *fixture) { f.server = f.srv.AddServer(ServerSpec{}) },
			body:       func(f *fixture) string { return migrateBody("9d0e7a6c-0000-4000-8000-000000000000") },
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0005",
		},
		"DeH of another project": {
			setup: func(t *testing.T, f *fixture) {
				f.server = f.srv.AddServer(ServerSpec{})
				f.target = f.srv.AddDedicatedHost(HostSpec{ProjectID: f.srv.AddProject()})
			},
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0005",
		},
		"full DeH that rejects at once": {
			setup: func(t *testing.T, f *fixture) {
				f.server = f.srv.AddServer(ServerSpec{VCPUs: 8})
				f.target = f.srv.AddDedicatedHost(HostSpec{VCPUs: 4, RejectWhenFull: true})
			},
			wantStatus: http.StatusBadRequest, wantCode: "Ecs.0319",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t)
			f := &fixture{srv: srv, project: srv.ProjectID()}
			f.target = srv.AddDedicatedHost(HostSpec{})
			tt.setup(t, f)
			body := migrateBody(f.target)
			if tt.body != nil {
				body = tt.body(f)
			}
			before, _ := srv.Server(f.server)
			resp := newRawClient(t, srv).do(http.MethodPost, migratePath(f.project, f.server), body).mustStatus(t, tt.wantStatus)
			if code := resp.errorCode(t); code != tt.wantCode {
				t.Errorf("code = %s, want %s (%s)", code, tt.wantCode, resp.body)
			}
			after, _ := srv.Server(f.server)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a refused migration changed the server (-before +after):\n%s", diff)
			}
			if n := srv.MigrateCalls(f.server); n < 1 {
				t.Errorf("MigrateCalls = %d, want the call counted", n)
			}
		})
	}
}

func TestMigrateBodyValidation(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	deh := srv.AddDedicatedHost(HostSpec{})
	tests := map[string]struct {
		body     string
		fromDeH  bool   // the server starts on another DeH
		wantCode string // "" means accepted
	}{
		"SDK DeH body":              {body: `{"migrate":{"dedicated_host_id":"` + deh + "\"}}\n"},
		"empty options is the pool": {body: `{"migrate":{}}`, fromDeH: true},
		"null host id is the pool":  {body: `{"migrate":{"dedicated_host_id":null}}`, fromDeH: true},
		"unknown fields tolerated":  {body: `{"migrate":null,"extra":1}`, fromDeH: true},
		"empty":                     {body: "", wantCode: "Ecs.0005"},
		"JSON null":                 {body: "null", wantCode: "Ecs.0005"},
		"array":                     {body: "[]", wantCode: "Ecs.0005"},
		"no migrate key":            {body: `{}`, wantCode: "Ecs.0005"},
		"misspelt key":              {body: `{"migration":null}`, wantCode: "Ecs.0005"},
		"migrate is a number":       {body: `{"migrate":1}`, wantCode: "Ecs.0005"},
		"migrate is a string":       {body: `{"migrate":"` + deh + `"}`, wantCode: "Ecs.0005"},
		"host id is a number":       {body: `{"migrate":{"dedicated_host_id":5}}`, wantCode: "Ecs.0005"},
		"host id is empty":          {body: `{"migrate":{"dedicated_host_id":""}}`, wantCode: "Ecs.0005"},
		"trailing garbage":          {body: `{"migrate":null} x`, wantCode: "Ecs.0005"},
		"truncated":                 {body: `{"migrate":{"dedicated_host_id":"`, wantCode: "Ecs.0005"},
		"not JSON":                  {body: `migrate=null`, wantCode: "Ecs.0005"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spec := ServerSpec{}
			if tt.fromDeH {
				spec.DedicatedHostID = srv.AddDedicatedHost(HostSpec{})
			}
			sv := srv.AddServer(spec)
			resp := c.do(http.MethodPost, migratePath(srv.ProjectID(), sv), tt.body)
			if tt.wantCode == "" {
				resp.jobID(t)
				return
			}
			resp.mustStatus(t, http.StatusBadRequest)
			if code := resp.errorCode(t); code != tt.wantCode {
				t.Errorf("code = %s, want %s", code, tt.wantCode)
			}
			if srv.Migrations(sv) != 0 {
				t.Error("a refused body started a migration")
			}
		})
	}
}

func TestMigrationFailures(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		setup          func(t *testing.T, srv *Server, server, target string)
		targetSpec     HostSpec
		wantCode       string
		wantReasonPart string
		wantPhase      time.Duration // model time at which the job fails
	}{
		"no room on the target": {
			targetSpec: HostSpec{VCPUs: 2, MemoryMB: 65536},
			wantCode:   "Ecs.0319", wantReasonPart: "NUMA node", wantPhase: time.Second,
		},
		"target in fault state": {
			setup: func(t *testing.T, srv *Server, _, target string) {
				if err := srv.SetHostState(target, HostFault); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: "Ecs.0319", wantReasonPart: "is fault", wantPhase: time.Second,
		},
		"scripted failure": {
			setup: func(t *testing.T, srv *Server, server, _ string) {
				if err := srv.FailMigrations(server, "Ecs.9999", "hypervisor exploded"); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: "Ecs.9999", wantReasonPart: "hypervisor exploded", wantPhase: 31 * time.Second,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, WithJobTimings(JobTimings{Queued: time.Second, Migrating: 30 * time.Second, Finishing: 5 * time.Second}))
			c := newRawClient(t, srv)
			p := srv.ProjectID()
			from := srv.AddDedicatedHost(HostSpec{})
			target := srv.AddDedicatedHost(tt.targetSpec)
			sv := srv.AddServer(ServerSpec{DedicatedHostID: from, VCPUs: 4, RAMMB: 8192})
			if tt.setup != nil {
				tt.setup(t, srv, sv, target)
			}
			targetBefore, _ := srv.Host(target)
			start := srv.Clock().Now()
			job := c.do(http.MethodPost, migratePath(p, sv), migrateBody(target)).jobID(t)
			srv.Advance(tt.wantPhase - time.Millisecond)
			if j, _ := srv.Job(job); j.Status == JobFail {
				t.Fatalf("failed before %v", tt.wantPhase)
			}
			srv.Advance(time.Millisecond)
			m := c.do(http.MethodGet, jobPath(p, job), "").mustStatus(t, http.StatusOK).object(t)
			reason, _ := m["fail_reason"].(string)
			if m["status"] != JobFail || m["error_code"] != tt.wantCode || !strings.Contains(reason, tt.wantReasonPart) {
				t.Errorf("job = %v, want FAIL %s with reason containing %q", m, tt.wantCode, tt.wantReasonPart)
			}
			if want := start.Add(tt.wantPhase).UTC().Format(jobTimeLayout); m["end_time"] != want {
				t.Errorf("end_time = %v, want %s", m["end_time"], want)
			}
			s, _ := srv.Server(sv)
			if s.Status != StatusShutoff || s.TaskState != "" || s.DedicatedHostID != from {
				t.Errorf("after FAIL the server is %s/%q on %s, want SHUTOFF, idle, on %s", s.Status, s.TaskState, s.DedicatedHostID, from)
			}
			if h, _ := srv.Host(target); !cmp.Equal(h, targetBefore) {
				t.Errorf("target capacity changed by a failed job:\n%s", cmp.Diff(targetBefore, h))
			}
			// A failed migration can be retried.
			c.do(http.MethodPost, migratePath(p, sv), migrateBody(target)).jobID(t)
		})
	}
}

func TestCapacityAcrossConcurrentMigrations(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithJobTimings(JobTimings{Queued: time.Second, Migrating: time.Minute}))
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	target := srv.AddDedicatedHost(HostSpec{VCPUs: 6, MemoryMB: 65536})
	a := srv.AddServer(ServerSpec{VCPUs: 4})
	b := srv.AddServer(ServerSpec{VCPUs: 4})
	ja := c.do(http.MethodPost, migratePath(p, a), migrateBody(target)).jobID(t)
	jb := c.do(http.MethodPost, migratePath(p, b), migrateBody(target)).jobID(t)
	srv.Advance(2 * time.Minute)
	sa, _ := srv.Job(ja)
	sb, _ := srv.Job(jb)
	if sa.Status != JobSuccess || sb.Status != JobFail || sb.ErrorCode != "Ecs.0319" {
		t.Errorf("first job %s, second %s %s: want the first to take the room and the second to FAIL", sa.Status, sb.Status, sb.ErrorCode)
	}
	if h, _ := srv.Host(target); h.AvailableVCPUs != 2 || !cmp.Equal(h.Instances, []string{a}) {
		t.Errorf("target = %+v", h)
	}
}
