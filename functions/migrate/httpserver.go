package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/secret"
)

// maxBody bounds an HTTP request body; the decoder refuses data over
// events.MaxDataSize within it.
const maxBody = 1 << 20

// httpLimits bound what the receiver holds, so that slow, idle or many
// connections cannot pin it down.
type httpLimits struct {
	// ReadHeader, Read, Write and Idle are the server's timeouts: the
	// headers, the whole request, the answer, and a kept-alive connection
	// without a request.
	ReadHeader, Read, Write, Idle time.Duration
	// Handle bounds the handling of one request (ECS calls, the ledger,
	// publishing); it stays below Write so that the answer gets out.
	Handle time.Duration
	// MaxInFlight requests are handled at once; more are answered 503 with
	// Retry-After. MaxConns connections are held at once; more wait to be
	// accepted.
	MaxInFlight, MaxConns int
}

func defaultHTTPLimits() httpLimits {
	return httpLimits{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 75 * time.Second, Idle: 30 * time.Second,
		Handle: 60 * time.Second, MaxInFlight: 64, MaxConns: 256}
}

// httpReceiver is the CloudEvents HTTP receiver (binary and structured
// content modes) for Knative, OpenFaaS or FunctionGraph HTTP functions.
//
// With a token, every request but GET /healthz must carry
// "Authorization: Bearer <token>" (compared in constant time); others are
// answered 401 and nothing is published. It answers 202 when a migration
// was submitted or is being tracked; 200 when the request was answered for
// good (rejected after a look at the server, already in place, or a
// duplicate); 400 (413 for an oversize body) when the request itself is
// invalid, which senders must not retry; and 503 with Retry-After for
// transient trouble or when MaxInFlight requests are being handled, which
// they should retry. The body is an [httpAnswer]: a status, a reason code
// and the request's own ids, never upstream error text; the detail goes to
// the log.
type httpReceiver struct {
	h   *Handler
	log *slog.Logger
	// health reports whether NATS and the ledger are reachable, for
	// GET /healthz.
	health   func(ctx context.Context) error
	token    [sha256.Size]byte // digest of the bearer token
	auth     bool              // a token is required
	limits   httpLimits
	inflight chan struct{}
}

func newHTTPReceiver(h *Handler, log *slog.Logger, health func(context.Context) error, token secret.String, limits httpLimits) *httpReceiver {
	rc := &httpReceiver{h: h, log: log, health: health, limits: limits, inflight: make(chan struct{}, max(limits.MaxInFlight, 1))}
	if token != "" {
		rc.auth, rc.token = true, sha256.Sum256([]byte(token.Reveal()))
	}
	return rc
}

// server returns the HTTP server of the receiver, with its timeouts.
func (rc *httpReceiver) server() *http.Server {
	return &http.Server{
		Handler:           rc,
		ReadHeaderTimeout: rc.limits.ReadHeader,
		ReadTimeout:       rc.limits.Read,
		WriteTimeout:      rc.limits.Write,
		IdleTimeout:       rc.limits.Idle,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(rc.log.Handler(), slog.LevelWarn),
	}
}

// listen wraps ln so that at most MaxConns connections are held at once.
func (rc *httpReceiver) listen(ln net.Listener) net.Listener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, max(rc.limits.MaxConns, 1))}
}

// httpAnswer is the body of every answer.
type httpAnswer struct {
	Status Status `json:"status"`
	// Reason is the reject reason, or for a retry what kind of trouble.
	Reason string `json:"reason,omitempty"`
	// RequestID and ServerID are the request's own; JobID its job;
	// EventID the outcome event published.
	RequestID string `json:"request_id,omitempty"`
	ServerID  string `json:"server_id,omitempty"`
	JobID     string `json:"job_id,omitempty"`
	EventID   string `json:"event_id,omitempty"`
}

func answerOf(o Outcome) httpAnswer {
	return httpAnswer{Status: o.Status, Reason: o.Reason, RequestID: o.RequestID, ServerID: o.ServerID, JobID: o.JobID, EventID: o.EventID}
}

func (rc *httpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		// Health checks need no token; they may not hold a connection.
		w.Header().Set("Connection", "close")
		rc.healthz(w, r)
		return
	}
	if rc.auth && !rc.authorized(r) {
		rc.log.WarnContext(r.Context(), "HTTP request refused: no valid bearer token", "remote", r.RemoteAddr, "path", r.URL.Path)
		w.Header().Set("WWW-Authenticate", `Bearer realm="coldmove"`)
		// An unauthenticated caller may not keep a connection (a slot of
		// MaxConns) open either.
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusUnauthorized, httpAnswer{Status: StatusRejected, Reason: "unauthenticated"}, 0)
		return
	}
	select {
	case rc.inflight <- struct{}{}:
		defer func() { <-rc.inflight }()
	default:
		// Closed at once: a body still trickling in would otherwise hold
		// the connection until the read timeout.
		w.Header().Set("Connection", "close")
		writeJSON(w, http.StatusServiceUnavailable, httpAnswer{Status: StatusRetry, Reason: "busy"}, time.Second)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, httpAnswer{Status: StatusRejected, Reason: string(events.RejectInvalidEvent)}, 0)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
			writeJSON(w, http.StatusRequestEntityTooLarge, httpAnswer{Status: StatusRejected, Reason: string(events.RejectPayloadTooLarge)}, 0)
			return
		}
		rc.log.WarnContext(r.Context(), "HTTP request body unreadable", "remote", r.RemoteAddr, "error", err)
		writeJSON(w, http.StatusBadRequest, httpAnswer{Status: StatusRejected, Reason: string(events.RejectInvalidEvent)}, 0)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), rc.limits.Handle)
	defer cancel()
	o := rc.h.HandleMessage(ctx, r.Header, body)
	writeJSON(w, statusCode(o), answerOf(o), o.RetryAfter)
}

// authorized reports whether r carries the bearer token. The digests are
// compared in constant time, so neither the token nor its length leaks
// through timing.
func (rc *httpReceiver) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(got[:], rc.token[:]) == 1
}

// healthz answers 200 when NATS and the ledger are reachable, 503 with
// Retry-After otherwise; the body says which, without detail (that goes
// to the log).
func (rc *httpReceiver) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := rc.health(ctx); err != nil {
		rc.log.WarnContext(ctx, "health check failed", "error", err)
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"unavailable"}`+"\n")
		return
	}
	_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
}

func statusCode(o Outcome) int {
	switch {
	case o.Retryable():
		return http.StatusServiceUnavailable
	case o.Reason == string(events.RejectPayloadTooLarge) && o.invalidInput():
		return http.StatusRequestEntityTooLarge
	case o.invalidInput():
		return http.StatusBadRequest
	case o.Status == StatusAccepted || o.Status == StatusTracking || o.Status == StatusStopping:
		return http.StatusAccepted
	}
	return http.StatusOK
}

// writeJSON writes an answer; a 503 says when to retry (at least 1 s).
func writeJSON(w http.ResponseWriter, code int, a httpAnswer, retryAfter time.Duration) {
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusServiceUnavailable {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

// limitListener holds at most cap(slots) connections at once: Accept
// waits for a slot, and a connection frees its slot when closed.
type limitListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
