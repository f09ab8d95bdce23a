package ecsclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	t.Parallel()
	creds := WithCredentials(Credentials{AccessKey: "ak", SecretKey: "sk"})
	tests := []struct {
		name         string
		opts         []Option
		wantEndpoint string
		wantErr      []string // substrings of the error, all required
	}{
		{name: "region", opts: []Option{creds, WithRegion("cn-north-4")}, wantEndpoint: "https://ecs.cn-north-4.myhuaweicloud.com/"},
		{name: "endpoint wins over region", opts: []Option{creds, WithRegion("cn-north-4"), WithEndpoint("https://ecs.example.com")}, wantEndpoint: "https://ecs.example.com/"},
		{name: "endpoint path prefix kept", opts: []Option{creds, WithEndpoint("https://proxy.example.com/ecs")}, wantEndpoint: "https://proxy.example.com/ecs/"},
		{name: "http on loopback", opts: []Option{creds, WithEndpoint("http://127.0.0.1:8080/x/")}, wantEndpoint: "http://127.0.0.1:8080/x/"},
		{name: "http on localhost", opts: []Option{creds, WithEndpoint("http://localhost:1")}, wantEndpoint: "http://localhost:1/"},
		{name: "http on IPv6 loopback", opts: []Option{creds, WithEndpoint("http://[::1]:1")}, wantEndpoint: "http://[::1]:1/"},
		{name: "no credentials, no endpoint: both reported", opts: nil, wantErr: []string{"no credentials", "no endpoint"}},
		{name: "half a key pair", opts: []Option{WithCredentials(Credentials{AccessKey: "ak"}), WithRegion("cn-north-4")}, wantErr: []string{"secret key"}},
		{name: "bad region", opts: []Option{creds, WithRegion("cn_north/4")}, wantErr: []string{`region "cn_north/4"`}},
		{name: "region with trailing hyphen", opts: []Option{creds, WithRegion("cn-")}, wantErr: []string{"region"}},
		{name: "plain http off loopback", opts: []Option{creds, WithEndpoint("http://ecs.example.com")}, wantErr: []string{"only on loopback"}},
		{name: "other scheme", opts: []Option{creds, WithEndpoint("ftp://ecs.example.com")}, wantErr: []string{"scheme"}},
		{name: "user info", opts: []Option{creds, WithEndpoint("https://user:pw@ecs.example.com")}, wantErr: []string{"user info"}},
		{name: "query", opts: []Option{creds, WithEndpoint("https://ecs.example.com/?a=b")}, wantErr: []string{"query"}},
		{name: "no host", opts: []Option{creds, WithEndpoint("https:///path")}, wantErr: []string{"no host"}},
		{name: "unparseable", opts: []Option{creds, WithEndpoint("https://ecs.example.com/%zz")}, wantErr: []string{"endpoint"}},
		{name: "nil http client", opts: []Option{creds, WithRegion("r1"), WithHTTPClient(nil)}, wantErr: []string{"http client"}},
		{name: "zero attempts", opts: []Option{creds, WithRegion("r1"), WithRetryPolicy(RetryPolicy{})}, wantErr: []string{"MaxAttempts"}},
		{name: "base over max", opts: []Option{creds, WithRegion("r1"), WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: 2, MaxDelay: 1})}, wantErr: []string{"exceeds MaxDelay"}},
		{name: "user agent with newline", opts: []Option{creds, WithRegion("r1"), WithUserAgent("a\r\nX-Evil: 1")}, wantErr: []string{"user agent"}},
		{name: "nil option", opts: []Option{creds, WithRegion("r1"), nil}, wantErr: []string{"nil option"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tc.opts...)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("New succeeded with endpoint %s, want an error", c.Endpoint())
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q lacks %q", err, want)
					}
				}
				if !strings.HasPrefix(err.Error(), "ecsclient: new client: ") {
					t.Errorf("error %q lacks the package context", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := c.Endpoint(); got != tc.wantEndpoint {
				t.Errorf("Endpoint() = %q, want %q", got, tc.wantEndpoint)
			}
		})
	}
}

func TestClient_requestHeaders(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		opts   []Option
		wantUA string
	}{
		"default user agent": {nil, DefaultUserAgent},
		"custom user agent":  {[]Option{WithUserAgent("coldmove-poll/1.0")}, "coldmove-poll/1.0"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, tc.opts...)
			f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", func(w http.ResponseWriter, r *http.Request) {
				checks := map[string]string{
					"User-Agent":   tc.wantUA,
					"X-Project-Id": testProject,
					"Content-Type": "application/json;charset=UTF-8",
				}
				for k, want := range checks {
					if got := r.Header.Get(k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				if !strings.Contains(r.Header.Get("Authorization"), "user-agent;x-project-id;x-sdk-date;x-security-token") {
					t.Errorf("Authorization %q does not sign the expected headers", r.Header.Get("Authorization"))
				}
				writeJSON(w, http.StatusOK, `{"job_id":"`+testJob+`"}`)
			})
			if _, err := f.client.MigrateServer(t.Context(), testProject, testServer, Target{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWithHTTPClient_wrapsWithoutModifying(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"status":"SUCCESS"}`)
	}))
	t.Cleanup(srv.Close)
	var used atomic.Int32
	inner := srv.Client().Transport
	counting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		if r.Header.Get("Authorization") == "" {
			t.Error("base transport got an unsigned request")
		}
		return inner.RoundTrip(r)
	})
	hc := &http.Client{Transport: counting, Timeout: 7 * time.Second}
	c := mustNew(t, WithEndpoint(srv.URL), WithCredentials(testCreds), WithHTTPClient(hc))
	if _, err := c.ShowJob(t.Context(), testProject, testJob); err != nil {
		t.Fatal(err)
	}
	if used.Load() != 1 {
		t.Errorf("base transport used %d times, want 1", used.Load())
	}
	if hc.CheckRedirect != nil || hc.Timeout != 7*time.Second {
		t.Error("caller's http.Client was modified")
	}
	if _, ok := hc.Transport.(roundTripFunc); !ok {
		t.Errorf("caller's Transport replaced by %T", hc.Transport)
	}
	if c.hc.Timeout != 7*time.Second {
		t.Errorf("per-attempt timeout %v, want the caller's 7s", c.hc.Timeout)
	}
}

func TestClient_doesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	f := setup(t)
	f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	_, err := f.client.ShowJob(t.Context(), testProject, testJob)
	ae, ok := errors.AsType[*APIError](err)
	if !ok || ae.StatusCode != http.StatusFound {
		t.Fatalf("err = %v, want an *APIError with status 302", err)
	}
	if elsewhere.Load() != 0 {
		t.Error("the signed request was replayed to the redirect target")
	}
}

func TestClient_newRequestRejectsAbsolutePath(t *testing.T) {
	t.Parallel()
	c := mustNew(t, WithEndpoint("https://ecs.example.com/prefix"), WithCredentials(testCreds))
	if _, err := c.newRequest(t.Context(), &call{method: http.MethodGet, path: "/v1/x"}); err == nil {
		t.Error("absolute path accepted; it would drop the endpoint's path prefix")
	}
	req, err := c.newRequest(t.Context(), &call{method: http.MethodGet, path: apiPath("v1", "a b", "c")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := req.URL.String(), "https://ecs.example.com/prefix/v1/a%20b/c"; got != want {
		t.Errorf("URL = %s, want %s", got, want)
	}
}

func TestEncodeBody_likeTheSDK(t *testing.T) {
	t.Parallel()
	b, err := encodeBody(map[string]string{"reason": "<b>&"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "{\"reason\":\"<b>&\"}\n"; got != want {
		t.Errorf("encodeBody = %q, want %q (no HTML escaping, trailing newline)", got, want)
	}
}

func TestClient_concurrentUse(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", sequence(t, answer(503, ``), answer(200, `{"status":"RUNNING"}`)))
	f.mux.HandleFunc("GET /v1/{project}/cloudservers/{server}", answer(200, serverBody))
	f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", answer(200, `{"job_id":"`+testJob+`"}`))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := f.client.ShowJob(t.Context(), testProject, testJob); err != nil {
				t.Errorf("ShowJob: %v", err)
			}
			if _, err := f.client.ShowServer(t.Context(), testProject, testServer); err != nil {
				t.Errorf("ShowServer: %v", err)
			}
			if _, err := f.client.MigrateServer(t.Context(), testProject, testServer, Target{DedicatedHostID: testHost}); err != nil {
				t.Errorf("MigrateServer: %v", err)
			}
		})
	}
	wg.Wait()
	if n := f.requests(); n != 25 { // 8 × 3, plus the one ShowJob retried after a 503
		t.Errorf("%d requests, want 25", n)
	}
}
