package ecsclient

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const (
	testProject = "0123456789abcdef0123456789abcdef"
	testServer  = "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60"
	testJob     = "ff80808288d41e1b018990260955686a"
	testHost    = "6ab7a2a1-e1a1-4d84-b3a5-1bf2d2e1e0f5"

	// baseURLPath is the endpoint's path prefix. As in go-github's tests,
	// a request that drops it (an absolute path where a relative one
	// belongs) lands on a handler that fails the test.
	baseURLPath = "/api-prefix"
)

// testCreds carry a security token, so every request in these tests also
// proves X-Security-Token is sent and signed.
var testCreds = Credentials{AccessKey: "AKTESTTESTTEST0001", SecretKey: "test-secret-key-0001", SecurityToken: "test-security-token-0001"}

// fixture is a client wired to an httptest server that verifies every
// request's signature, with a fake clock and a recording sleep.
type fixture struct {
	client *Client
	mux    *http.ServeMux
	server *httptest.Server

	mu     sync.Mutex
	now    time.Time
	waits  []time.Duration
	dates  []string // X-Sdk-Date of each request, in arrival order
	bodies [][]byte // request bodies, in arrival order
}

// setup starts the fixture. Handlers go on f.mux with patterns relative to
// the endpoint (e.g. "GET /v1/{project}/jobs/{job}").
func setup(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux(), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	api := http.NewServeMux()
	api.Handle(baseURLPath+"/", f.verified(t, http.StripPrefix(baseURLPath, f.mux)))
	api.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request to %s lost the endpoint's path prefix %s", r.URL.Path, baseURLPath)
		http.Error(w, "Client.endpoint path prefix is not preserved in the request URL.", http.StatusInternalServerError)
	})
	f.server = httptest.NewServer(api)
	t.Cleanup(f.server.Close)

	all := append([]Option{
		WithEndpoint(f.server.URL + baseURLPath),
		WithCredentials(testCreds),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}),
	}, opts...)
	f.client = mustNew(t, all...)
	f.client.now = f.clock
	f.client.sleep = f.fakeSleep
	f.client.jitter = func() float64 { return 0.5 }
	return f
}

// verified checks each request's signature against what arrived, records
// its date and body, and passes it on with the body restored.
func (f *fixture) verified(t *testing.T, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		if err := verifySignature(r, body, testCreds); err != nil {
			t.Errorf("%s %s: bad signature: %v", r.Method, r.URL.Path, err)
			http.Error(w, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}`, http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		f.dates = append(f.dates, r.Header.Get("X-Sdk-Date"))
		f.bodies = append(f.bodies, body)
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// fakeSleep records the wait and moves the fake clock instead of sleeping.
func (f *fixture) fakeSleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fixture) recordedWaits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

func (f *fixture) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func mustNew(t testing.TB, opts ...Option) *Client {
	t.Helper()
	c, err := New(opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// writeJSON answers with status, optional headers and a body.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req-"+fmt.Sprint(status))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// sequence answers successive requests with the given handlers, repeating
// the last one.
func sequence(t *testing.T, hs ...http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := hs[min(n, len(hs)-1)]
		n++
		mu.Unlock()
		h(w, r)
	}
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, status, body) }
}

// hangUp reads the whole request, then closes the connection without an
// answer: the request was delivered, the response lost.
func hangUp(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
}

// cutBody sends a 200 header promising more body than it sends.
func cutBody(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"job_")
		buf.Flush()
		conn.Close()
	}
}
