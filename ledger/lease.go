package ledger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"
)

// Lease takes the job for d, provided it is still at the revision ref was
// listed with and is due. Of concurrent callers one wins; the others get
// an error matching [ErrLeaseLost]. A job that is not due gives
// [ErrNotDue]. A job carrying an Outcome had its terminal event decided by
// an earlier poller: publish that Outcome unchanged.
func (l *Ledger) Lease(ctx context.Context, ref JobRef, d time.Duration) (*Job, error) {
	return l.lease(ctx, ref, d, false)
}

// LeaseEarly takes the job for d like [Ledger.Lease], but before it is
// due: for a poller that learnt elsewhere (its server changed) that the
// job may have moved on. The job must still be at the listed revision; one
// that another poller holds a lease on gives [ErrNotDue].
func (l *Ledger) LeaseEarly(ctx context.Context, ref JobRef, d time.Duration) (*Job, error) {
	return l.lease(ctx, ref, d, true)
}

func (l *Ledger) lease(ctx context.Context, ref JobRef, d time.Duration, early bool) (*Job, error) {
	id, err := ref.recordID()
	if err != nil {
		return nil, fmt.Errorf("ledger: lease job: %w", err)
	}
	if d <= 0 {
		return nil, fmt.Errorf("ledger: lease job %s: duration %s must be positive", id, d)
	}
	j, err := l.GetJob(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("%w: job %s is gone", ErrLeaseLost, id)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: lease job %s: %w", id, err)
	}
	if j.Revision != ref.Revision {
		return nil, fmt.Errorf("%w: job %s is at revision %d, listed at %d", ErrLeaseLost, id, j.Revision, ref.Revision)
	}
	now := l.now()
	due := j.DueAt()
	if early {
		due = now // unless another poller holds it
		if j.Lease != nil {
			due = j.Lease.Until
		}
	}
	if due.After(now) {
		return nil, fmt.Errorf("%w: job %s is due at %s", ErrNotDue, id, due.Format(time.RFC3339Nano))
	}
	j.Lease = &JobLease{Owner: l.owner, Until: now.Add(d)}
	if err := l.writeJob(ctx, j, now); err != nil {
		return nil, fmt.Errorf("ledger: lease job %s: %w", id, err)
	}
	return j, nil
}

// Reschedule records a poll of a leased job: it adds one to Attempts, sets
// NextPoll to next, keeps the caller's changes to LastStatus, keeps a
// pending Outcome (to be re-published at the next poll) and ends the
// lease. The job must still be at the caller's revision, else the error
// matches [ErrLeaseLost]. On success j is updated in place.
func (l *Ledger) Reschedule(ctx context.Context, j *Job, next time.Time) error {
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: reschedule job %s: %w", j.RecordID(), err)
	}
	nj := *j
	nj.Attempts++
	nj.NextPoll = next
	nj.Lease = nil
	if err := l.writeJob(ctx, &nj, l.now()); err != nil {
		return fmt.Errorf("ledger: reschedule job %s: %w", j.RecordID(), err)
	}
	*j = nj
	return nil
}

// SetOutcome stores on a leased job the terminal CloudEvent (structured
// JSON, one object) decided for it, before it is published, so that if the
// poller crashes after publishing, the next poller to lease the job
// re-publishes exactly the same bytes (and JetStream's duplicate window,
// keyed by the event id, drops the copy). Publish j.Outcome afterwards:
// it is the compact form stored, byte for byte the SDK's output.
//
// Only the lease holder may set it, and the job must still be at j's
// revision; otherwise the error matches [ErrLeaseLost]. The lease and the
// due time are kept. Setting the same outcome again is allowed; a
// different one than the job carries gives an error matching
// [ErrInvalidTransition]: the outcome first decided is the one published.
// On success j is updated in place.
func (l *Ledger) SetOutcome(ctx context.Context, j *Job, event []byte) error {
	id := j.RecordID()
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: set outcome of job %s: %w", id, err)
	}
	out, err := eventJSON("outcome", event)
	if err != nil {
		return fmt.Errorf("ledger: set outcome of job %s: %w", id, err)
	}
	if len(j.Outcome) > 0 && !bytes.Equal(j.Outcome, out) {
		return fmt.Errorf("ledger: set outcome of job %s: %w: another outcome is pending; publish Job.Outcome", id, ErrInvalidTransition)
	}
	nj := *j
	nj.Outcome = out
	if err := l.writeJob(ctx, &nj, l.now()); err != nil {
		return fmt.Errorf("ledger: set outcome of job %s: %w", id, err)
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
// [Ledger.AcquireLock] on that server, once the request's claim is
// finished: finish it ([Ledger.FinishRequest]) before removing the job.
func (l *Ledger) Remove(ctx context.Context, j *Job) error {
	id := j.RecordID()
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: remove job %s: %w", id, err)
	}
	lk, lockErr := l.getLock(ctx, j.ServerID)
	if err := l.remove(ctx, jobKey(id), j.Revision); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("ledger: remove job %s: %w", id, ErrLeaseLost)
		}
		return fmt.Errorf("ledger: remove job %s: %w", id, err)
	}
	switch {
	case errors.Is(lockErr, ErrNotFound):
		return nil
	case lockErr != nil:
		return fmt.Errorf("ledger: job %s removed: %w: read lock on server %s: %w", id, ErrLockLeft, j.ServerID, lockErr)
	case lk.RequestKey != j.RequestKey:
		return nil // another request holds the server now
	}
	if err := l.ReleaseLock(ctx, lk); err != nil {
		return fmt.Errorf("ledger: job %s removed: %w: %w", id, ErrLockLeft, err)
	}
	return nil
}

// checkLease makes sure the caller holds the job's lease.
func (l *Ledger) checkLease(j *Job) error {
	if j.Revision == 0 {
		return fmt.Errorf("%w: job %s has no revision; lease it first", ErrLeaseLost, j.RecordID())
	}
	if j.Lease == nil || j.Lease.Owner != l.owner {
		return fmt.Errorf("%w: job %s is not leased by %s", ErrLeaseLost, j.RecordID(), l.owner)
	}
	return nil
}

// writeJob stores j at its revision with its due time, updating j's
// revision; a stale revision gives ErrLeaseLost.
func (l *Ledger) writeJob(ctx context.Context, j *Job, now time.Time) error {
	id := j.RecordID()
	j.Updated = now
	o, err := jobWriteOpts(j)
	if err != nil {
		return err
	}
	rev, err := l.write(ctx, jobKey(id), j, j.Revision, o)
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("%w: job %s changed since revision %d", ErrLeaseLost, id, j.Revision)
	}
	if err != nil {
		return err
	}
	j.Revision = rev
	return nil
}

// Discard deletes a leased job record and leaves the server lock alone:
// for a pending record whose request moved on to a job of its own, which
// keeps the lock. The job must still be at the caller's revision, else the
// error matches [ErrLeaseLost].
func (l *Ledger) Discard(ctx context.Context, j *Job) error {
	id := j.RecordID()
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: discard job %s: %w", id, err)
	}
	if err := l.remove(ctx, jobKey(id), j.Revision); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("ledger: discard job %s: %w", id, ErrLeaseLost)
		}
		return fmt.Errorf("ledger: discard job %s: %w", id, err)
	}
	return nil
}
