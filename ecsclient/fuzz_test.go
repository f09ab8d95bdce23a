package ecsclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/coldmove/coldmove/ids"
)

// FuzzAnswer feeds any status, body and headers through the whole response
// path of every operation (signing, reading, error parsing, decoding,
// classification): nothing may panic, a non-2xx answer is always an error,
// and an *APIError's message stays short and valid UTF-8.
func FuzzAnswer(f *testing.F) {
	seeds := []struct {
		status uint16
		body   string
	}{
		{200, jobRunning},
		{200, `{"status":"FAIL","error_code":"Ecs.0319","fail_reason":"x","entities":{"sub_jobs":[{"status":"FAIL","entities":{"errorcode_message":"m"}}]}}`},
		{200, serverBody},
		{200, `{"job_id":"` + testJob + `"}`},
		{202, `{"error":{"code":"Common.0024","message":"Flow limit exceeded"}}`},
		{429, `{"error_code":"APIGW.0308","error_msg":"throttled","request_id":"r"}`},
		{400, `{"error":{"code":"Common.0011","message":"Failed to query system tasks."}}`},
		{404, `{"a":{"b":{"c":{"d":{"code":"X","message":"deep"}}}}}`},
		{500, "<html>\xff</html>"},
		{200, `{"server":{"id":"` + testServer + `","status":"SHUTOFF","flavor":{"vcpus":1e400,"ram":"-"}}}`},
		{200, `{"status":"RUNNING","begin_time":123,"entities":{"sub_jobs":{}}}`},
		{200, ``},
		{302, `moved`},
		// Hostile or unusual answers: refused credentials, ids that must
		// never reach a URL or a record, a body far over the message limit.
		{401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail","request_id":"r"}`},
		{403, `{"error":{"code":"Ecs.0003","message":"You do not have permission to perform this operation."}}`},
		{200, `{"job_id":"../../v1/other/cloudservers"}`},
		{200, `{"job_id":"a%2Fb"}`},
		{200, `{"job_id":"*"}`},
		{200, `{"job_id":"` + strings.Repeat("f", 65) + `"}`},
		{200, `{"job_id":""}`},
		{200, `{"job_id":null,"job_id":"` + testJob + `"}`},
		{200, `{"server":{"id":"../x","status":"SHUTOFF"}}`},
		{200, `{"status":"SUCCESS","entities":{"sub_jobs":[{"status":"SUCCESS","entities":{"server_id":"../x"}}]}}`},
		{502, `<html><body>Bad Gateway</body></html>`},
		{503, `{"error":{"code":"APIGW.0202","message":"` + strings.Repeat("\u00ff\r\n", 2000) + `"}}`},
		{200, "\x1f\x8b\x08\x00garbage"},
		{200, `{"status":"RUNNING"` + strings.Repeat(" ", 1<<16) + `}`},
	}
	for _, s := range seeds {
		f.Add(s.status, []byte(s.body), "req-1", "1")
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte, requestID, retryAfterValue string) {
		code := 100 + int(status)%900
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.Body != nil {
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
			}
			h := http.Header{}
			h.Set("X-Request-Id", requestID)
			h.Set("Retry-After", retryAfterValue)
			return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})
		c := mustNew(t, WithEndpoint("https://ecs.example.com"), WithCredentials(testCreds),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 1}), WithHTTPClient(&http.Client{Transport: rt}))
		ctx := t.Context()

		job, errJob := c.ShowJob(ctx, testProject, testJob)
		srv, errSrv := c.ShowServer(ctx, testProject, testServer)
		id, errMig := c.MigrateServer(ctx, testProject, testServer, Target{DedicatedHostID: testHost})
		_, errList := c.ListServersDetails(ctx, testProject, []string{testServer, otherServer})
		for _, err := range []error{errJob, errSrv, errMig, errList} {
			if (code < 200 || code > 299) && err == nil {
				t.Fatalf("status %d gave no error", code)
			}
			if ae, ok := errors.AsType[*APIError](err); ok {
				if len(ae.Message) > maxMessageBytes+len("… (truncated)") || !utf8.ValidString(ae.Message) {
					t.Fatalf("message not cleaned: %q", ae.Message)
				}
				if ae.StatusCode != code {
					t.Fatalf("APIError status %d, want %d", ae.StatusCode, code)
				}
			}
		}
		if errJob == nil && job.Status == "" {
			t.Fatal("a job without a status was accepted")
		}
		if errSrv == nil && (srv.ID == "" || srv.Status == "") {
			t.Fatal("a server without id or status was accepted")
		}
		if errMig == nil && !ids.Job.Valid(id) {
			t.Fatalf("unusable job id %q accepted", id)
		}
	})
}

// FuzzListAnswer decodes any body as a ListServersDetails answer to three
// ids: it never panics, and an accepted answer has one lookup per id in
// order, a server exactly for the found ones, each with an id and a status.
func FuzzListAnswer(f *testing.F) {
	for _, seed := range []string{
		listBody(serverEntry, missingEntry(otherServer)),
		listBody(missingEntry(testServer), `{"id":"`+otherServer+`","status":null,"name":"x"}`),
		listBody(serverEntry, serverEntry),
		listBody(`{"id":"`+strings.ToUpper(thirdServer)+`","fault":null,"status":"","tags":[ ]}`, `null`, `7`),
		`{"count":1,"servers":[{"id":{"x":1}}]}`,
		// Keys differing in case: encoding/json matches them to one field.
		`{"servers":[{"id":"` + strings.ToUpper(testServer) + `","status":"SHUTOFF","Id":""}]}`,
		`{"servers":[{"id":"` + testServer + `","STATUS":"ACTIVE","status":""}]}`,
		`{"servers":null}`, `{"servers":{}}`, `[]`, `{`, ``,
		`{"servers":[{"id":"` + testServer + `","status":"SHUTOFF","flavor":{"vcpus":1e400}}]}`,
	} {
		f.Add([]byte(seed))
	}
	want := []string{testServer, otherServer, thirdServer}
	f.Fuzz(func(t *testing.T, body []byte) {
		l := newListJSON(want)
		l.reset()
		err := decodeBody(body, l)
		if err == nil {
			err = l.check()
		}
		// The fast typed decode agrees with reading every entry raw.
		ref := newListJSON(want)
		rerr := json.Unmarshal(body, ref)
		if rerr == nil {
			rerr = ref.check()
		}
		if (err == nil) != (rerr == nil) {
			t.Fatalf("decode: %v; raw decode: %v", err, rerr)
		}
		if err == nil && !reflect.DeepEqual(l.result, ref.result) {
			t.Fatalf("decode %+v; raw decode %+v", l.result, ref.result)
		}
		if err != nil {
			return
		}
		if len(l.result) != len(want) {
			t.Fatalf("%d lookups for %d ids", len(l.result), len(want))
		}
		for i, r := range l.result {
			if r.ID != want[i] {
				t.Fatalf("lookup %d is for %q, want %q", i, r.ID, want[i])
			}
			switch r.Presence {
			case ServerFound:
				if r.Server == nil || r.Server.Status == "" || !strings.EqualFold(r.Server.ID, r.ID) {
					t.Fatalf("found %q with server %+v", r.ID, r.Server)
				}
			case ServerMissing, ServerUnanswered:
				if r.Server != nil {
					t.Fatalf("%v %q with a server", r.Presence, r.ID)
				}
			default:
				t.Fatalf("presence %v", r.Presence)
			}
		}
	})
}

// FuzzSignerMatchesVerifier signs arbitrary paths, queries, header values
// and bodies and checks the signature with the test's independent
// verifier.
func FuzzSignerMatchesVerifier(f *testing.F) {
	f.Add("/v1/p/jobs/j", "limit=1&marker=x", "value", []byte("{}\n"))
	f.Add("/a b/ü/", "test=%E4%B8%80+%28%26%3D%3F%21%23%25.%2A%29&multi=2&multi=1", "  padded  ", []byte(nil))
	f.Fuzz(func(t *testing.T, path, rawQuery, headerValue string, body []byte) {
		u := &url.URL{Scheme: "https", Host: "ecs.example.com", Path: path, RawQuery: rawQuery}
		if _, err := url.ParseQuery(rawQuery); err != nil {
			return // the signer refuses these; TestSigner_errors covers that
		}
		req := httptest.NewRequest(http.MethodPost, "https://ecs.example.com/", bytes.NewReader(body))
		req.URL = u
		req.Header.Set("X-Fuzz", headerValue)
		got := captureSigned(t, &Signer{Credentials: testCreds}, req)
		sent, err := io.ReadAll(got.Body)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(sent, body) {
			t.Fatalf("body changed: %q → %q", body, sent)
		}
		if err := verifySignature(got, sent, testCreds); err != nil {
			t.Fatalf("verifier disagrees: %v", err)
		}
	})
}

// A 2xx body mayCarryError passes over carries no error object.
func FuzzErrorInSuccess(f *testing.F) {
	for _, seed := range []string{
		`{"error_code":"APIGW.0301","error_msg":"x"}`, `{"error":{"code":"Ecs.0114","message":"x"}}`,
		`{"code":"Ecs.0114","message":"x"}`, `{"\u0065rror_code":"E","error_msg":"m"}`, `{"job_id":"x"}`,
		listBody(serverEntry),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !mayCarryError(body) {
			if e := parseSuccessBody(200, http.Header{}, body, nil); e != nil {
				t.Fatalf("body %q skipped, yet carries %+v", body, e)
			}
		}
	})
}
