package ledger

import (
	"errors"
	"fmt"
)

var (
	// ErrConflict reports that a record changed since it was read: another
	// owner won the compare-and-set. It is an expected outcome of
	// concurrency, not a failure of the ledger.
	ErrConflict = errors.New("ledger: record changed concurrently")

	// ErrLeaseLost reports that a job record could not be leased, or a
	// leased record no longer belongs to the caller, because another poller
	// changed or removed it. It matches [ErrConflict] too.
	ErrLeaseLost = fmt.Errorf("%w: job lease lost", ErrConflict)

	// ErrNotDue reports an attempt to lease a job record whose next poll
	// time or current lease lies in the future.
	ErrNotDue = errors.New("ledger: job not due")

	// ErrNotFound reports that a record does not exist.
	ErrNotFound = errors.New("ledger: record not found")

	// ErrLocked reports that a server is locked by another request; the
	// error is a [*LockedError] naming the holder.
	ErrLocked = errors.New("ledger: server locked by another request")

	// ErrInvalidID reports an identifier that cannot be used in a key.
	ErrInvalidID = errors.New("ledger: invalid identifier")

	// ErrInvalidTransition reports a change the state machine does not
	// allow, such as releasing a claim whose migrate call may already have
	// been sent, or replacing a recorded outcome with another one.
	ErrInvalidTransition = errors.New("ledger: invalid transition")

	// ErrNotJSON reports an event to be recorded that is not a CloudEvent
	// in structured JSON: not one JSON object.
	ErrNotJSON = errors.New("ledger: event is not a JSON object")

	// ErrLockLeft reports that a job was removed but its server lock could
	// not be released; [Ledger.AcquireLock] recovers such a lock later.
	ErrLockLeft = errors.New("ledger: server lock left behind")
)

// LockedError is returned by [Ledger.AcquireLock] when another request
// holds the server. It matches [ErrLocked].
type LockedError struct {
	// Holder is the lock as stored.
	Holder Lock
	// HolderState is the state of the holder's claim as AcquireLock read
	// it, telling how far the holder got: [StateClaimed] (pre-flight,
	// nothing sent yet), [StateSubmitting] (its migrate call may have been
	// sent), [StateSubmitted] (it was), or [StateFinished] (its outcome is
	// recorded but its job record not yet removed, so the lock is about to
	// be released). It is "" when unknown.
	HolderState ClaimState
}

// Error describes the holder.
func (e *LockedError) Error() string {
	state := ""
	if e.HolderState != "" {
		state = " (" + string(e.HolderState) + ")"
	}
	return fmt.Sprintf("ledger: server %s is locked by request %s from %s%s since %s",
		e.Holder.ServerID, e.Holder.RequestID, e.Holder.Source, state, e.Holder.Acquired.Format("2006-01-02T15:04:05Z07:00"))
}

// Is reports whether target is [ErrLocked].
func (e *LockedError) Is(target error) bool { return target == ErrLocked }
