package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coldmove/coldmove/ids"
)

// Lock is the record that reserves a server for one request, keyed
// lock.<server_id>.
type Lock struct {
	// Revision is the record's revision when read or last written.
	Revision uint64 `json:"-"`

	ServerID string `json:"server_id"`
	// RequestKey, RequestID and Source identify the holding request.
	RequestKey string `json:"request_key"`
	RequestID  string `json:"request_id"`
	Source     string `json:"source"`
	// Owner is the [Ledger.Owner] that acquired the lock.
	Owner    string    `json:"owner"`
	Acquired time.Time `json:"acquired"`
}

// AcquireLock locks the claim's server for the claim's request. It
// succeeds when the lock is absent, when the same request already holds it
// (returning the stored lock unchanged), and when the holder is finished
// and has no job left (a lock its holder failed to release). Otherwise it
// returns a [*LockedError] naming the holder and how far it got
// ([LockedError.HolderState]), from the holder's claim as read to decide
// whether the lock was left behind.
func (l *Ledger) AcquireLock(ctx context.Context, c *Claim) (*Lock, error) {
	if err := checkID(ids.Server, c.ServerID); err != nil {
		return nil, err
	}
	key := lockKey(c.ServerID)
	for round := range maxClaimRounds {
		if err := pause(ctx, round); err != nil {
			return nil, fmt.Errorf("ledger: lock server %s: %w", c.ServerID, err)
		}
		lk := &Lock{ServerID: c.ServerID, RequestKey: c.RequestKey, RequestID: c.RequestID, Source: c.Source,
			Owner: l.owner, Acquired: l.now()}
		rev, err := l.write(ctx, key, lk, 0, writeOpts{})
		if err == nil {
			lk.Revision = rev
			return lk, nil
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		ex := asExists(err)
		if ex == nil {
			return nil, fmt.Errorf("ledger: lock server %s: %w", c.ServerID, err)
		}
		held := &Lock{Revision: ex.rev}
		if err := ex.decode(key, held); err != nil {
			return nil, err
		}
		if held.RequestKey == c.RequestKey {
			return held, nil
		}
		orphan, state, err := l.orphaned(ctx, held)
		if err != nil {
			return nil, fmt.Errorf("ledger: lock server %s: check holder %s: %w", c.ServerID, held.RequestID, err)
		}
		if !orphan {
			return nil, &LockedError{Holder: *held, HolderState: state}
		}
		rev, err = l.write(ctx, key, lk, held.Revision, writeOpts{})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ledger: lock server %s: take over from request %s: %w", c.ServerID, held.RequestID, err)
		}
		lk.Revision = rev
		return lk, nil
	}
	return nil, fmt.Errorf("%w: lock on server %s kept changing", ErrConflict, c.ServerID)
}

// orphaned reports whether a lock's holder is done with the server: its
// claim is gone, or finished with no job record left. The record looked
// for is the claim's job, or, for a claim without a job id (submitted with
// an unknown job, finished by a poller before it was marked, or never
// submitted), its watch job. It also returns the state of the holder's
// claim as read ("" when the claim is gone).
func (l *Ledger) orphaned(ctx context.Context, held *Lock) (bool, ClaimState, error) {
	c, err := l.readClaim(ctx, held.RequestKey)
	if errors.Is(err, ErrNotFound) {
		return true, "", nil
	}
	if err != nil {
		return false, "", err
	}
	if c.released() {
		return true, c.State, nil // given back without a call
	}
	if c.State != StateFinished {
		return false, c.State, nil
	}
	_, err = l.GetJob(ctx, c.recordID())
	if errors.Is(err, ErrNotFound) {
		return true, c.State, nil
	}
	return false, c.State, err
}

// getLock returns the lock on a server, or an error matching
// [ErrNotFound].
func (l *Ledger) getLock(ctx context.Context, serverID string) (*Lock, error) {
	if err := checkID(ids.Server, serverID); err != nil {
		return nil, err
	}
	lk := &Lock{}
	rev, err := l.get(ctx, lockKey(serverID), lk)
	if err != nil {
		return nil, err
	}
	lk.Revision = rev
	return lk, nil
}

// ReleaseLock deletes the lock if it is still at the lock's revision. A
// lock that is already gone counts as released; one that changed gives an
// error matching [ErrConflict].
func (l *Ledger) ReleaseLock(ctx context.Context, lk *Lock) error {
	if err := checkID(ids.Server, lk.ServerID); err != nil {
		return err
	}
	if err := l.remove(ctx, lockKey(lk.ServerID), lk.Revision); err != nil {
		return fmt.Errorf("ledger: release lock on server %s: %w", lk.ServerID, err)
	}
	return nil
}

// ReleaseLeftLock releases the lock a finished request left on its server
// (its handler stopped between finishing the claim and releasing the
// lock): the lock on c's server is deleted if c's request holds it and is
// done with it, by the rule [Ledger.AcquireLock] applies to take a lock
// over (the claim finished, no job record left). A lock that is absent,
// held by another request, or still needed is left alone.
func (l *Ledger) ReleaseLeftLock(ctx context.Context, c *Claim) error {
	lk, err := l.getLock(ctx, c.ServerID)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("ledger: release left lock on server %s: %w", c.ServerID, err)
	case lk.RequestKey != c.RequestKey:
		return nil
	}
	orphan, _, err := l.orphaned(ctx, lk)
	if err != nil {
		return fmt.Errorf("ledger: release left lock on server %s: %w", c.ServerID, err)
	}
	if !orphan {
		return nil
	}
	return l.ReleaseLock(ctx, lk)
}
