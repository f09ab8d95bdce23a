package ecsclient

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestMigrateServer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		target   Target
		wantBody string
		wantDesc string
	}{
		{"public pool sends migrate null", Target{}, "{\"migrate\":null}\n", "public pool"},
		{"dedicated host", Target{DedicatedHostID: testHost}, "{\"migrate\":{\"dedicated_host_id\":\"" + testHost + "\"}}\n", "dedicated host " + testHost},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("project") != testProject || r.PathValue("server") != testServer {
					t.Errorf("path values %q %q", r.PathValue("project"), r.PathValue("server"))
				}
				writeJSON(w, http.StatusOK, `{"job_id":"`+testJob+`"}`)
			})
			id, err := f.client.MigrateServer(t.Context(), testProject, testServer, tc.target)
			if err != nil {
				t.Fatalf("MigrateServer: %v", err)
			}
			if id != testJob {
				t.Errorf("job id = %q, want %q", id, testJob)
			}
			if got := string(f.bodies[0]); got != tc.wantBody {
				t.Errorf("body = %q, want %q", got, tc.wantBody)
			}
			if got := tc.target.String(); got != tc.wantDesc {
				t.Errorf("Target.String() = %q, want %q", got, tc.wantDesc)
			}
		})
	}
}

func TestMigrateServer_answers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        int
		body          string
		wantIs        error // nil: only the checks below
		wantOutcome   bool  // matches ErrOutcomeUnknown
		wantTransient bool
		wantRequests  int
		wantJob       string
	}{
		{name: "201 accepted", status: 201, body: `{"job_id":"` + testJob + `"}`, wantRequests: 1, wantJob: testJob},
		{name: "202 with an older UUID job id", status: 202, body: `{"job_id":"` + testHost + `"}`, wantRequests: 1, wantJob: testHost},
		{name: "200 without job_id", status: 200, body: `{}`, wantOutcome: true, wantRequests: 1},
		{name: "200 with empty job_id", status: 200, body: `{"job_id":""}`, wantOutcome: true, wantRequests: 1},
		{name: "200 with an unusable job_id", status: 200, body: `{"job_id":"../../x"}`, wantOutcome: true, wantRequests: 1},
		{name: "204 empty", status: 204, body: ``, wantOutcome: true, wantRequests: 1},
		{name: "200 not JSON", status: 200, body: `OK`, wantOutcome: true, wantRequests: 1},
		{name: "not stopped", status: 400, body: `{"error":{"code":"Ecs.0100","message":"The ECS status does not meet requirements."}}`, wantIs: ErrNotStopped, wantRequests: 1},
		{name: "locked", status: 400, body: `{"error":{"code":"Ecs.0605","message":"locked"}}`, wantIs: ErrLocked, wantRequests: 1},
		{name: "same host", status: 400, body: `{"error":{"code":"Ecs.0221","message":"same DeH"}}`, wantIs: ErrSameHost, wantRequests: 1},
		{name: "no resources", status: 400, body: `{"error":{"code":"Ecs.0319","message":"insufficient"}}`, wantIs: ErrInsufficientResources, wantRequests: 1},
		{name: "unknown server", status: 404, body: `{"error":{"code":"Ecs.0114","message":"The ECS does not exist."}}`, wantIs: ErrServerNotFound, wantRequests: 1},
		{name: "auth", status: 401, body: `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}`, wantIs: ErrAuthFailed, wantRequests: 1},
		{name: "busy is a refusal, not an unknown outcome", status: 501, body: `{"error":{"code":"Ecs.0603","message":"other commands executing"}}`, wantIs: ErrBusy, wantTransient: true, wantRequests: 1},
		{name: "500 leaves the outcome unknown", status: 500, body: `{"error":{"code":"Common.0001","message":"internal"}}`, wantOutcome: true, wantRequests: 1},
		{name: "504 from the gateway leaves the outcome unknown", status: 504, body: `upstream timed out`, wantOutcome: true, wantRequests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", answer(tc.status, tc.body))
			id, err := f.client.MigrateServer(t.Context(), testProject, testServer, Target{DedicatedHostID: testHost})
			if tc.wantJob != "" {
				if err != nil || id != tc.wantJob {
					t.Fatalf("MigrateServer = %q, %v; want %q", id, err, tc.wantJob)
				}
				return
			}
			if err == nil {
				t.Fatalf("MigrateServer = %q, want an error", id)
			}
			if id != "" {
				t.Errorf("job id %q returned with an error", id)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err = %v, want it to match %v", err, tc.wantIs)
			}
			if got := errors.Is(err, ErrOutcomeUnknown); got != tc.wantOutcome {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, tc.wantOutcome)
			}
			if got := IsTransient(err); got != tc.wantTransient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.wantTransient)
			}
			if got := f.requests(); got != tc.wantRequests {
				t.Errorf("%d requests, want %d", got, tc.wantRequests)
			}
			if !strings.HasPrefix(err.Error(), "ecsclient: migrate server "+testServer+" to dedicated host "+testHost+": ") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestMigrateServer_invalidInputNeverSent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	tests := map[string]struct {
		project, server string
		target          Target
	}{
		"bad project":   {"x", testServer, Target{}},
		"bad server":    {testProject, "srv-1", Target{}},
		"host slash":    {testProject, testServer, Target{DedicatedHostID: "a/b"}},
		"host quote":    {testProject, testServer, Target{DedicatedHostID: `a"b`}},
		"host newline":  {testProject, testServer, Target{DedicatedHostID: "a\nb"}},
		"host too long": {testProject, testServer, Target{DedicatedHostID: strings.Repeat("a", 65)}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := f.client.MigrateServer(t.Context(), tc.project, tc.server, tc.target); !errors.Is(err, ErrInvalidID) {
				t.Errorf("err = %v, want ErrInvalidID", err)
			}
		})
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}
