package main

import (
	"time"

	"github.com/coldmove/coldmove/events"
)

// Status says what the handler did with a request. It is the "status" of
// every invoke result and HTTP answer.
type Status string

// The statuses.
const (
	// StatusAccepted: the migration was submitted; an accepted event with
	// the job id was published.
	StatusAccepted Status = "accepted"
	// StatusRejected: nothing was submitted; a rejected event says why.
	StatusRejected Status = "rejected"
	// StatusCompleted: the server already was on the target; a completed
	// event with already_in_place was published and nothing was submitted.
	StatusCompleted Status = "completed"
	// StatusStopping: the request asked for power steps and its running
	// server is being stopped first (a progressed event with the stop's
	// job id was published); poll submits the migrate call once the stop
	// is done.
	StatusStopping Status = "stopping"
	// StatusTracking: the migrate call was sent but its answer was lost;
	// it is never sent again, and the poll function follows the server
	// until it is on the target or the deadline passes.
	StatusTracking Status = "tracking"
	// StatusDuplicate: the request was handled before; its outcome event
	// was published again (same id, so JetStream drops the copy).
	StatusDuplicate Status = "duplicate"
	// StatusRetry: transient trouble (the API throttled or failed, NATS or
	// the ledger was unreachable, the request is in progress elsewhere);
	// nothing final happened and the request must be delivered again.
	StatusRetry Status = "retry"
)

// Outcome is the handler's account of one request.
type Outcome struct {
	Status Status `json:"status"`
	// Reason is the reject reason, or for a retry what went wrong.
	Reason string `json:"reason,omitempty"`
	// Message explains a rejection or a retry to a person.
	Message string `json:"message,omitempty"`
	// RequestID and ServerID identify the request, when they could be read.
	RequestID string `json:"request_id,omitempty"`
	ServerID  string `json:"server_id,omitempty"`
	JobID     string `json:"job_id,omitempty"`
	// EventID and EventType name the outcome event published.
	EventID   string `json:"event_id,omitempty"`
	EventType string `json:"event_type,omitempty"`
	// RetryAfter suggests when to deliver a retried request again; zero
	// leaves it to the runtime.
	RetryAfter time.Duration `json:"-"`
	// Err is the error behind a retry.
	Err error `json:"-"`
}

// Retryable reports whether the request must be delivered again.
func (o Outcome) Retryable() bool { return o.Status == StatusRetry }

// invalidInput reports whether a rejection is about the request itself
// (not a CloudEvent, wrong type, bad payload) rather than the server. A
// duplicate of such a request is answered as the request was: what a
// sender did wrong, it did wrong again.
func (o Outcome) invalidInput() bool {
	switch events.RejectReason(o.Reason) {
	case events.RejectInvalidEvent, events.RejectUnsupportedType, events.RejectInvalidPayload, events.RejectPayloadTooLarge:
		return o.Status == StatusRejected || o.Status == StatusDuplicate
	}
	return false
}
