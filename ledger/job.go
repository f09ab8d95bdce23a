package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coldmove/coldmove/events"
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

// Job is the record of one submitted migration, keyed job.<job_id>.
type Job struct {
	// Revision is the record's revision when read or last written.
	Revision uint64 `json:"-"`

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
	LastStatus string    `json:"last_status,omitempty"`
	Created    time.Time `json:"created"`
	Updated    time.Time `json:"updated"`
}

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
	if err := checkID("job id", j.JobID); err != nil {
		errs = append(errs, err)
	}
	if err := checkID("server id", j.ServerID); err != nil {
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
	return errors.Join(errs...)
}

// RecordJob stores a new job record, due at j.NextPoll (now when zero).
// j.RequestKey is derived from the request's source and id when empty. If
// the record already exists for the same request (a retry after a crash),
// the stored record is returned; for another request the error matches
// [ErrConflict].
func (l *Ledger) RecordJob(ctx context.Context, j Job) (*Job, error) {
	if j.RequestKey == "" {
		j.RequestKey = RequestKey(j.RequestSource, j.RequestID)
	}
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("ledger: record job %q: %w", j.JobID, err)
	}
	now := l.now()
	if j.NextPoll.IsZero() {
		j.NextPoll = now
	}
	j.Lease, j.Created, j.Updated = nil, now, now
	rev, err := l.write(ctx, jobKey(j.JobID), &j, 0, writeOpts{dueAt: j.DueAt()})
	if ex := asExists(err); ex != nil {
		stored := &Job{Revision: ex.rev}
		if err := ex.decode(jobKey(j.JobID), stored); err != nil {
			return nil, err
		}
		if stored.RequestKey != j.RequestKey {
			return nil, fmt.Errorf("%w: job %s is recorded for request %s, not %s", ErrConflict, j.JobID, stored.RequestID, j.RequestID)
		}
		return stored, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: record job %s: %w", j.JobID, err)
	}
	j.Revision = rev
	return &j, nil
}

// GetJob returns the job record, or an error matching [ErrNotFound].
func (l *Ledger) GetJob(ctx context.Context, jobID string) (*Job, error) {
	if err := checkID("job id", jobID); err != nil {
		return nil, err
	}
	j := &Job{}
	rev, err := l.get(ctx, jobKey(jobID), j)
	if err != nil {
		return nil, err
	}
	j.Revision = rev
	return j, nil
}

// Lease takes the job for d, provided it is still at the revision ref was
// listed with and is due. Of concurrent callers one wins; the others get
// an error matching [ErrLeaseLost]. A job that is not due gives
// [ErrNotDue].
func (l *Ledger) Lease(ctx context.Context, ref JobRef, d time.Duration) (*Job, error) {
	if d <= 0 {
		return nil, fmt.Errorf("ledger: lease job %s: duration %s must be positive", ref.JobID, d)
	}
	j, err := l.GetJob(ctx, ref.JobID)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: job %s is gone", ErrLeaseLost, ref.JobID)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: lease job %s: %w", ref.JobID, err)
	}
	if j.Revision != ref.Revision {
		return nil, fmt.Errorf("%w: job %s is at revision %d, listed at %d", ErrLeaseLost, ref.JobID, j.Revision, ref.Revision)
	}
	now := l.now()
	if due := j.DueAt(); due.After(now) {
		return nil, fmt.Errorf("%w: job %s is due at %s", ErrNotDue, ref.JobID, due.Format(time.RFC3339Nano))
	}
	j.Lease = &JobLease{Owner: l.owner, Until: now.Add(d)}
	if err := l.writeJob(ctx, j, now); err != nil {
		return nil, fmt.Errorf("ledger: lease job %s: %w", ref.JobID, err)
	}
	return j, nil
}

// Reschedule records a poll of a leased job: it adds one to Attempts, sets
// NextPoll to next, keeps the caller's changes to LastStatus and ends the
// lease. The job must still be at the caller's revision, else the error
// matches [ErrLeaseLost]. On success j is updated in place.
func (l *Ledger) Reschedule(ctx context.Context, j *Job, next time.Time) error {
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: reschedule job %s: %w", j.JobID, err)
	}
	nj := *j
	nj.Attempts++
	nj.NextPoll = next
	nj.Lease = nil
	if err := l.writeJob(ctx, &nj, l.now()); err != nil {
		return fmt.Errorf("ledger: reschedule job %s: %w", j.JobID, err)
	}
	*j = nj
	return nil
}

// Remove deletes a leased job record whose outcome event JetStream has
// acknowledged, then releases the server lock if the job's request still
// holds it. The job must still be at the caller's revision, else the
// error matches [ErrLeaseLost] and nothing is removed. If the job is
// removed but the lock cannot be released, the error matches
// [ErrLockLeft]: the job is gone, and the lock is recovered by the next
// [Ledger.AcquireLock] on that server.
func (l *Ledger) Remove(ctx context.Context, j *Job) error {
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: remove job %s: %w", j.JobID, err)
	}
	lk, lockErr := l.GetLock(ctx, j.ServerID)
	if err := l.remove(ctx, jobKey(j.JobID), j.Revision); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("ledger: remove job %s: %w", j.JobID, ErrLeaseLost)
		}
		return fmt.Errorf("ledger: remove job %s: %w", j.JobID, err)
	}
	switch {
	case errors.Is(lockErr, ErrNotFound):
		return nil
	case lockErr != nil:
		return fmt.Errorf("ledger: job %s removed: %w: read lock on server %s: %w", j.JobID, ErrLockLeft, j.ServerID, lockErr)
	case lk.RequestKey != j.RequestKey:
		return nil // another request holds the server now
	}
	if err := l.ReleaseLock(ctx, lk); err != nil {
		return fmt.Errorf("ledger: job %s removed: %w: %w", j.JobID, ErrLockLeft, err)
	}
	return nil
}

// checkLease makes sure the caller holds the job's lease.
func (l *Ledger) checkLease(j *Job) error {
	if j.Revision == 0 {
		return fmt.Errorf("%w: job %s has no revision; lease it first", ErrLeaseLost, j.JobID)
	}
	if j.Lease == nil || j.Lease.Owner != l.owner {
		return fmt.Errorf("%w: job %s is not leased by %s", ErrLeaseLost, j.JobID, l.owner)
	}
	return nil
}

// writeJob stores j at its revision with its due time, updating j's
// revision; a stale revision gives ErrLeaseLost.
func (l *Ledger) writeJob(ctx context.Context, j *Job, now time.Time) error {
	j.Updated = now
	rev, err := l.write(ctx, jobKey(j.JobID), j, j.Revision, writeOpts{dueAt: j.DueAt()})
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: job %s changed since revision %d", ErrLeaseLost, j.JobID, j.Revision)
	}
	if err != nil {
		return err
	}
	j.Revision = rev
	return nil
}
