package ecsclient

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestShowJob(t *testing.T) {
	t.Parallel()
	ms := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		body string
		want *Job
	}{
		{
			name: "success, documented example shape",
			body: `{"status":"SUCCESS","entities":{"sub_jobs_total":1,"sub_jobs":[{"status":"SUCCESS",
				"entities":{"server_id":"` + testServer + `"},"job_id":"ff80808288d41e1b018990260955686b",
				"job_type":"createSingleServer","begin_time":"2016-04-25T20:04:34.604Z","end_time":"2016-04-25T20:08:41.593Z",
				"error_code":null,"fail_reason":null}]},"job_id":"` + testJob + `","job_type":"createServer",
				"begin_time":"2016-04-25T20:04:34.604Z","end_time":"2016-04-25T20:08:41.593Z","error_code":null,"fail_reason":null}`,
			want: &Job{
				ID: testJob, Type: "createServer", Status: JobSuccess,
				BeginTime: ms("2016-04-25T20:04:34.604Z"), EndTime: ms("2016-04-25T20:08:41.593Z"),
				SubJobs: []SubJob{{
					ID: "ff80808288d41e1b018990260955686b", Type: "createSingleServer", Status: JobSuccess,
					BeginTime: ms("2016-04-25T20:04:34.604Z"), EndTime: ms("2016-04-25T20:08:41.593Z"), ServerID: testServer,
				}},
			},
		},
		{
			name: "failed, reasons at both levels",
			body: `{"status":"FAIL","job_id":"` + testJob + `","job_type":"migrateServer","begin_time":"2026-03-01T10:00:00.001Z",
				"end_time":"2026-03-01T10:05:00.999Z","error_code":"Ecs.0319","fail_reason":"insufficient resources on NUMA node",
				"entities":{"server_id":"` + testServer + `","sub_jobs":[{"status":"FAIL","job_id":"sub1","error_code":"Ecs.0319",
				"fail_reason":"numa","entities":{"server_id":"` + testServer + `","errorcode_message":"no room"}}]}}`,
			want: &Job{
				ID: testJob, Type: "migrateServer", Status: JobFail,
				BeginTime: ms("2026-03-01T10:00:00.001Z"), EndTime: ms("2026-03-01T10:05:00.999Z"),
				ErrorCode: "Ecs.0319", FailReason: "insufficient resources on NUMA node", ServerID: testServer,
				SubJobs: []SubJob{{ID: "sub1", Status: JobFail, ErrorCode: "Ecs.0319", FailReason: "numa", ErrorMessage: "no room", ServerID: testServer}},
			},
		},
		{
			name: "unknown status kept verbatim, empty times, null entities",
			body: `{"status":"WAITING_FOR_SOMETHING","job_id":"` + testJob + `","begin_time":"","end_time":null,"entities":null}`,
			want: &Job{ID: testJob, Status: "WAITING_FOR_SOMETHING"},
		},
		{
			name: "missing job_id takes the requested one; times without millis or zone",
			body: `{"status":"RUNNING","begin_time":"2026-03-01T10:00:00Z","end_time":"2026-03-01T10:00:00.5"}`,
			want: &Job{ID: testJob, Status: JobRunning, BeginTime: ms("2026-03-01T10:00:00Z"), EndTime: ms("2026-03-01T10:00:00.5Z")},
		},
		{
			name: "pending payment",
			body: `{"status":"PENDING_PAYMENT","job_id":"` + testJob + `"}`,
			want: &Job{ID: testJob, Status: JobPendingPayment},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("project") != testProject || r.PathValue("job") != testJob {
					t.Errorf("path values %q %q", r.PathValue("project"), r.PathValue("job"))
				}
				if r.ContentLength > 0 || r.Header.Get("Content-Type") != "" {
					t.Error("GET carries a body or content type")
				}
				writeJSON(w, http.StatusOK, tc.body)
			})
			got, err := f.client.ShowJob(t.Context(), testProject, testJob)
			if err != nil {
				t.Fatalf("ShowJob: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ShowJob mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShowJob_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        int
		body          string
		wantNotFound  bool
		wantAPI       bool
		wantTransient bool // and so retried: 4 requests instead of 1
	}{
		{name: "Common.0011 (documented)", status: 400, body: `{"error":{"code":"Common.0011","message":"Failed to query system tasks."}}`, wantNotFound: true, wantAPI: true},
		{name: "404 from the ECS service", status: 404, body: `{"error":{"code":"Ecs.0114","message":"not found"}}`, wantNotFound: true, wantAPI: true},
		{name: "404 from the gateway: wrong route, not a missing job", status: 404, body: `{"error_code":"APIGW.0101","error_msg":"The API does not exist or has not been published in the environment"}`, wantAPI: true},
		{name: "404 without a code: a proxy page", status: 404, body: `404 page not found`, wantAPI: true},
		{name: "403", status: 403, body: `{"error":{"code":"Ecs.0003","message":"no permission"}}`, wantAPI: true},
		// A 2xx that says nothing usable about the job is no evidence of
		// its state: retried, and transient if it persists.
		{name: "no status in the answer", status: 200, body: `{"job_id":"` + testJob + `"}`, wantTransient: true},
		{name: "another job in the answer", status: 200, body: `{"status":"SUCCESS","job_id":"0000000088d41e1b018990260955686a"}`, wantTransient: true},
		{name: "not JSON", status: 200, body: `<html></html>`, wantTransient: true},
		{name: "wrong shape", status: 200, body: `{"status":"RUNNING","entities":{"sub_jobs":{}}}`, wantTransient: true},
		{name: "empty", status: 200, body: ``, wantTransient: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", answer(tc.status, tc.body))
			job, err := f.client.ShowJob(t.Context(), testProject, testJob)
			if err == nil {
				t.Fatalf("ShowJob = %+v, want an error", job)
			}
			if got := errors.Is(err, ErrJobNotFound); got != tc.wantNotFound {
				t.Errorf("errors.Is(%v, ErrJobNotFound) = %v, want %v", err, got, tc.wantNotFound)
			}
			if _, got := errors.AsType[*APIError](err); got != tc.wantAPI {
				t.Errorf("error %v is an *APIError: %v, want %v", err, got, tc.wantAPI)
			}
			if got := IsTransient(err); got != tc.wantTransient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.wantTransient)
			}
			want := 1
			if tc.wantTransient {
				want = 4
			}
			if n := f.requests(); n != want {
				t.Errorf("%d requests, want %d", n, want)
			}
		})
	}
}

func TestShowJob_invalidIDsNeverSent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := map[string]struct{ project, job string }{
		"project too short":  {"abc", testJob},
		"project not hex":    {"0123456789abcdef0123456789abcdeg", testJob},
		"job with slash":     {testProject, "a/b"},
		"job traversal":      {testProject, "a..b"},
		"job query":          {testProject, "a?b=1"},
		"job fragment":       {testProject, "a#b"},
		"job percent":        {testProject, "a%2Fb"},
		"job space":          {testProject, "a b"},
		"job empty":          {testProject, ""},
		"job dot":            {testProject, "."},
		"job too long":       {testProject, string(make([]byte, 65))},
		"job non-ASCII":      {testProject, "jöb"},
		"project with slash": {"0123456789abcdef/123456789abcdef", testJob},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := f.client.ShowJob(t.Context(), tc.project, tc.job)
			if !errors.Is(err, ErrInvalidID) {
				t.Errorf("err = %v, want ErrInvalidID", err)
			}
		})
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestJobStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s               JobStatus
		terminal, known bool
	}{
		{JobSuccess, true, true},
		{JobFail, true, true},
		{JobRunning, false, true},
		{JobInit, false, true},
		{JobPendingPayment, false, true},
		{"success", false, false},
		{"ROLLBACK", false, false},
		{"", false, false},
	}
	for _, tc := range tests {
		if got := tc.s.Terminal(); got != tc.terminal {
			t.Errorf("%q.Terminal() = %v, want %v", tc.s, got, tc.terminal)
		}
		if got := tc.s.Known(); got != tc.known {
			t.Errorf("%q.Known() = %v, want %v", tc.s, got, tc.known)
		}
	}
}

func TestParseAPITime(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in     string
		want   time.Time
		wantOK bool
	}{
		"millis Z":          {"2016-04-25T20:04:34.604Z", time.Date(2016, 4, 25, 20, 4, 34, 604e6, time.UTC), true},
		"no millis":         {"2018-09-13T07:06:51Z", time.Date(2018, 9, 13, 7, 6, 51, 0, time.UTC), true},
		"micros, no zone":   {"2018-09-13T07:04:09.197749", time.Date(2018, 9, 13, 7, 4, 9, 197749e3, time.UTC), true},
		"no zone, no frac":  {"2018-09-13T07:04:09", time.Date(2018, 9, 13, 7, 4, 9, 0, time.UTC), true},
		"offset with colon": {"2026-03-01T18:00:00.250+08:00", time.Date(2026, 3, 1, 10, 0, 0, 250e6, time.UTC), true},
		"offset no colon":   {"2026-03-01T18:00:00+0800", time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), true},
		"space separator":   {"2026-03-01 10:00:00.1", time.Date(2026, 3, 1, 10, 0, 0, 1e8, time.UTC), true},
		"empty":             {"", time.Time{}, true},
		"garbage":           {"yesterday", time.Time{}, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseAPITime(tc.in)
			if !got.Equal(tc.want) || ok != tc.wantOK {
				t.Errorf("parseAPITime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
			}
			if !got.IsZero() && got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
		})
	}
}
