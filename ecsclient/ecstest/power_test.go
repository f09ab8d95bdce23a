package ecstest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPowerJobs(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		body        func(ids ...string) string
		initial     []ServerSpec
		wantTask    []string // task state while the job runs
		wantStatus  []string // server status after the job
		wantJob     string
		wantSubs    []string
		wantJobType string
	}{
		"stop running servers": {
			body:       func(ids ...string) string { return actionBody("os-stop", `"type":"HARD",`, ids) },
			initial:    []ServerSpec{{Status: StatusActive}, {Status: StatusActive}},
			wantTask:   []string{"powering-off", "powering-off"},
			wantStatus: []string{StatusShutoff, StatusShutoff},
			wantJob:    JobSuccess, wantSubs: []string{JobSuccess, JobSuccess}, wantJobType: JobTypeBatchStop,
		},
		"stop is a no-op on a stopped server": {
			body:       func(ids ...string) string { return actionBody("os-stop", "", ids) },
			initial:    []ServerSpec{{Status: StatusShutoff}},
			wantTask:   []string{""},
			wantStatus: []string{StatusShutoff},
			wantJob:    JobSuccess, wantSubs: []string{JobSuccess}, wantJobType: JobTypeBatchStop,
		},
		"start stopped servers": {
			body:       func(ids ...string) string { return actionBody("os-start", "", ids) },
			initial:    []ServerSpec{{}, {}},
			wantTask:   []string{"powering-on", "powering-on"},
			wantStatus: []string{StatusActive, StatusActive},
			wantJob:    JobSuccess, wantSubs: []string{JobSuccess, JobSuccess}, wantJobType: JobTypeBatchStart,
		},
		"a locked server fails its sub-job": {
			body:       func(ids ...string) string { return actionBody("os-start", "", ids) },
			initial:    []ServerSpec{{}, {Locked: true}},
			wantTask:   []string{"powering-on", ""},
			wantStatus: []string{StatusActive, StatusShutoff},
			wantJob:    JobFail, wantSubs: []string{JobSuccess, JobFail}, wantJobType: JobTypeBatchStart,
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := NewServer(t, WithJobTimings(JobTimings{Queued: time.Second, Power: 10 * time.Second}))
			c := newRawClient(t, srv)
			p := srv.ProjectID()
			var ids []string
			for _, spec := range tt.initial {
				ids = append(ids, srv.AddServer(spec))
			}
			job := c.do(http.MethodPost, actionPath(p), tt.body(ids...)).jobID(t)
			var tasks []string
			for _, id := range ids {
				s, _ := srv.Server(id)
				tasks = append(tasks, s.TaskState)
			}
			if diff := cmp.Diff(tt.wantTask, tasks); diff != "" {
				t.Errorf("task states while queued (-want +got):\n%s", diff)
			}
			if j, _ := srv.Job(job); j.Status != JobInit {
				t.Errorf("job %s at submission, want INIT", j.Status)
			}
			srv.Advance(time.Second)
			if j, _ := srv.Job(job); j.Status != JobRunning {
				t.Errorf("job %s after the queue, want RUNNING", j.Status)
			}
			srv.Advance(10 * time.Second)
			m := c.do(http.MethodGet, jobPath(p, job), "").mustStatus(t, http.StatusOK).object(t)
			if m["status"] != tt.wantJob || m["job_type"] != tt.wantJobType {
				t.Errorf("job = %v %v, want %s %s", m["status"], m["job_type"], tt.wantJob, tt.wantJobType)
			}
			subs, _ := field(m, "entities", "sub_jobs").([]any)
			var subStatus []string
			for i, sub := range subs {
				sm := sub.(map[string]any)
				subStatus = append(subStatus, sm["status"].(string))
				if field(sm, "entities", "server_id") != ids[i] {
					t.Errorf("sub-job %d is for %v, want %s", i, field(sm, "entities", "server_id"), ids[i])
				}
				if sm["status"] == JobFail {
					msg, _ := field(sm, "entities", "errorcode_message").(string)
					if sm["error_code"] != "Ecs.0605" || !strings.Contains(msg, "locked") {
						t.Errorf("failed sub-job = %v", sm)
					}
				}
			}
			if diff := cmp.Diff(tt.wantSubs, subStatus); diff != "" {
				t.Errorf("sub-job statuses (-want +got):\n%s", diff)
			}
			if n, _ := field(m, "entities", "sub_jobs_total").(json.Number); n.String() != strconv.Itoa(len(ids)) {
				t.Errorf("sub_jobs_total = %v, want %d", n, len(ids))
			}
			var statuses []string
			for _, id := range ids {
				s, _ := srv.Server(id)
				statuses = append(statuses, s.Status)
				if s.TaskState != "" {
					t.Errorf("server %s still has task state %s", id, s.TaskState)
				}
			}
			if diff := cmp.Diff(tt.wantStatus, statuses); diff != "" {
				t.Errorf("server statuses after the job (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStopThenMigrate(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithJobTimings(JobTimings{Queued: time.Second, Power: 5 * time.Second}))
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{})
	sv := srv.AddServer(ServerSpec{Status: StatusActive})
	c.do(http.MethodPost, actionPath(p), actionBody("os-stop", "", []string{sv})).jobID(t)
	resp := c.do(http.MethodPost, migratePath(p, sv), migrateBody(deh)).mustStatus(t, http.StatusBadRequest)
	if code := resp.errorCode(t); code != "Ecs.0100" {
		t.Errorf("migrate while stopping: %s, want Ecs.0100", code)
	}
	srv.Advance(6 * time.Second)
	c.do(http.MethodPost, migratePath(p, sv), migrateBody(deh)).jobID(t)
}

func TestActionBodyValidation(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	sv := srv.AddServer(ServerSpec{})
	many := make([]string, maxBatchServers+1)
	for i := range many {
		many[i] = sv
	}
	tests := map[string]struct {
		body       string
		wantStatus int
		wantCode   string
	}{
		"two actions":        {body: `{"os-stop":{"servers":[{"id":"` + sv + `"}]},"os-start":{"servers":[{"id":"` + sv + `"}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"reboot":             {body: `{"reboot":{"type":"SOFT","servers":[{"id":"` + sv + `"}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"no servers":         {body: `{"os-stop":{"servers":[]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"null action":        {body: `{"os-stop":null}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"bad type":           {body: `{"os-stop":{"type":"GENTLE","servers":[{"id":"` + sv + `"}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"type on start":      {body: `{"os-start":{"type":"HARD","servers":[{"id":"` + sv + `"}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"empty id":           {body: `{"os-stop":{"servers":[{"id":""}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"id not a string":    {body: `{"os-stop":{"servers":[{"id":7}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"duplicate id":       {body: `{"os-stop":{"servers":[{"id":"` + sv + `"},{"id":"` + sv + `"}]}}`, wantStatus: 400, wantCode: "Ecs.0005"},
		"over 1000 servers":  {body: actionBody("os-stop", "", many), wantStatus: 400, wantCode: "Ecs.0005"},
		"not JSON":           {body: `os-stop`, wantStatus: 400, wantCode: "Ecs.0005"},
		"unknown server":     {body: actionBody("os-stop", "", []string{sv, "nope"}), wantStatus: 404, wantCode: "Ecs.0114"},
		"server elsewhere":   {body: actionBody("os-stop", "", []string{srv.AddServer(ServerSpec{ProjectID: srv.AddProject()})}), wantStatus: 404, wantCode: "Ecs.0114"},
		"soft stop accepted": {body: actionBody("os-stop", `"type":"SOFT",`, []string{sv}), wantStatus: 200},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			resp := c.do(http.MethodPost, actionPath(p), tt.body).mustStatus(t, tt.wantStatus)
			if tt.wantCode != "" {
				if code := resp.errorCode(t); code != tt.wantCode {
					t.Errorf("code = %s, want %s: %s", code, tt.wantCode, resp.body)
				}
			}
		})
	}
}

// actionBody builds an os-stop or os-start body; extra is inserted before
// "servers" (e.g. `"type":"HARD",`).
func actionBody(action, extra string, ids []string) string {
	var b strings.Builder
	b.WriteString(`{"` + action + `":{` + extra + `"servers":[`)
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"` + id + `"}`)
	}
	b.WriteString("]}}\n")
	return b.String()
}

// StopCalls and StartCalls count, per server, every authenticated power
// request that names it, whatever it was answered: applied, refused, or
// failed by an injected fault before it reached the model.
func TestPowerCallCounters(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	a, b := srv.AddServer(ServerSpec{Status: StatusActive}), srv.AddServer(ServerSpec{Status: StatusActive})
	c.do(http.MethodPost, actionPath(p), actionBody("os-stop", "", []string{a, b})).jobID(t)
	srv.InjectNext(OpBatchStopServers, 1, ServerError(503))
	c.do(http.MethodPost, actionPath(p), actionBody("os-stop", "", []string{a})).mustStatus(t, http.StatusServiceUnavailable)
	c.do(http.MethodPost, actionPath(p), actionBody("os-start", "", []string{b, "nope"})).mustStatus(t, http.StatusNotFound)
	c.do(http.MethodPost, actionPath(p), `{"os-start":null}`).mustStatus(t, http.StatusBadRequest)
	got := [][2]int{{srv.StopCalls(a), srv.StartCalls(a)}, {srv.StopCalls(b), srv.StartCalls(b)}}
	if diff := cmp.Diff([][2]int{{2, 0}, {1, 1}}, got); diff != "" {
		t.Errorf("(stop, start) calls per server (-want +got):\n%s", diff)
	}
	if srv.MigrateCalls(a) != 0 || srv.Calls(OpBatchStopServers) != 2 || srv.Calls(OpBatchStartServers) != 2 {
		t.Errorf("migrate calls %d, stop calls %d, start calls %d", srv.MigrateCalls(a), srv.Calls(OpBatchStopServers), srv.Calls(OpBatchStartServers))
	}
}
