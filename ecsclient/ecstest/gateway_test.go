package ecstest

import (
	"net/http"
	"strings"
	"testing"
)

func TestGatewayAnswers(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	p := srv.ProjectID()
	other := srv.AddProject()
	sv := srv.AddServer(ServerSpec{})
	otherSv := srv.AddServer(ServerSpec{ProjectID: other})
	c := newRawClient(t, srv)
	job := c.do(http.MethodPost, actionPath(other), `{"os-start":{"servers":[{"id":"`+otherSv+`"}]}}`).jobID(t)

	tests := map[string]struct {
		method, path, body string
		header             map[string]string
		wantStatus         int
		wantCode           string
	}{
		"unknown path":            {method: "GET", path: "/v2/" + p + "/servers", wantStatus: 404, wantCode: "APIGW.0101"},
		"trailing slash":          {method: "GET", path: serverPath(p, sv) + "/", wantStatus: 404, wantCode: "APIGW.0101"},
		"wrong method on migrate": {method: "GET", path: migratePath(p, sv), wantStatus: 404, wantCode: "APIGW.0101"},
		"delete server":           {method: "DELETE", path: serverPath(p, sv), wantStatus: 404, wantCode: "APIGW.0101"},
		"empty job id":            {method: "GET", path: "/v1/" + p + "/jobs/", wantStatus: 404, wantCode: "APIGW.0101"},
		"unknown project":         {method: "GET", path: serverPath("0123456789abcdef0123456789abcdef", sv), wantStatus: 400, wantCode: "Common.0018"},
		"X-Project-Id mismatch": {
			method: "GET", path: serverPath(p, sv), header: map[string]string{"X-Project-Id": other},
			wantStatus: 400, wantCode: "Common.0018",
		},
		"X-Project-Id match":          {method: "GET", path: serverPath(p, sv), header: map[string]string{"X-Project-Id": p}, wantStatus: 200},
		"unknown job":                 {method: "GET", path: jobPath(p, "ff80808288d41e1b018990260955686a"), wantStatus: 400, wantCode: "Common.0011"},
		"job of another project":      {method: "GET", path: jobPath(p, job), wantStatus: 400, wantCode: "Common.0011"},
		"job of its project":          {method: "GET", path: jobPath(other, job), wantStatus: 200},
		"unknown server":              {method: "GET", path: serverPath(p, "nope"), wantStatus: 404, wantCode: "Ecs.0114"},
		"server of another project":   {method: "GET", path: serverPath(p, otherSv), wantStatus: 404, wantCode: "Ecs.0114"},
		"escaped id is not a path":    {method: "GET", path: serverPath(p, "a%2Fb"), wantStatus: 404, wantCode: "APIGW.0101"},
		"body over the gateway limit": {method: "POST", path: migratePath(p, sv), body: strings.Repeat(" ", maxBodyBytes+1), wantStatus: 413, wantCode: "APIGW.0201"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := c.newRequest(tt.method, tt.path, tt.body)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			sign(t, req, tt.body, c.cred, c.now())
			resp := c.send(req).mustStatus(t, tt.wantStatus)
			if !hex32.MatchString(resp.header.Get("X-Request-Id")) {
				t.Errorf("X-Request-Id = %q", resp.header.Get("X-Request-Id"))
			}
			if tt.wantCode != "" {
				if code := resp.errorCode(t); code != tt.wantCode {
					t.Errorf("code = %s, want %s: %s", code, tt.wantCode, resp.body)
				}
			}
		})
	}
}

func TestRequestIDsUnique(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	seen := map[string]bool{}
	for range 50 {
		id := c.do(http.MethodGet, serverPath(srv.ProjectID(), "x"), "").header.Get("X-Request-Id")
		if seen[id] {
			t.Fatalf("request id %s repeated", id)
		}
		seen[id] = true
	}
	for _, r := range srv.Requests() {
		if !seen[r.RequestID] {
			t.Errorf("logged request id %s was never answered", r.RequestID)
		}
	}
}
