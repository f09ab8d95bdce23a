package ecsclient

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

const otherServer = "b4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60"

func TestBatchActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		call     func(*Client, *testing.T) (string, error)
		wantBody string
	}{
		{
			name: "soft stop",
			call: func(c *Client, t *testing.T) (string, error) {
				return c.BatchStopServers(t.Context(), testProject, []string{testServer, otherServer}, false)
			},
			wantBody: `{"os-stop":{"type":"SOFT","servers":[{"id":"` + testServer + `"},{"id":"` + otherServer + `"}]}}` + "\n",
		},
		{
			name: "hard stop",
			call: func(c *Client, t *testing.T) (string, error) {
				return c.BatchStopServers(t.Context(), testProject, []string{testServer}, true)
			},
			wantBody: `{"os-stop":{"type":"HARD","servers":[{"id":"` + testServer + `"}]}}` + "\n",
		},
		{
			name: "start",
			call: func(c *Client, t *testing.T) (string, error) {
				return c.BatchStartServers(t.Context(), testProject, []string{testServer})
			},
			wantBody: `{"os-start":{"servers":[{"id":"` + testServer + `"}]}}` + "\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("POST /v1/{project}/cloudservers/action", answer(http.StatusOK, `{"job_id":"`+testJob+`"}`))
			id, err := tc.call(f.client, t)
			if err != nil || id != testJob {
				t.Fatalf("got %q, %v; want %q", id, err, testJob)
			}
			if got := string(f.bodies[0]); got != tc.wantBody {
				t.Errorf("body = %s\nwant   %s", got, tc.wantBody)
			}
		})
	}
}

func TestBatchActions_answers(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("POST /v1/{project}/cloudservers/action", answer(http.StatusInternalServerError, `{"error":{"code":"Common.0001","message":"internal"}}`))
	_, err := f.client.BatchStopServers(t.Context(), testProject, []string{testServer, otherServer}, false)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("err = %v, want ErrOutcomeUnknown", err)
	}
	if want := "ecsclient: stop servers " + testServer + " and 1 more: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
	if f.requests() != 1 {
		t.Errorf("%d requests, want 1", f.requests())
	}
}

func TestBatchActions_invalidInputNeverSent(t *testing.T) {
	t.Parallel()
	f := setup(t)
	many := make([]string, MaxBatchServers+1)
	for i := range many {
		many[i] = fmt.Sprintf("a4c6d0e2-3b1f-4c5d-9e7a-%012x", i)
	}
	tests := map[string]struct {
		project string
		ids     []string
	}{
		"none":          {testProject, nil},
		"too many":      {testProject, many},
		"duplicate":     {testProject, []string{testServer, strings.ToUpper(testServer)}},
		"bad id":        {testProject, []string{testServer, "x"}},
		"bad project":   {"p", []string{testServer}},
		"path in an id": {testProject, []string{"../action"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := f.client.BatchStopServers(t.Context(), tc.project, tc.ids, false); !errors.Is(err, ErrInvalidID) {
				t.Errorf("stop: err = %v, want ErrInvalidID", err)
			}
			if _, err := f.client.BatchStartServers(t.Context(), tc.project, tc.ids); !errors.Is(err, ErrInvalidID) {
				t.Errorf("start: err = %v, want ErrInvalidID", err)
			}
		})
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
	// Exactly the limit is accepted.
	f.mux.HandleFunc("POST /v1/{project}/cloudservers/action", answer(http.StatusOK, `{"job_id":"`+testJob+`"}`))
	if _, err := f.client.BatchStartServers(t.Context(), testProject, many[:MaxBatchServers]); err != nil {
		t.Errorf("%d servers: %v", MaxBatchServers, err)
	}
}
