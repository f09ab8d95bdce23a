package ecsclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run the client's real clock and real timer-based waits inside
// a synctest bubble, where time is virtual: the waits take no wall time and
// their length is exact. The HTTP exchange goes through an in-memory
// transport, since a socket would not let the bubble's clock advance.

func TestSleepCtx(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := sleepCtx(t.Context(), 90*time.Second); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 90*time.Second {
			t.Errorf("slept %v, want 90s", got)
		}

		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		start = time.Now()
		if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
		if got := time.Since(start); got != 10*time.Second {
			t.Errorf("returned after %v, want 10s (the ctx deadline)", got)
		}
	})
}

func TestRetry_realClockInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := sequence(t, answer(503, ``), answer(503, ``), answer(200, jobRunning))
		c := mustNew(t,
			WithEndpoint("https://ecs.example.com/prefix"),
			WithCredentials(testCreds),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 10 * time.Second}),
			WithHTTPClient(&http.Client{Transport: inMemory(t, h)}),
		)
		c.jitter = func() float64 { return 0 }
		start := time.Now()
		job, err := c.ShowJob(t.Context(), testProject, testJob)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != JobRunning {
			t.Errorf("Status = %q", job.Status)
		}
		// Waits of d/2 with d = 1s, then 2s.
		if got := time.Since(start); got != 1500*time.Millisecond {
			t.Errorf("took %v of virtual time, want 1.5s", got)
		}
	})
}

func TestRetry_deadlineInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := mustNew(t,
			WithEndpoint("https://ecs.example.com"),
			WithCredentials(testCreds),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 10, BaseDelay: time.Second, MaxDelay: 10 * time.Second}),
			WithHTTPClient(&http.Client{Transport: inMemory(t, answer(500, ``))}),
		)
		c.jitter = func() float64 { return 0 }
		ctx, cancel := context.WithTimeout(t.Context(), 1200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.ShowJob(ctx, testProject, testJob)
		// 0.5s fits; the next wait (1s) would end at 1.5s, past 1.2s, so
		// the client returns at 0.5s instead of sleeping into the deadline.
		if got := time.Since(start); got != 500*time.Millisecond {
			t.Errorf("returned after %v, want 500ms", got)
		}
		if !IsTransient(err) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the last transient answer, not a deadline error", err)
		}
	})
}

// inMemory serves requests with h without a socket, checking each
// signature as the fixture's server does.
func inMemory(t *testing.T, h http.Handler) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				return nil, err
			}
			r.Body.Close()
		}
		if err := verifySignature(r, body, testCreds); err != nil {
			t.Errorf("bad signature: %v", err)
		}
		srvReq := httptest.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), bytes.NewReader(body))
		srvReq.Header = r.Header.Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, srvReq)
		return rec.Result(), nil
	})
}
