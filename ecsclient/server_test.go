package ecsclient

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serverBody is a ShowServer answer trimmed from the documented example,
// with the fields the pre-flight reads and some it ignores.
const serverBody = `{"server":{
	"id":"` + testServer + `","name":"db-1","status":"SHUTOFF",
	"OS-EXT-STS:vm_state":"stopped","OS-EXT-STS:task_state":null,"OS-EXT-STS:power_state":4,
	"OS-EXT-SRV-ATTR:host":"az21.dc1","hostId":"c7145889b2e3202cd295ceddb1742ff8941b827b586861fd0acedf64",
	"metadata":{"charging_mode":"0","EcmResStatus":"normal","image_name":"EulerOS","metering.order_id":""},
	"locked":false,
	"os:scheduler_hints":{"dedicated_host_id":["` + testHost + `"],"tenancy":["dedicated"]},
	"flavor":{"id":"s6.large.2","name":"s6.large.2","disk":"0","vcpus":"2","ram":"4096","gpus":[]},
	"fault":null,"updated":"2018-09-13T07:06:51Z","OS-SRV-USG:launched_at":"2018-09-13T07:04:09.197749"
}}`

func TestShowServer(t *testing.T) {
	t.Parallel()
	base := Server{
		ID: testServer, Name: "db-1", Status: "SHUTOFF", VMState: "stopped", PowerState: 4,
		ChargingMode: "0", DedicatedHostID: testHost, FlavorID: "s6.large.2", VCPUs: 2, RAMMB: 4096,
		Updated: "2018-09-13T07:06:51Z",
	}
	with := func(f func(*Server)) *Server { s := base; f(&s); return &s }
	tests := []struct {
		name                            string
		body                            string
		want                            *Server
		stopped, payPerUse, onDedicated bool
	}{
		{name: "stopped on a DeH", body: serverBody, want: &base, stopped: true, payPerUse: true, onDedicated: true},
		{
			name:    "stopping: ACTIVE with powering-off",
			body:    strings.NewReplacer(`"SHUTOFF"`, `"ACTIVE"`, `"OS-EXT-STS:task_state":null`, `"OS-EXT-STS:task_state":"powering-off"`, `"OS-EXT-STS:power_state":4`, `"OS-EXT-STS:power_state":1`).Replace(serverBody),
			want:    with(func(s *Server) { s.Status, s.TaskState, s.PowerState = "ACTIVE", "powering-off", 1 }),
			stopped: false, payPerUse: true, onDedicated: true,
		},
		{
			name:    "migrating: RESIZE with resize_migrating",
			body:    strings.NewReplacer(`"SHUTOFF"`, `"RESIZE"`, `"OS-EXT-STS:task_state":null`, `"OS-EXT-STS:task_state":"resize_migrating"`).Replace(serverBody),
			want:    with(func(s *Server) { s.Status, s.TaskState = "RESIZE", "resize_migrating" }),
			stopped: false, payPerUse: true, onDedicated: true,
		},
		{
			name:    "public pool: empty scheduler hints, prepaid, locked",
			body:    strings.NewReplacer(`{"dedicated_host_id":["`+testHost+`"],"tenancy":["dedicated"]}`, `{}`, `"charging_mode":"0"`, `"charging_mode":"1"`, `"locked":false`, `"locked":true`).Replace(serverBody),
			want:    with(func(s *Server) { s.DedicatedHostID, s.ChargingMode, s.Locked = "", "1", true }),
			stopped: true, payPerUse: false, onDedicated: false,
		},
		{
			name:    "tolerated variants: host id as a string, numbers as numbers, no metadata",
			body:    strings.NewReplacer(`["`+testHost+`"]`, `"`+testHost+`"`, `"vcpus":"2"`, `"vcpus":2`, `"ram":"4096"`, `"ram":4096.0`, `"metadata":{"charging_mode":"0",`, `"metadata":{`).Replace(serverBody),
			want:    with(func(s *Server) { s.ChargingMode = "" }),
			stopped: true, payPerUse: false, onDedicated: true,
		},
		{
			name:    "empty host id array and null hints",
			body:    strings.Replace(serverBody, `{"dedicated_host_id":["`+testHost+`"],"tenancy":["dedicated"]}`, `{"dedicated_host_id":[]}`, 1),
			want:    with(func(s *Server) { s.DedicatedHostID = "" }),
			stopped: true, payPerUse: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /v1/{project}/cloudservers/{server}", func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("server") != testServer {
					t.Errorf("server path value %q", r.PathValue("server"))
				}
				writeJSON(w, http.StatusOK, tc.body)
			})
			got, err := f.client.ShowServer(t.Context(), testProject, testServer)
			if err != nil {
				t.Fatalf("ShowServer: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ShowServer mismatch (-want +got):\n%s", diff)
			}
			if got.Stopped() != tc.stopped || got.PayPerUse() != tc.payPerUse || got.OnDedicatedHost() != tc.onDedicated {
				t.Errorf("Stopped, PayPerUse, OnDedicatedHost = %v, %v, %v; want %v, %v, %v",
					got.Stopped(), got.PayPerUse(), got.OnDedicatedHost(), tc.stopped, tc.payPerUse, tc.onDedicated)
			}
		})
	}
}

func TestShowServer_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		status        int
		body          string
		wantNotFound  bool
		wantTransient bool
	}{
		{"Ecs.0114", 404, `{"error":{"code":"Ecs.0114","message":"The ECS does not exist."}}`, true, false},
		{"Ecs.0614 with 400", 400, `{"error":{"code":"Ecs.0614","message":"The ECS does not exist."}}`, true, false},
		{"404 from the ECS service, other code", 404, `{"error":{"code":"Ecs.9999","message":"gone"}}`, true, false},
		{"404 gateway route", 404, `{"error_code":"APIGW.0101","error_msg":"no such API"}`, false, false},
		{"another server", 200, strings.Replace(serverBody, testServer, otherServer, 1), false, true},
		{"no server", 200, `{"server":null}`, false, true},
		{"no status", 200, `{"server":{"id":"` + testServer + `"}}`, false, true},
		{"flavor vcpus not a number", 200, strings.Replace(serverBody, `"vcpus":"2"`, `"vcpus":"two"`, 1), false, true},
		{"locked not a boolean", 200, strings.Replace(serverBody, `"locked":false`, `"locked":"maybe"`, 1), false, true},
		{"status an object", 200, strings.Replace(serverBody, `"status":"SHUTOFF"`, `"status":{}`, 1), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /v1/{project}/cloudservers/{server}", answer(tc.status, tc.body))
			s, err := f.client.ShowServer(t.Context(), testProject, testServer)
			if err == nil {
				t.Fatalf("ShowServer = %+v, want an error", s)
			}
			if got := errors.Is(err, ErrServerNotFound); got != tc.wantNotFound {
				t.Errorf("errors.Is(%v, ErrServerNotFound) = %v, want %v", err, got, tc.wantNotFound)
			}
			if got := IsTransient(err); got != tc.wantTransient {
				t.Errorf("IsTransient(%v) = %v, want %v", err, got, tc.wantTransient)
			}
			if !strings.HasPrefix(err.Error(), "ecsclient: show server "+testServer+": ") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestShowServer_invalidIDsNeverSent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, id := range []string{"", "not-a-uuid", "../" + testServer[3:], testServer + "/os-stop", "A4C6D0E2-3B1F-4C5D-9E7A-1B2C3D4E5F6G", testServer[:35] + "%"} {
		if _, err := f.client.ShowServer(t.Context(), testProject, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("ShowServer(%q): err = %v, want ErrInvalidID", id, err)
		}
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}
