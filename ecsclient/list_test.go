package ecsclient

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	listPattern = "GET /v1/{project}/cloudservers/detail"
	// thirdServer is asked for and left out of answers.
	thirdServer = "c4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60"
)

// serverEntry is serverBody's server object, for list answers.
var serverEntry = strings.TrimSuffix(strings.TrimPrefix(serverBody, `{"server":`), `}`)

// missingEntry is the entry the API gives for an id it does not know.
func missingEntry(id string) string {
	return `{"id":"` + id + `","fault":{"code":404,"message":"Instance[` + id + `] could not be found."},` +
		`"name":null,"status":null,"OS-EXT-STS:vm_state":null,"OS-EXT-STS:task_state":null,"OS-EXT-STS:power_state":null,` +
		`"locked":null,"metadata":null,"flavor":null,"os:scheduler_hints":null,"hostId":null,"tags":null}`
}

func listBody(entries ...string) string {
	return fmt.Sprintf(`{"count":%d,"servers":[%s]}`, len(entries), strings.Join(entries, ","))
}

func TestListServersDetails_request(t *testing.T) {
	t.Parallel()
	f := setup(t)
	var rawQuery string
	f.mux.HandleFunc(listPattern, func(w http.ResponseWriter, r *http.Request) {
		rawQuery = r.URL.RawQuery
		if r.PathValue("project") != testProject {
			t.Errorf("project %q", r.PathValue("project"))
		}
		writeJSON(w, http.StatusOK, listBody(serverEntry, missingEntry(otherServer)))
	})
	if _, err := f.client.ListServersDetails(t.Context(), testProject, []string{testServer, otherServer}); err != nil {
		t.Fatal(err)
	}
	// One server_id parameter, the ids joined by an escaped comma, as the
	// SDK's url.Values encoding sends it.
	if want := "server_id=" + testServer + "%2C" + otherServer; rawQuery != want {
		t.Errorf("query = %q, want %q", rawQuery, want)
	}
	if n := f.requests(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestListServersDetails_answers(t *testing.T) {
	t.Parallel()
	stopped := &Server{
		ID: testServer, Name: "db-1", Status: "SHUTOFF", VMState: "stopped", PowerState: 4,
		ChargingMode: "0", DedicatedHostID: testHost, FlavorID: "s6.large.2", VCPUs: 2, RAMMB: 4096,
		Updated: "2018-09-13T07:06:51Z",
	}
	with := func(f func(*Server)) *Server { s := *stopped; f(&s); return &s }
	moving := strings.NewReplacer(`"SHUTOFF"`, `"RESIZE"`, `"OS-EXT-STS:task_state":null`, `"OS-EXT-STS:task_state":"resize_migrating"`).Replace(serverEntry)
	ask := []string{testServer, otherServer, thirdServer}
	found := func(s *Server) ServerLookup { return ServerLookup{ID: testServer, Presence: ServerFound, Server: s} }
	missing := ServerLookup{ID: otherServer, Presence: ServerMissing}
	unanswered := ServerLookup{ID: thirdServer}

	tests := map[string]struct {
		body string
		want []ServerLookup
	}{
		"found, missing and left out": {
			listBody(serverEntry, missingEntry(otherServer)),
			[]ServerLookup{found(stopped), missing, unanswered},
		},
		"answer order does not matter": {
			listBody(missingEntry(otherServer), serverEntry),
			[]ServerLookup{found(stopped), missing, unanswered},
		},
		"moving: RESIZE with resize_migrating": {
			listBody(moving),
			[]ServerLookup{found(with(func(s *Server) { s.Status, s.TaskState = "RESIZE", "resize_migrating" })), {ID: otherServer}, unanswered},
		},
		"entries for ids not asked for are ignored": {
			listBody(strings.Replace(serverEntry, testServer, "d4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60", 1), missingEntry(otherServer), `"junk"`, `null`, `{"id":{}}`, `{}`),
			[]ServerLookup{{ID: testServer}, missing, unanswered},
		},
		"ids compare without regard to case": {
			listBody(strings.Replace(serverEntry, `"id":"`+testServer, `"id":"`+strings.ToUpper(testServer), 1), missingEntry(strings.ToUpper(otherServer))),
			[]ServerLookup{found(with(func(s *Server) { s.ID = strings.ToUpper(testServer) })), missing, unanswered},
		},
		"missing: only an id": {
			listBody(`{"id":"` + otherServer + `"}`),
			[]ServerLookup{{ID: testServer}, missing, unanswered},
		},
		"missing: null fault, empty containers": {
			listBody(`{"id":"` + otherServer + `","fault":null,"status":"","metadata":{},"tags":[],"os:scheduler_hints":{ }}`),
			[]ServerLookup{{ID: testServer}, missing, unanswered},
		},
		"an empty list says nothing": {
			`{"count":0,"servers":[]}`,
			[]ServerLookup{{ID: testServer}, {ID: otherServer}, unanswered},
		},
		"tolerated variants: numbers as numbers, host id as a string, no count": {
			`{"servers":[` + strings.NewReplacer(`"vcpus":"2"`, `"vcpus":2`, `["`+testHost+`"]`, `"`+testHost+`"`).Replace(serverEntry) + `]}`,
			[]ServerLookup{found(stopped), {ID: otherServer}, unanswered},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(listPattern, answer(http.StatusOK, tc.body))
			got, err := f.client.ListServersDetails(t.Context(), testProject, ask)
			if err != nil {
				t.Fatalf("ListServersDetails: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestListServersDetails_unusableAnswers(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not JSON":                             `<html>`,
		"no servers list":                      `{"count":1}`,
		"servers null":                         `{"count":0,"servers":null}`,
		"servers an object":                    `{"servers":{"id":"` + testServer + `"}}`,
		"two entries for one id":               listBody(serverEntry, missingEntry(testServer)),
		"two entries differing in case":        listBody(serverEntry, strings.Replace(serverEntry, testServer, strings.ToUpper(testServer), 1)),
		"no status, yet a name":                listBody(`{"id":"` + testServer + `","status":null,"name":"db-1"}`),
		"status empty, another case of it set": listBody(`{"id":"` + testServer + `","STATUS":"ACTIVE","status":""}`),
		"no status, yet a flavor":              listBody(`{"id":"` + testServer + `","flavor":{"vcpus":"2"}}`),
		"status an object":                     listBody(strings.Replace(serverEntry, `"status":"SHUTOFF"`, `"status":{}`, 1)),
		"flavor vcpus not a number":            listBody(strings.Replace(serverEntry, `"vcpus":"2"`, `"vcpus":"two"`, 1)),
		"a top-level array of server objects":  `[` + serverEntry + `]`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(listPattern, answer(http.StatusOK, body))
			got, err := f.client.ListServersDetails(t.Context(), testProject, []string{testServer, otherServer})
			if err == nil {
				t.Fatalf("ListServersDetails = %+v, want an error", got)
			}
			if !IsTransient(err) {
				t.Errorf("IsTransient(%v) = false, want true", err)
			}
			if n := f.requests(); n != 4 {
				t.Errorf("%d requests, want 4: a read with an unusable answer is retried", n)
			}
			if !strings.HasPrefix(err.Error(), "ecsclient: list servers "+testServer+" and 1 more: ") {
				t.Errorf("error %q lacks its context", err)
			}
		})
	}
}

func TestListServersDetails_invalidInputNeverSent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hundredAndOne := make([]string, MaxListIDs+1)
	for i := range hundredAndOne {
		hundredAndOne[i] = fmt.Sprintf("%08x-3b1f-4c5d-9e7a-1b2c3d4e5f60", i)
	}
	tests := map[string]struct {
		project string
		ids     []string
	}{
		"nil":                    {testProject, nil},
		"empty":                  {testProject, []string{}},
		"101 ids":                {testProject, hundredAndOne},
		"a malformed id":         {testProject, []string{testServer, "not-a-uuid"}},
		"a comma inside an id":   {testProject, []string{testServer + "," + otherServer}},
		"an empty id":            {testProject, []string{""}},
		"a repeated id":          {testProject, []string{testServer, otherServer, strings.ToUpper(testServer)}},
		"a malformed project":    {"../" + testProject[3:], []string{testServer}},
		"a project with a query": {testProject[:31] + "?", []string{testServer}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := f.client.ListServersDetails(t.Context(), tc.project, tc.ids); !errors.Is(err, ErrInvalidID) {
				t.Errorf("err = %v, want ErrInvalidID", err)
			}
		})
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

func TestPresence_String(t *testing.T) {
	t.Parallel()
	for p, want := range map[Presence]string{ServerUnanswered: "unanswered", ServerFound: "found", ServerMissing: "missing", 7: "Presence(7)"} {
		if got := p.String(); got != want {
			t.Errorf("Presence(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}

func TestNewRequest_query(t *testing.T) {
	t.Parallel()
	c := mustNew(t, WithEndpoint("https://ecs.example.com/prefix"), WithCredentials(testCreds))
	req, err := c.newRequest(t.Context(), &call{method: http.MethodGet, path: "v1/p/cloudservers/detail", query: url.Values{"server_id": {"a,b"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "https://ecs.example.com/prefix/v1/p/cloudservers/detail?server_id=a%2Cb"; got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
	if _, err := c.newRequest(t.Context(), &call{method: http.MethodGet, path: "v1/p/cloudservers/detail?server_id=a"}); err == nil {
		t.Error("a query in the path was accepted")
	}
}
