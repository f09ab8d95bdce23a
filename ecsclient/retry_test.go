package ecsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const jobRunning = `{"status":"RUNNING","job_id":"` + testJob + `"}`

// The fixture's policy is 4 attempts, 100 ms base, 1 s cap, with the jitter
// pinned at 0.5, so the waits are 75 ms, 150 ms, 300 ms.

func TestRetry_GETTransientThenSuccess(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*testing.T) http.HandlerFunc{
		"500": func(*testing.T) http.HandlerFunc {
			return answer(500, `{"error":{"code":"Common.0001","message":"internal"}}`)
		},
		"502 HTML":  func(*testing.T) http.HandlerFunc { return answer(502, `<html>bad gateway</html>`) },
		"503 empty": func(*testing.T) http.HandlerFunc { return answer(503, ``) },
		"429 APIGW.0308": func(*testing.T) http.HandlerFunc {
			return answer(429, `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}`)
		},
		"429 Common.1503": func(*testing.T) http.HandlerFunc {
			return answer(429, `{"error":{"code":"Common.1503","message":"API flow control"}}`)
		},
		"202 Common.0024": func(*testing.T) http.HandlerFunc {
			return answer(202, `{"error":{"code":"Common.0024","message":"Flow limit exceeded"}}`)
		},
		"501 Ecs.0603": func(*testing.T) http.HandlerFunc {
			return answer(501, `{"error":{"code":"Ecs.0603","message":"busy"}}`)
		},
		"connection dropped": hangUp,
		"body cut short":     cutBody,
	}
	for name, first := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", sequence(t, first(t), answer(200, jobRunning)))
			job, err := f.client.ShowJob(t.Context(), testProject, testJob)
			if err != nil {
				t.Fatalf("ShowJob: %v", err)
			}
			if job.Status != JobRunning {
				t.Errorf("Status = %q", job.Status)
			}
			if n := f.requests(); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
			if diff := cmp.Diff([]time.Duration{75 * time.Millisecond}, f.recordedWaits()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRetry_GETPermanentNotRetried(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		status int
		body   string
	}{
		"400 invalid parameter": {400, `{"error":{"code":"Ecs.0005","message":"bad"}}`},
		"401 auth":              {401, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}`},
		"403 policy":            {403, `{"error":{"code":"Pdp.0001","message":"denied"}}`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", answer(tc.status, tc.body))
			if _, err := f.client.ShowJob(t.Context(), testProject, testJob); err == nil || IsTransient(err) {
				t.Fatalf("err = %v, want a permanent error", err)
			}
			if n, w := f.requests(), f.recordedWaits(); n != 1 || len(w) != 0 {
				t.Errorf("%d requests and waits %v, want 1 and none", n, w)
			}
		})
	}
}

func TestRetry_exhausted(t *testing.T) {
	t.Parallel()
	f := setup(t)
	f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", answer(503, `{"error":{"code":"Common.0002","message":"unavailable"}}`))
	_, err := f.client.ShowJob(t.Context(), testProject, testJob)
	if !IsTransient(err) {
		t.Errorf("IsTransient(%v) = false", err)
	}
	want := "ecsclient: show job " + testJob + ": after 4 attempts: HTTP 503 Common.0002: unavailable (request id req-503)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
	if diff := cmp.Diff([]time.Duration{75 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond}, f.recordedWaits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if n := f.requests(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestRetryPolicy_backoff(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 10, BaseDelay: time.Second, MaxDelay: 4 * time.Second}
	tests := []struct {
		n      int
		r      float64
		want   time.Duration
		reason string
	}{
		{1, 0, 500 * time.Millisecond, "half of the base at the low end"},
		{1, 0.999, 999500 * time.Microsecond, "just under the base at the high end"},
		{2, 0.5, 1500 * time.Millisecond, "doubles"},
		{3, 0, 2 * time.Second, "doubles again"},
		{4, 0, 2 * time.Second, "capped at MaxDelay"},
		{60, 0.5, 3 * time.Second, "no overflow for large n"},
	}
	for _, tc := range tests {
		if got := p.backoff(tc.n, tc.r); got != tc.want {
			t.Errorf("backoff(%d, %v) = %v, want %v (%s)", tc.n, tc.r, got, tc.want, tc.reason)
		}
	}
}

func TestRetry_retryAfter(t *testing.T) {
	t.Parallel()
	t.Run("honoured when longer than the backoff", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", sequence(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, 429, `{"error_code":"APIGW.0308","error_msg":"throttled"}`)
		}, answer(200, jobRunning)))
		if _, err := f.client.ShowJob(t.Context(), testProject, testJob); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]time.Duration{time.Second}, f.recordedWaits()); diff != "" {
			t.Errorf("waits (-want +got):\n%s", diff)
		}
	})
	t.Run("longer than MaxDelay ends the retries", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "60")
			writeJSON(w, 429, `{"error_code":"APIGW.0308","error_msg":"throttled"}`)
		})
		_, err := f.client.ShowJob(t.Context(), testProject, testJob)
		if !errors.Is(err, ErrThrottled) || !strings.Contains(err.Error(), "retry after 1m0s") {
			t.Errorf("err = %v, want the throttling error with the server's wish", err)
		}
		if f.requests() != 1 {
			t.Errorf("%d requests, want 1", f.requests())
		}
	})
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0":                             0,
		"-5":                            0,
		"soon":                          0,
		"Sun, 01 Mar 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
	} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestRetry_stopsBeforeTheDeadline(t *testing.T) {
	t.Parallel()
	f := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 10, BaseDelay: 2 * time.Minute, MaxDelay: time.Hour}))
	f.now = time.Now()
	ctx, cancel := context.WithDeadline(t.Context(), f.now.Add(10*time.Minute))
	defer cancel()
	f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", answer(500, ``))
	_, err := f.client.ShowJob(ctx, testProject, testJob)
	// Waits of 1.5 and 3 minutes fit; the next, 6 minutes, would end at
	// 10.5 minutes, past the deadline, so the client stops at 3 attempts.
	if diff := cmp.Diff([]time.Duration{90 * time.Second, 3 * time.Minute}, f.recordedWaits()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "after 3 attempts: no time left before the deadline") || !IsTransient(err) {
		t.Errorf("err = %v", err)
	}
}

func TestRetry_contextEndsWhileWaiting(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	f.client.sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return sleepCtx(ctx, d)
	}
	f.mux.HandleFunc("GET /v1/{project}/jobs/{job}", answer(503, ``))
	_, err := f.client.ShowJob(ctx, testProject, testJob)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if ae, ok := errors.AsType[*APIError](err); !ok || ae.StatusCode != 503 {
		t.Errorf("err = %v, want the last answer kept", err)
	}
	if f.requests() != 1 {
		t.Errorf("%d requests, want 1", f.requests())
	}
}

func TestRetry_POSTRetriedOnlyWhenThrottled(t *testing.T) {
	t.Parallel()
	f := setup(t, WithRetryPolicy(RetryPolicy{MaxAttempts: 4, BaseDelay: 2 * time.Second, MaxDelay: 10 * time.Second}))
	f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", sequence(t,
		answer(429, `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}`),
		answer(202, `{"error":{"code":"Common.0024","message":"Flow limit exceeded"}}`),
		answer(429, `{"error":{"code":"Common.1503","message":"API flow control"}}`),
		answer(200, `{"job_id":"`+testJob+`"}`),
	))
	id, err := f.client.MigrateServer(t.Context(), testProject, testServer, Target{DedicatedHostID: testHost})
	if err != nil || id != testJob {
		t.Fatalf("MigrateServer = %q, %v", id, err)
	}
	if n := f.requests(); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
	// Each attempt is signed afresh (the server verified every signature)
	// with the clock of its own moment, and sends the same bytes.
	f.mu.Lock()
	defer f.mu.Unlock()
	want := []string{"20260301T120000Z", "20260301T120001Z", "20260301T120004Z", "20260301T120010Z"}
	if diff := cmp.Diff(want, f.dates); diff != "" {
		t.Errorf("X-Sdk-Date per attempt (-want +got):\n%s", diff)
	}
	for i, b := range f.bodies {
		if string(b) != string(f.bodies[0]) {
			t.Errorf("attempt %d sent %q, first sent %q", i+1, b, f.bodies[0])
		}
	}
}

func TestRetry_POSTOutcomeUnknown(t *testing.T) {
	t.Parallel()
	tests := map[string]func(*testing.T) http.HandlerFunc{
		"connection dropped after the request arrived": hangUp,
		"answer body cut short":                        cutBody,
		"503 answer":                                   func(*testing.T) http.HandlerFunc { return answer(503, ``) },
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", h(t))
			_, err := f.client.MigrateServer(t.Context(), testProject, testServer, Target{})
			if !errors.Is(err, ErrOutcomeUnknown) {
				t.Errorf("err = %v, want ErrOutcomeUnknown", err)
			}
			if IsTransient(err) {
				t.Error("an unknown outcome must not look transient")
			}
			if !strings.Contains(err.Error(), "outcome unknown: the request may have been processed") {
				t.Errorf("error %q does not say the outcome is unknown", err)
			}
			if n := f.requests(); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
		})
	}
}

func TestRetry_POSTRetriedWhenNeverSent(t *testing.T) {
	t.Parallel()
	// A loopback port nobody listens on: the first dial is refused for
	// real, before any byte of the request exists on the wire.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close()
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		if dials.Add(1) == 1 {
			addr = refused
		}
		return d.DialContext(ctx, network, addr)
	}}
	t.Cleanup(tr.CloseIdleConnections)
	f := setup(t, WithHTTPClient(&http.Client{Transport: tr}))
	f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", answer(200, `{"job_id":"`+testJob+`"}`))
	id, err := f.client.MigrateServer(t.Context(), testProject, testServer, Target{})
	if err != nil || id != testJob {
		t.Fatalf("MigrateServer = %q, %v", id, err)
	}
	if n := f.requests(); n != 1 {
		t.Errorf("%d requests reached the server, want 1", n)
	}
	if w := f.recordedWaits(); len(w) != 1 {
		t.Errorf("waits %v, want one", w)
	}
}

func TestRetry_POSTContext(t *testing.T) {
	t.Parallel()
	t.Run("ended before sending: plain context error", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", answer(200, `{"job_id":"`+testJob+`"}`))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := f.client.MigrateServer(ctx, testProject, testServer, Target{})
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("err = %v, want context.Canceled and a known (unsent) outcome", err)
		}
		if f.requests() != 0 {
			t.Errorf("%d requests, want 0", f.requests())
		}
	})
	t.Run("ended after the request arrived: outcome unknown", func(t *testing.T) {
		t.Parallel()
		f := setup(t)
		ctx, cancel := context.WithCancel(t.Context())
		f.mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", func(w http.ResponseWriter, r *http.Request) {
			cancel() // the caller gives up while the service works on it
			<-r.Context().Done()
		})
		_, err := f.client.MigrateServer(ctx, testProject, testServer, Target{})
		if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want ErrOutcomeUnknown and context.Canceled", err)
		}
		if f.requests() != 1 {
			t.Errorf("%d requests, want 1", f.requests())
		}
	})
}

// TestRetry_readDecodesAFreshAnswer: a retried read must not inherit fields
// from an earlier attempt's answer that failed to decode half-way, or an
// answer that lacks them would pass as complete.
func TestRetry_readDecodesAFreshAnswer(t *testing.T) {
	t.Parallel()
	halfServer := `{"server":{"id":"` + testServer + `","status":"SHUTOFF","flavor":{"vcpus":"two"}}}`
	halfJob := `{"status":"RUNNING","job_id":"` + testJob + `","entities":{"sub_jobs":{}}}`
	tests := map[string]struct {
		path string
		call func(*Client, *testing.T) error
		half string
	}{
		"show server": {"GET /v1/{project}/cloudservers/{server}", func(c *Client, t *testing.T) error {
			_, err := c.ShowServer(t.Context(), testProject, testServer)
			return err
		}, halfServer},
		"show job": {"GET /v1/{project}/jobs/{job}", func(c *Client, t *testing.T) error {
			_, err := c.ShowJob(t.Context(), testProject, testJob)
			return err
		}, halfJob},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t)
			f.mux.HandleFunc(tc.path, sequence(t, answer(200, tc.half), answer(200, `{}`)))
			err := tc.call(f.client, t)
			if err == nil || !IsTransient(err) {
				t.Errorf("err = %v, want a transient unusable answer", err)
			}
			if n := f.requests(); n != 4 {
				t.Errorf("%d requests, want 4", n)
			}
		})
	}
}
