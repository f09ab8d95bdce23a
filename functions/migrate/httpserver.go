package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/coldmove/coldmove/events"
)

// maxBody bounds an HTTP request body; the decoder refuses data over
// events.MaxDataSize within it.
const maxBody = 1 << 20

// httpReceiver is the CloudEvents HTTP receiver (binary and structured
// content modes) for Knative, OpenFaaS or FunctionGraph HTTP functions.
//
// It answers 202 when a migration was submitted or is being tracked; 200
// when the request was answered for good (rejected after a look at the
// server, already in place, or a duplicate); 400 (413 for an oversize
// body) when the request itself is invalid, which senders must not retry;
// and 503 with Retry-After for transient trouble, which they should. The
// body is the [Outcome] as JSON.
type httpReceiver struct {
	h   *Handler
	log *slog.Logger
	// health reports whether NATS and the ledger are reachable, for
	// GET /healthz.
	health func(ctx context.Context) error
}

func (rc *httpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		rc.healthz(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, Outcome{Status: StatusRejected, Reason: string(events.RejectInvalidEvent),
			Message: "send CloudEvents with POST"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeJSON(w, http.StatusRequestEntityTooLarge, Outcome{Status: StatusRejected, Reason: string(events.RejectPayloadTooLarge),
			Message: "the body is over 1 MiB"})
		return
	}
	o := rc.h.HandleMessage(r.Context(), r.Header, body)
	writeJSON(w, statusCode(o), o)
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
	case o.Reason == string(events.RejectPayloadTooLarge) && o.Status == StatusRejected:
		return http.StatusRequestEntityTooLarge
	case o.invalidInput():
		return http.StatusBadRequest
	case o.Status == StatusAccepted || o.Status == StatusTracking:
		return http.StatusAccepted
	}
	return http.StatusOK
}

func writeJSON(w http.ResponseWriter, code int, o Outcome) {
	w.Header().Set("Content-Type", "application/json")
	if code == http.StatusServiceUnavailable {
		secs := int(o.RetryAfter.Seconds())
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 5)))
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(o)
}
