package ecstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coldmove/coldmove/secret"
)

func FuzzDecodeMigrateBody(f *testing.F) {
	for _, seed := range []string{
		"{\"migrate\":null}\n", `{"migrate":{"dedicated_host_id":"a"}}`, `{"migrate":{}}`, `{}`, ``, `null`,
		`{"migrate":1}`, `{"migrate":{"dedicated_host_id":""}}`, `{"migrate":{"dedicated_host_id":null}}`, `[`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		target, aerr := decodeMigrateBody(body)
		if aerr != nil {
			if aerr.status != http.StatusBadRequest || aerr.code != codeInvalidParams {
				t.Fatalf("refusal %d %s, want 400 Ecs.0005", aerr.status, aerr.code)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if target.dedicatedHostID == "" && strings.Contains(string(body), `"dedicated_host_id":"`) && !strings.Contains(string(body), `"dedicated_host_id":""`) {
			// Only a null, missing or shadowed id may mean the public pool; a
			// duplicate key is resolved by the last one, as encoding/json does.
			var v struct {
				Migrate *struct {
					ID *string `json:"dedicated_host_id"`
				} `json:"migrate"`
			}
			if json.Unmarshal(body, &v) == nil && v.Migrate != nil && v.Migrate.ID != nil && *v.Migrate.ID != "" {
				t.Fatalf("body %q names host %q but decoded as the public pool", body, *v.Migrate.ID)
			}
		}
	})
}

func FuzzDecodeActionBody(f *testing.F) {
	for _, seed := range []string{
		`{"os-stop":{"type":"SOFT","servers":[{"id":"a"}]}}`, `{"os-start":{"servers":[{"id":"a"},{"id":"b"}]}}`,
		`{"os-stop":null}`, `{"os-stop":{"servers":[{"id":""}]}}`, `{}`, `{"reboot":{}}`, `x`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		a, aerr := decodeActionBody(body)
		if aerr != nil {
			if aerr.code != codeInvalidParams {
				t.Fatalf("refusal code %s, want Ecs.0005", aerr.code)
			}
			return
		}
		if n := len(a.serverIDs); n == 0 || n > maxBatchServers {
			t.Fatalf("accepted %d servers", n)
		}
		seen := map[string]bool{}
		for _, id := range a.serverIDs {
			if id == "" || seen[id] {
				t.Fatalf("accepted empty or duplicate id in %q", body)
			}
			seen[id] = true
		}
		if a.hard && !a.stop {
			t.Fatal("hard start")
		}
	})
}

// FuzzServeHTTP sends arbitrary authenticated requests through the whole
// handler: whatever comes in, the answer is a JSON body with a request id
// and one of the statuses the API uses.
func FuzzServeHTTP(f *testing.F) {
	sim, err := NewSimulator(Config{
		Clock: NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), Tokens: []secret.String{"tok"},
		Inventory: Inventory{Projects: []ProjectSpec{{
			ID:             "p",
			DedicatedHosts: []HostSpec{{ID: "h1", VCPUs: 4}},
			Servers:        []ServerSpec{{ID: "s1"}, {ID: "s2", DedicatedHostID: "h1"}, {ID: "s3", Status: StatusActive}},
		}}},
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "/v1/p/cloudservers/s2/migrate", `{"migrate":null}`},
		{"POST", "/v1/p/cloudservers/s1/migrate", `{"migrate":{"dedicated_host_id":"h1"}}`},
		{"POST", "/v1/p/cloudservers/action", `{"os-start":{"servers":[{"id":"s1"}]}}`},
		{"GET", "/v1/p/jobs/0000", ""},
		{"GET", "/v1/p/cloudservers/s3", ""},
		{"GET", "/v1/p/cloudservers/detail?server_id=0c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5,s1", ""},
		{"GET", "/v1/p/cloudservers/detail?limit=1&marker=s1&status=shutoff", ""},
		{"PUT", "/v1/q/x", "{"},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	allowed := map[int]bool{200: true, 400: true, 401: true, 404: true, 413: true}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		req, err := http.NewRequest(method, "http://sim.test/"+strings.TrimPrefix(path, "/"), strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		req.Header.Set("X-Auth-Token", "tok")
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("%s %s: status %d", method, path, rec.Code)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id")
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: body %q is not JSON", method, path, rec.Body.Bytes())
		}
		sim.clock.(*ManualClock).Advance(time.Second)
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=AK, SignedHeaders=x-sdk-date, Signature=00", "20260101T000000Z", "/v1/p/jobs/j", "a=1")
	f.Add("SDK-HMAC-SHA256 Access=AK,SignedHeaders=;;,Signature=", "x", "/", "%zz")
	f.Fuzz(func(t *testing.T, authz, date, path, query string) {
		a := newAuthenticator(0)
		a.addCredential(Credential{AccessKey: "AK", SecretKey: "SK"})
		r, err := http.NewRequest(http.MethodGet, "http://sim.test/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.URL.Path, r.URL.RawQuery = path, query
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Sdk-Date", date)
		if aerr := a.verify(r, nil, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); aerr != nil && aerr.code != codeAuthFailed {
			t.Fatalf("code %s, want APIGW.0301", aerr.code)
		}
	})
}

func FuzzParseSeed(f *testing.F) {
	f.Add([]byte(`{"projects":[{"id":"p","dedicated_hosts":[{"id":"h"}],"servers":[{"dedicated_host_id":"h"}]}]}`))
	f.Add([]byte(`{"job_timings":{"queued":"1s"},"retention":"-1h","rate_limit":{"per_second":5}}`))
	f.Add([]byte(`{"bogus":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseSeed(data)
		if err != nil {
			return
		}
		_, _ = NewSimulator(cfg) // may refuse the inventory, must not panic
	})
}
