package ecstest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestShowServerShape(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	deh := srv.AddDedicatedHost(HostSpec{})
	onDeH := srv.AddServer(ServerSpec{DedicatedHostID: deh, VCPUs: 4, RAMMB: 8192, Name: "db-1"})
	inPool := srv.AddServer(ServerSpec{Status: StatusActive, ChargingMode: ChargingPrepaid, Locked: true})

	tests := map[string]struct {
		id   string
		want map[string]any
		raw  []string // substrings the exact bytes must hold
	}{
		"stopped on a DeH": {
			id: onDeH,
			want: map[string]any{
				"id": onDeH, "name": "db-1", "status": "SHUTOFF", "OS-EXT-STS:vm_state": "stopped",
				"OS-EXT-STS:task_state": nil, "OS-EXT-STS:power_state": json.Number("4"), "locked": false,
				"charging_mode": "0", "vcpus": "4", "ram": "8192",
				"os:scheduler_hints": map[string]any{"dedicated_host_id": []any{deh}, "tenancy": []any{"dedicate"}},
			},
			raw: []string{`"OS-EXT-STS:task_state":null`, `"vcpus":"4"`, `"ram":"8192"`},
		},
		"running prepaid locked in the public pool": {
			id: inPool,
			want: map[string]any{
				"id": inPool, "name": "ecs-" + inPool[:8], "status": "ACTIVE", "OS-EXT-STS:vm_state": "active",
				"OS-EXT-STS:task_state": nil, "OS-EXT-STS:power_state": json.Number("1"), "locked": true,
				"charging_mode": "1", "vcpus": "2", "ram": "4096",
				"os:scheduler_hints": map[string]any{},
			},
			raw: []string{`"os:scheduler_hints":{}`},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp := c.do(http.MethodGet, serverPath(srv.ProjectID(), tt.id), "").mustStatus(t, http.StatusOK)
			if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type = %q", ct)
			}
			if !hex32.MatchString(resp.header.Get("X-Request-Id")) {
				t.Errorf("X-Request-Id = %q", resp.header.Get("X-Request-Id"))
			}
			m := resp.object(t)
			s, _ := m["server"].(map[string]any)
			got := map[string]any{}
			for k := range tt.want {
				switch k {
				case "charging_mode":
					got[k] = field(s, "metadata", k)
				case "vcpus", "ram":
					got[k] = field(s, "flavor", k)
				default:
					got[k] = s[k]
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("server fields (-want +got):\n%s", diff)
			}
			if h, _ := s["hostId"].(string); len(h) != 56 {
				t.Errorf("hostId %q is not 56 hex digits", h)
			}
			for _, sub := range tt.raw {
				if !strings.Contains(string(resp.body), sub) {
					t.Errorf("body lacks %s:\n%s", sub, resp.body)
				}
			}
		})
	}
}

func TestMigrationLifecycle(t *testing.T) {
	t.Parallel()
	timings := JobTimings{Queued: time.Second, Migrating: 30 * time.Second, Finishing: 5 * time.Second}
	srv := NewServer(t, WithJobTimings(timings))
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	from := srv.AddDedicatedHost(HostSpec{VCPUs: 8, MemoryMB: 16384})
	to := srv.AddDedicatedHost(HostSpec{VCPUs: 8, MemoryMB: 16384})
	sv := srv.AddServer(ServerSpec{DedicatedHostID: from, VCPUs: 4, RAMMB: 8192})
	start := srv.Clock().Now()

	job := c.do(http.MethodPost, migratePath(p, sv), migrateBody(to)).jobID(t)

	type view struct {
		JobStatus, EndTime, ServerStatus string
		TaskState                        any
		DeH                              any
		FromFree, ToFree                 int
		ErrorCode                        any
	}
	look := func(t *testing.T) view {
		t.Helper()
		j := c.do(http.MethodGet, jobPath(p, job), "").mustStatus(t, http.StatusOK).object(t)
		s := c.do(http.MethodGet, serverPath(p, sv), "").mustStatus(t, http.StatusOK).object(t)["server"].(map[string]any)
		if bt, _ := j["begin_time"].(string); !msTimeRe.MatchString(bt) {
			t.Errorf("begin_time %q is not UTC with milliseconds", bt)
		}
		if field(j, "entities", "server_id") != sv || j["job_id"] != job || j["job_type"] != JobTypeMigrate {
			t.Errorf("job identity wrong: %v", j)
		}
		fh, _ := srv.Host(from)
		th, _ := srv.Host(to)
		return view{
			JobStatus: j["status"].(string), EndTime: j["end_time"].(string), ErrorCode: j["error_code"],
			ServerStatus: s["status"].(string), TaskState: s["OS-EXT-STS:task_state"],
			DeH: field(s, "os:scheduler_hints", "dedicated_host_id"), FromFree: fh.AvailableVCPUs, ToFree: th.AvailableVCPUs,
		}
	}
	end := start.Add(36 * time.Second).UTC().Format(jobTimeLayout)
	steps := []struct {
		name    string
		advance time.Duration
		want    view
	}{
		{"submitted", 0, view{JobStatus: "INIT", ServerStatus: "RESIZE", TaskState: "resize_prep", DeH: []any{from}, FromFree: 4, ToFree: 8}},
		{"running", time.Second, view{JobStatus: "RUNNING", ServerStatus: "RESIZE", TaskState: "resize_migrating", DeH: []any{from}, FromFree: 4, ToFree: 4}},
		{"finishing", 30 * time.Second, view{JobStatus: "RUNNING", ServerStatus: "RESIZE", TaskState: "resize_finish", DeH: []any{from}, FromFree: 4, ToFree: 4}},
		{"done", 5 * time.Second, view{JobStatus: "SUCCESS", EndTime: end, ServerStatus: "SHUTOFF", DeH: []any{to}, FromFree: 8, ToFree: 4}},
	}
	for _, st := range steps {
		srv.Advance(st.advance)
		if diff := cmp.Diff(st.want, look(t)); diff != "" {
			t.Fatalf("%s (-want +got):\n%s", st.name, diff)
		}
	}
	if h, _ := srv.Host(to); !cmp.Equal(h.Instances, []string{sv}) {
		t.Errorf("target instances = %v, want [%s]", h.Instances, sv)
	}
	if h, _ := srv.Host(from); len(h.Instances) != 0 {
		t.Errorf("source instances = %v, want none", h.Instances)
	}

	// Retention: visible until a day after the end, then gone as if unknown.
	srv.Advance(DefaultRetention - time.Millisecond)
	c.do(http.MethodGet, jobPath(p, job), "").mustStatus(t, http.StatusOK)
	srv.Advance(time.Millisecond)
	resp := c.do(http.MethodGet, jobPath(p, job), "").mustStatus(t, http.StatusBadRequest)
	if code := resp.errorCode(t); code != "Common.0011" {
		t.Errorf("purged job: code %s, want Common.0011", code)
	}
	if _, ok := srv.Job(job); ok {
		t.Error("Job() still finds the purged job")
	}

	// Back to the public pool.
	job2 := c.do(http.MethodPost, migratePath(p, sv), migrateBody("")).jobID(t)
	srv.Advance(time.Minute)
	j, _ := srv.Job(job2)
	s, _ := srv.Server(sv)
	if j.Status != JobSuccess || s.DedicatedHostID != "" || s.Status != StatusShutoff {
		t.Errorf("to public pool: job %s, server on %q status %s", j.Status, s.DedicatedHostID, s.Status)
	}
	raw := c.do(http.MethodGet, serverPath(p, sv), "").body
	if !strings.Contains(string(raw), `"os:scheduler_hints":{}`) {
		t.Errorf("server in the public pool: want empty scheduler hints, got %s", raw)
	}
}

func TestRetentionConfigurable(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		retention time.Duration
		after     time.Duration
		wantFound bool
	}{
		"short retention purges":    {retention: time.Hour, after: time.Hour + time.Minute, wantFound: false},
		"short retention keeps":     {retention: time.Hour, after: 59 * time.Minute, wantFound: true},
		"negative keeps forever":    {retention: -1, after: 365 * 24 * time.Hour, wantFound: true},
		"default keeps a few hours": {retention: 0, after: 23 * time.Hour, wantFound: true},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, WithRetention(tt.retention), WithJobTimings(JobTimings{}))
			c := newRawClient(t, srv)
			deh := srv.AddDedicatedHost(HostSpec{})
			sv := srv.AddServer(ServerSpec{})
			job := c.do(http.MethodPost, migratePath(srv.ProjectID(), sv), migrateBody(deh)).jobID(t)
			srv.Advance(tt.after)
			resp := c.do(http.MethodGet, jobPath(srv.ProjectID(), job), "")
			if got := resp.status == http.StatusOK; got != tt.wantFound {
				t.Errorf("found = %v (status %d), want %v", got, resp.status, tt.wantFound)
			}
		})
	}
}

func TestInstantJobs(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithJobTimings(JobTimings{}))
	c := newRawClient(t, srv)
	deh := srv.AddDedicatedHost(HostSpec{})
	sv := srv.AddServer(ServerSpec{})
	job := c.do(http.MethodPost, migratePath(srv.ProjectID(), sv), migrateBody(deh)).jobID(t)
	m := c.do(http.MethodGet, jobPath(srv.ProjectID(), job), "").mustStatus(t, http.StatusOK).object(t)
	if m["status"] != JobSuccess || m["begin_time"] != m["end_time"] {
		t.Errorf("zero timings: job %v, want SUCCESS with end = begin", m)
	}
}
