package events

import (
	"time"

	"github.com/coldmove/coldmove/ids"
)

// Correlation is the part of every outcome payload that ties it to its
// request: the request's CloudEvent id and source, the server, the project,
// the target and, where one exists, the migration job.
type Correlation struct {
	RequestID     string  `json:"request_id"`
	RequestSource string  `json:"request_source"`
	ServerID      string  `json:"server_id"`
	ProjectID     string  `json:"project_id,omitempty"`
	Region        string  `json:"region,omitempty"`
	Target        *Target `json:"target,omitempty"`
	JobID         string  `json:"job_id,omitempty"`
	// Power is what coldmove did to the server's power, on the terminal
	// event of a request that asked for power steps.
	Power *PowerOutcome `json:"power,omitempty"`
}

// check reports the problems of a correlation of a request that was read
// and validated: everything but the job id is required.
func (c *Correlation) check(ps *problems, needJob bool) {
	if c.RequestID == "" {
		ps.add("request_id", "is required")
	}
	if c.RequestSource == "" {
		ps.add("request_source", "is required")
	}
	ps.id("server_id", ids.Server, c.ServerID)
	ps.id("project_id", ids.Project, c.ProjectID)
	if c.Region != "" {
		ps.id("region", ids.Region, c.Region)
	}
	c.Target.check(ps, "target")
	if needJob && c.JobID == "" {
		ps.add("job_id", "is required")
	}
}

// Accepted is the data of a [TypeAccepted] event: the migration was
// submitted as job JobID and is tracked until Deadline.
type Accepted struct {
	Correlation
	Deadline time.Time `json:"deadline"`
}

// Validate reports every problem at once, as a *[ValidationError], or nil.
func (a *Accepted) Validate() error {
	var ps problems
	a.check(&ps, true)
	if a.Deadline.IsZero() {
		ps.add("deadline", "is required")
	}
	return ps.err()
}

// Rejection says why a request was rejected.
type Rejection struct {
	Reason RejectReason `json:"reason"`
	// Message explains the rejection to a person.
	Message string `json:"message"`
	// Problems lists, for invalid events and payloads, what is wrong with
	// each field.
	Problems []Problem `json:"problems,omitempty"`
	// ServerStatus is the server's state when the pre-flight refused it,
	// for example "ACTIVE" or "RESIZE (resize_migrating)".
	ServerStatus string `json:"server_status,omitempty"`
	// APIErrorCode, APIErrorMessage and APIRequestID are the ECS API's
	// answer when the API refused the request.
	APIErrorCode    string `json:"api_error_code,omitempty"`
	APIErrorMessage string `json:"api_error_message,omitempty"`
	APIRequestID    string `json:"api_request_id,omitempty"`
}

// Rejected is the data of a [TypeRejected] event. Because a rejection may
// answer a request that could not be read, its correlation fields are
// whatever could be read; only the reason is always present.
type Rejected struct {
	Correlation
	Rejection
}

// Validate reports every problem at once, as a *[ValidationError], or nil.
func (r *Rejected) Validate() error {
	var ps problems
	if !r.Reason.Valid() {
		ps.add("reason", "must be one of the documented reject reasons")
	}
	if r.Message == "" {
		ps.add("message", "is required")
	}
	readable := r.Reason != RejectInvalidEvent && r.Reason != RejectUnsupportedType &&
		r.Reason != RejectInvalidPayload && r.Reason != RejectPayloadTooLarge
	if readable {
		r.check(&ps, false)
	}
	return ps.err()
}

// Completed is the data of a [TypeCompleted] event: the server is verified
// on the target, moved by job JobID or, with AlreadyInPlace, there before
// any call was made (and then there is no job). JobID is also absent when
// the migrate call's answer was lost: coldmove never sends the call again
// and verified the move from the server's state instead.
type Completed struct {
	Correlation
	AlreadyInPlace bool `json:"already_in_place"`
}

// Validate reports every problem at once, as a *[ValidationError], or nil.
func (c *Completed) Validate() error {
	var ps problems
	c.check(&ps, false)
	if c.AlreadyInPlace && c.JobID != "" {
		ps.add("job_id", "must be absent when the server was already in place")
	}
	return ps.err()
}

// Failure says why a submitted migration failed.
type Failure struct {
	Reason FailReason `json:"reason"`
	// Message explains the failure to a person.
	Message string `json:"message"`
	// ErrorCode and FailReason are the job's error_code and fail_reason.
	ErrorCode  string `json:"error_code,omitempty"`
	FailReason string `json:"fail_reason,omitempty"`
	// SubJobs lists the sub-jobs that did not succeed, with their reasons.
	SubJobs []SubJobFailure `json:"sub_jobs,omitempty"`
	// ObservedHostID is the dedicated host the server was found on when it
	// was not the target ("" when on none).
	ObservedHostID string `json:"observed_dedicated_host_id,omitempty"`
	// PlacementVerified, with reason restart_failed, says the server is
	// verified on the target: only the start after the move failed.
	PlacementVerified bool `json:"placement_verified,omitempty"`
}

// SubJobFailure is one sub-job of a failed job.
type SubJobFailure struct {
	JobID      string `json:"job_id,omitempty"`
	JobType    string `json:"job_type,omitempty"`
	Status     string `json:"status,omitempty"`
	ErrorCode  string `json:"error_code,omitempty"`
	FailReason string `json:"fail_reason,omitempty"`
	Message    string `json:"message,omitempty"`
}

// Failed is the data of a [TypeFailed] event. JobID is absent when the
// migrate call's answer was lost and the server was followed instead.
type Failed struct {
	Correlation
	Failure
}

// Validate reports every problem at once, as a *[ValidationError], or nil.
func (f *Failed) Validate() error {
	var ps problems
	f.check(&ps, false)
	if !f.Reason.Valid() {
		ps.add("reason", "must be one of the documented fail reasons")
	}
	if f.Message == "" {
		ps.add("message", "is required")
	}
	return ps.err()
}

// TimedOut is the data of a [TypeTimedOut] event: Deadline passed while job
// JobID was last seen in LastStatus; whether the server moved is unknown.
// JobID is absent when the migrate call's answer was lost and the server
// was followed instead.
type TimedOut struct {
	Correlation
	Deadline   time.Time `json:"deadline"`
	LastStatus string    `json:"last_status,omitempty"`
}

// Validate reports every problem at once, as a *[ValidationError], or nil.
func (t *TimedOut) Validate() error {
	var ps problems
	t.check(&ps, false)
	if t.Deadline.IsZero() {
		ps.add("deadline", "is required")
	}
	return ps.err()
}

// DeadlineExceeded is the rejection of a request that trouble kept from
// being submitted until its deadline passed, with the last error that
// stood in its way (design.md, guarantee 4).
func DeadlineExceeded(deadline time.Time, lastErr string) Rejection {
	msg := "the request's deadline " + deadline.UTC().Format(time.RFC3339) + " passed before its migration could be submitted"
	if lastErr != "" {
		msg += "; last error: " + lastErr
	}
	return Rejection{Reason: RejectDeadlineExceeded, Message: msg}
}

// Progressed is the data of a [TypeProgressed] event: a power step of the
// request was submitted or finished. JobID is the power job's.
type Progressed struct {
	Correlation
	Step Step `json:"step"`
}

// Validate reports every problem at once, as a *[ValidationError], or nil.
func (p *Progressed) Validate() error {
	var ps problems
	p.check(&ps, false)
	if !p.Step.Valid() {
		ps.add("step", "must be one of stop_submitted, stopped, start_submitted, started")
	}
	return ps.err()
}
