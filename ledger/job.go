package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// Target is where a server is being moved: a dedicated host, or the public
// pool (off any dedicated host). It is the target of package events, so a
// request's target is recorded and carried onto its outcome unchanged.
type Target = events.Target

// JobLease says which poller works on a job record, and until when.
type JobLease struct {
	Owner string    `json:"owner"`
	Until time.Time `json:"until"`
}

// Job is the record of one submitted migration, keyed job.<record id>
// ([Job.RecordID]). A job with an ECS job id follows that job; a watch job,
// without one, follows the server's state for a request whose migrate call
// was made (or may have been) but whose job id is unknown
// ([Claim.JobUnknown]).
type Job struct {
	// Revision is the record's revision when read or last written.
	Revision uint64 `json:"-"`

	// JobID is the ECS job id; empty for a watch job.
	JobID string `json:"job_id"`
	// RequestID, RequestSource and RequestKey correlate the job with the
	// request CloudEvent and its claim.
	RequestID     string `json:"request_id"`
	RequestSource string `json:"request_source"`
	RequestKey    string `json:"request_key"`
	ProjectID     string `json:"project_id"`
	Region        string `json:"region"`
	ServerID      string `json:"server_id"`
	Target        Target `json:"target"`
	// TraceParent and TraceState are the request's W3C trace context,
	// carried onto the outcome event.
	TraceParent string `json:"traceparent,omitempty"`
	TraceState  string `json:"tracestate,omitempty"`
	// Deadline is when the request times out if the job has not ended.
	Deadline time.Time `json:"deadline"`
	// Attempts counts the polls so far ([Ledger.Reschedule] adds one).
	Attempts int `json:"attempts"`
	// NextPoll is when the job is next due.
	NextPoll time.Time `json:"next_poll"`
	// Lease is set while a poller works on the job.
	Lease *JobLease `json:"lease,omitempty"`
	// LastStatus is free text the poller keeps, e.g. the last job status.
	LastStatus string `json:"last_status,omitempty"`
	// Outcome is the terminal CloudEvent in structured JSON (compact)
	// decided for the job and about to be published, set by
	// [Ledger.SetOutcome] before publishing, so that a poller taking the
	// job over after a crash re-publishes exactly the same bytes. Change it
	// only through SetOutcome.
	Outcome json.RawMessage `json:"outcome,omitempty"`
	// Pending marks the pending record of a claimed request on which no
	// call was submitted yet ([PendingRecordID]): due at the request's
	// deadline, when the poll function closes the request unless its
	// claim moved on ([Ledger.CloseRequest]). It has no job id.
	Pending bool `json:"pending,omitempty"`
	// Power is set on the one record of a request with power steps
	// ([PowerRecordID]): which call it follows and what was done. JobID is
	// then the current call's job.
	Power *PowerState `json:"power,omitempty"`
	// Seen is the poller's token of its server's state at the job's last
	// look (at most [MaxSeen] printable ASCII characters, no spaces),
	// carried in the record's headers so that a scan can compare it with
	// what a bulk read of servers says now ([JobRef.Seen]).
	Seen    string    `json:"seen,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// RecordID returns the id the record is stored under (key job.<id>): the
// ECS job id; for a watch job [WatchRecordID] of the request key; for a
// pending record [PendingRecordID]; for the record of a request with power
// steps [PowerRecordID].
func (j *Job) RecordID() string {
	switch {
	case j.Power != nil:
		return PowerRecordID(j.RequestKey)
	case j.JobID != "":
		return j.JobID
	case j.Pending:
		return PendingRecordID(j.RequestKey)
	}
	return WatchRecordID(j.RequestKey)
}

// Watch reports whether j is a watch job: one without an ECS job id, which
// follows the server's state rather than a job.
func (j *Job) Watch() bool { return j.JobID == "" && !j.Pending }

// DueAt returns when the job may next be worked: its next poll time, or the
// end of its lease if that is later.
func (j *Job) DueAt() time.Time {
	if j.Lease != nil && j.Lease.Until.After(j.NextPoll) {
		return j.Lease.Until
	}
	return j.NextPoll
}

func (j *Job) validate() error {
	var errs []error
	if j.JobID != "" {
		if err := checkJobID(j.JobID); err != nil {
			errs = append(errs, err)
		}
		if j.Pending {
			errs = append(errs, errors.New("a pending record has no job id"))
		}
	}
	if err := checkID(ids.Server, j.ServerID); err != nil {
		errs = append(errs, err)
	}
	switch {
	case j.RequestID == "" || j.RequestSource == "":
		errs = append(errs, errors.New("request id and source must be set"))
	case j.RequestKey != RequestKey(j.RequestSource, j.RequestID):
		errs = append(errs, fmt.Errorf("request key %q is not the key of request %s from %s", j.RequestKey, j.RequestID, j.RequestSource))
	}
	if err := j.Target.Validate(); err != nil {
		errs = append(errs, err)
	}
	if j.Deadline.IsZero() {
		errs = append(errs, errors.New("deadline must be set"))
	}
	if len(j.Outcome) > 0 {
		errs = append(errs, errors.New("outcome must be empty: it is set by SetOutcome under a lease"))
	}
	return errors.Join(errs...)
}

// RecordJob stores a new job record, due at j.NextPoll (now when zero),
// under j.RecordID(): a job with an ECS job id, or with an empty JobID a
// watch job. j.RequestKey is derived from the request's source and id when
// empty; the lease is cleared, and Outcome must be empty (it is set only
// by [Ledger.SetOutcome]). If the record already exists for the same
// request (a retry after a crash), the stored record is returned; for
// another request the error matches [ErrConflict].
func (l *Ledger) RecordJob(ctx context.Context, j Job) (*Job, error) {
	if j.RequestKey == "" {
		j.RequestKey = RequestKey(j.RequestSource, j.RequestID)
	}
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("ledger: record job %q: %w", j.RecordID(), err)
	}
	id := j.RecordID()
	now := l.now()
	if j.NextPoll.IsZero() {
		j.NextPoll = now
	}
	j.Lease, j.Created, j.Updated = nil, now, now
	o, err := jobWriteOpts(&j)
	if err != nil {
		return nil, fmt.Errorf("ledger: record job %s: %w", id, err)
	}
	rev, err := l.write(ctx, jobKey(id), &j, 0, o)
	if ex := asExists(err); ex != nil {
		stored := &Job{Revision: ex.rev}
		if err := ex.decode(jobKey(id), stored); err != nil {
			return nil, err
		}
		if stored.RequestKey != j.RequestKey {
			return nil, fmt.Errorf("%w: job %s is recorded for request %s, not %s", ErrConflict, id, stored.RequestID, j.RequestID)
		}
		return stored, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: record job %s: %w", id, err)
	}
	j.Revision = rev
	return &j, nil
}

// GetJob returns the job record stored under recordID ([Job.RecordID]:
// the ECS job id, or a watch job's [WatchRecordID]), or an error matching
// [ErrNotFound].
func (l *Ledger) GetJob(ctx context.Context, recordID string) (*Job, error) {
	if err := checkID(ids.Job, recordID); err != nil {
		return nil, err
	}
	j := &Job{}
	rev, err := l.get(ctx, jobKey(recordID), j)
	if err != nil {
		return nil, err
	}
	j.Revision = rev
	return j, nil
}

// RecordPending stores the pending record of a claimed request ([Job.Pending];
// j's JobID must be empty), due at its deadline, unless it exists. It is
// what closes the request at its deadline if no call is ever submitted
// and no delivery comes again (a crash, a queue that gave up).
func (l *Ledger) RecordPending(ctx context.Context, j Job) (*Job, error) {
	j.Pending, j.JobID, j.NextPoll = true, "", j.Deadline
	return l.RecordJob(ctx, j)
}

// DropPending removes the pending record of the request with this
// [RequestKey], once its claim was submitted or finished. A record that
// is gone counts as dropped; one a poller holds a lease on is left to it
// (the poller finds the claim moved on and removes the record itself).
func (l *Ledger) DropPending(ctx context.Context, requestKey string) error {
	if err := checkRequestKey(requestKey); err != nil {
		return err
	}
	id := PendingRecordID(requestKey)
	for round := range maxClaimRounds {
		if err := pause(ctx, round); err != nil {
			return fmt.Errorf("ledger: drop pending %s: %w", requestKey, err)
		}
		j, err := l.GetJob(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ledger: drop pending %s: %w", requestKey, err)
		}
		if j.Lease != nil && j.Lease.Until.After(l.now()) {
			return nil
		}
		err = l.remove(ctx, jobKey(id), j.Revision)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("ledger: drop pending %s: %w", requestKey, err)
		}
		return nil
	}
	return fmt.Errorf("%w: drop pending %s: record kept changing", ErrConflict, requestKey)
}
