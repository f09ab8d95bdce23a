package ecsclient

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkSigner_RoundTrip measures what signing adds to a request: read
// the body, clone, canonicalize, hash, HMAC. The base transport does
// nothing.
func BenchmarkSigner_RoundTrip(b *testing.B) {
	body := []byte("{\"migrate\":{\"dedicated_host_id\":\"" + testHost + "\"}}\n")
	resp := &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}
	s := &Signer{Credentials: testCreds, Base: roundTripFunc(func(*http.Request) (*http.Response, error) { return resp, nil })}
	u := "https://ecs.cn-north-4.myhuaweicloud.com/v1/" + testProject + "/cloudservers/" + testServer + "/migrate"
	b.ReportAllocs()
	for b.Loop() {
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("User-Agent", DefaultUserAgent)
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
		req.Header.Set(headerProjectID, testProject)
		if _, err := s.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkShowJob measures a whole ShowJob call over loopback HTTP against
// an httptest server that answers a fixed job: request building, signing,
// the round trip, reading, error checks and decoding.
func BenchmarkShowJob(b *testing.B) {
	job := []byte(`{"status":"SUCCESS","entities":{"sub_jobs_total":1,"sub_jobs":[{"status":"SUCCESS","entities":{"server_id":"` +
		testServer + `"},"job_id":"ff80808288d41e1b018990260955686b","job_type":"createSingleServer","begin_time":"2016-04-25T20:04:34.604Z",` +
		`"end_time":"2016-04-25T20:08:41.593Z","error_code":null,"fail_reason":null}]},"job_id":"` + testJob +
		`","job_type":"createServer","begin_time":"2016-04-25T20:04:34.604Z","end_time":"2016-04-25T20:08:41.593Z","error_code":null,"fail_reason":null}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(job)
	}))
	b.Cleanup(srv.Close)
	c := mustNew(b, WithEndpoint(srv.URL), WithCredentials(testCreds), WithHTTPClient(srv.Client()))
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		j, err := c.ShowJob(ctx, testProject, testJob)
		if err != nil {
			b.Fatal(err)
		}
		if j.Status != JobSuccess {
			b.Fatalf("status %q", j.Status)
		}
	}
}

// BenchmarkDecodeJob isolates decoding a ShowJob answer.
func BenchmarkDecodeJob(b *testing.B) {
	body := []byte(`{"status":"RUNNING","job_id":"` + testJob + `","job_type":"migrateServer","begin_time":"2026-03-01T10:00:00.001Z",` +
		`"end_time":null,"error_code":null,"fail_reason":null,"entities":{"server_id":"` + testServer + `","sub_jobs":[]}}`)
	b.ReportAllocs()
	for b.Loop() {
		raw := jobJSON{want: testJob}
		if err := decodeBody(body, &raw); err != nil {
			b.Fatal(err)
		}
		if err := raw.check(); err != nil {
			b.Fatal(err)
		}
		_ = raw.job()
	}
}

// BenchmarkDecodeList100 isolates checking for an error, decoding and
// checking a ListServersDetails answer to 100 ids: all found (the common
// answer, read in one typed pass), or half of them missing.
func BenchmarkDecodeList100(b *testing.B) {
	for _, missing := range []bool{false, true} {
		b.Run(fmt.Sprintf("missing=%t", missing), func(b *testing.B) {
			ids := make([]string, 100)
			entries := make([]string, 100)
			for i := range ids {
				ids[i] = fmt.Sprintf("%08x-3b1f-4c5d-9e7a-1b2c3d4e5f60", i)
				if missing && i%2 == 1 {
					entries[i] = missingEntry(ids[i])
				} else {
					entries[i] = strings.Replace(serverEntry, testServer, ids[i], 1)
				}
			}
			body := []byte(listBody(entries...))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if e := parseErrorInSuccess(200, nil, body, nil); e != nil {
					b.Fatal(e)
				}
				l := newListJSON(ids)
				if err := decodeBody(body, l); err != nil {
					b.Fatal(err)
				}
				if err := l.check(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
