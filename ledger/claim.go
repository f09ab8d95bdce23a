package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ClaimState is where a request claim stands.
type ClaimState string

// The claim states, in order.
const (
	// StateClaimed means an owner works on the request; nothing was sent.
	StateClaimed ClaimState = "claimed"
	// StateSubmitting means the owner is about to call, or is calling, the
	// migrate API; the call may have been sent.
	StateSubmitting ClaimState = "submitting"
	// StateSubmitted means the migrate API accepted the call; JobID is known.
	StateSubmitted ClaimState = "submitted"
	// StateFinished means the request's outcome event is recorded in Outcome.
	StateFinished ClaimState = "finished"
)

// Claim is the record of one placement request, keyed by [RequestKey].
type Claim struct {
	// Revision is the record's revision when read or last written.
	Revision uint64 `json:"-"`

	// RequestKey is [RequestKey] of Source and RequestID.
	RequestKey string     `json:"request_key"`
	Source     string     `json:"source"`
	RequestID  string     `json:"request_id"`
	ServerID   string     `json:"server_id"`
	State      ClaimState `json:"state"`
	// Owner is the [Ledger.Owner] working on the request.
	Owner string `json:"owner"`
	// JobID is the ECS job id once submitted.
	JobID string `json:"job_id,omitempty"`
	// Outcome is the outcome CloudEvent in structured JSON once finished,
	// to be re-published unchanged for a duplicate request.
	Outcome   json.RawMessage `json:"outcome,omitempty"`
	Created   time.Time       `json:"created"`
	Updated   time.Time       `json:"updated"`
	Takeovers int             `json:"takeovers,omitempty"`
}

// RequestRef identifies the request to claim.
type RequestRef struct {
	// Source and ID are the request CloudEvent's source and id.
	Source, ID string
	// ServerID is the server the request wants to move.
	ServerID string
}

// ClaimStatus says what [Ledger.ClaimRequest] found.
type ClaimStatus int

// The claim statuses.
const (
	// ClaimAcquired means the claim was new; the caller owns it and nothing
	// was sent.
	ClaimAcquired ClaimStatus = iota + 1
	// ClaimTakenOver means the claim was stale and now belongs to the caller;
	// see [ClaimResult.MayHaveSubmitted].
	ClaimTakenOver
	// ClaimInProgress means another owner works on the request; try again
	// later.
	ClaimInProgress
	// ClaimFinished means the request was handled; Claim.Outcome holds its
	// outcome event.
	ClaimFinished
)

// String returns the status name.
func (s ClaimStatus) String() string {
	switch s {
	case ClaimAcquired:
		return "acquired"
	case ClaimTakenOver:
		return "taken_over"
	case ClaimInProgress:
		return "in_progress"
	case ClaimFinished:
		return "finished"
	}
	return fmt.Sprintf("ClaimStatus(%d)", int(s))
}

// ClaimResult is the outcome of [Ledger.ClaimRequest].
type ClaimResult struct {
	Status ClaimStatus
	// Claim is the record as stored after the call.
	Claim *Claim
	// PreviousOwner is the owner a taken-over claim belonged to.
	PreviousOwner string
}

// MayHaveSubmitted reports whether the previous owner of a taken-over claim
// may already have called the migrate API (the claim was submitting) or
// did (it was submitted, and Claim.JobID is known). The new owner must
// then reconcile with the server's state instead of calling again blindly.
func (r ClaimResult) MayHaveSubmitted() bool {
	return r.Status == ClaimTakenOver && (r.Claim.State == StateSubmitting || r.Claim.State == StateSubmitted)
}

// maxClaimRounds bounds the read-modify-write retries of one call.
const maxClaimRounds = 4

// ClaimRequest claims the request: it creates the claim if absent, reports
// a finished or in-progress claim, and takes over a claim that has been in
// progress for longer than [Config.ClaimStaleAfter]. Of any number of
// concurrent callers exactly one acquires (or takes over) the claim.
func (l *Ledger) ClaimRequest(ctx context.Context, r RequestRef) (ClaimResult, error) {
	if r.Source == "" || r.ID == "" {
		return ClaimResult{}, fmt.Errorf("%w: request source %q and id %q must not be empty", ErrInvalidID, r.Source, r.ID)
	}
	if err := checkID("server id", r.ServerID); err != nil {
		return ClaimResult{}, err
	}
	rk := RequestKey(r.Source, r.ID)
	key := claimKey(rk)
	for range maxClaimRounds {
		now := l.now()
		c := &Claim{RequestKey: rk, Source: r.Source, RequestID: r.ID, ServerID: r.ServerID,
			State: StateClaimed, Owner: l.owner, Created: now, Updated: now}
		rev, err := l.write(ctx, key, c, 0, writeOpts{})
		if err == nil {
			c.Revision = rev
			return ClaimResult{Status: ClaimAcquired, Claim: c}, nil
		}
		if errors.Is(err, ErrConflict) {
			continue // removed or recreated under us: look again
		}
		ex := asExists(err)
		if ex == nil {
			return ClaimResult{}, fmt.Errorf("ledger: claim request %s from %s: %w", r.ID, r.Source, err)
		}
		existing := &Claim{Revision: ex.rev}
		if err := ex.decode(key, existing); err != nil {
			return ClaimResult{}, err
		}
		res, err := l.inspectClaim(ctx, existing, r)
		if errors.Is(err, ErrConflict) {
			continue // changed under us: look again
		}
		return res, err
	}
	return ClaimResult{}, fmt.Errorf("%w: claim %s for request %s kept changing", ErrConflict, key, r.ID)
}

// inspectClaim handles an existing claim: finished, busy or stale.
func (l *Ledger) inspectClaim(ctx context.Context, c *Claim, r RequestRef) (ClaimResult, error) {
	key := claimKey(c.RequestKey)
	if c.Source != r.Source || c.RequestID != r.ID {
		return ClaimResult{}, fmt.Errorf("ledger: claim key %s holds request %s from %s, not %s from %s", key, c.RequestID, c.Source, r.ID, r.Source)
	}
	now := l.now()
	switch {
	case c.State == StateFinished:
		return ClaimResult{Status: ClaimFinished, Claim: c}, nil
	case now.Sub(c.Updated) < l.cfg.ClaimStaleAfter:
		return ClaimResult{Status: ClaimInProgress, Claim: c}, nil
	}
	prev := c.Owner
	c.Owner, c.Updated = l.owner, now
	c.Takeovers++
	rev, err := l.write(ctx, key, c, c.Revision, writeOpts{})
	if err != nil {
		return ClaimResult{}, err
	}
	c.Revision = rev
	return ClaimResult{Status: ClaimTakenOver, Claim: c, PreviousOwner: prev}, nil
}

// GetClaim returns the claim of the request with this source and id, or
// an error matching [ErrNotFound].
func (l *Ledger) GetClaim(ctx context.Context, source, id string) (*Claim, error) {
	return l.readClaim(ctx, RequestKey(source, id))
}

func (l *Ledger) readClaim(ctx context.Context, requestKey string) (*Claim, error) {
	c := &Claim{}
	rev, err := l.get(ctx, claimKey(requestKey), c)
	if err != nil {
		return nil, err
	}
	c.Revision = rev
	return c, nil
}

// MarkSubmitting records that the owner is about to call the migrate API.
// It is allowed from claimed, and again from submitting (after a takeover,
// or to refresh the claim's update time during a long call).
func (l *Ledger) MarkSubmitting(ctx context.Context, c *Claim) error {
	return l.advance(ctx, c, StateSubmitting, func(c *Claim) error {
		if c.State != StateClaimed && c.State != StateSubmitting {
			return fmt.Errorf("%w: %s → %s", ErrInvalidTransition, c.State, StateSubmitting)
		}
		return nil
	})
}

// MarkSubmitted records the job id the migrate API returned. It is allowed
// from submitting, and again with the same job id.
func (l *Ledger) MarkSubmitted(ctx context.Context, c *Claim, jobID string) error {
	if err := checkID("job id", jobID); err != nil {
		return err
	}
	return l.advance(ctx, c, StateSubmitted, func(c *Claim) error {
		switch {
		case c.State == StateSubmitting:
		case c.State == StateSubmitted && c.JobID == jobID:
		default:
			return fmt.Errorf("%w: %s (job %q) → %s (job %q)", ErrInvalidTransition, c.State, c.JobID, StateSubmitted, jobID)
		}
		c.JobID = jobID
		return nil
	})
}

// FinishClaim records the request's outcome event (structured CloudEvent
// JSON), from any state but finished.
func (l *Ledger) FinishClaim(ctx context.Context, c *Claim, outcome []byte) error {
	if len(outcome) == 0 || !json.Valid(outcome) {
		return fmt.Errorf("ledger: finish claim %s: outcome is not a JSON document", c.RequestKey)
	}
	return l.advance(ctx, c, StateFinished, func(c *Claim) error {
		if c.State == StateFinished {
			return fmt.Errorf("%w: claim already finished", ErrInvalidTransition)
		}
		c.Outcome = append(json.RawMessage(nil), outcome...)
		return nil
	})
}

// advance moves the caller's claim to state by compare-and-set; check
// vets (and may amend) a copy first. On success c is updated in place.
func (l *Ledger) advance(ctx context.Context, c *Claim, state ClaimState, check func(*Claim) error) error {
	if c.Owner != l.owner {
		return fmt.Errorf("%w: claim %s belongs to %s, not %s", ErrConflict, c.RequestKey, c.Owner, l.owner)
	}
	if c.Revision == 0 {
		return fmt.Errorf("%w: claim %s has no revision; read it first", ErrConflict, c.RequestKey)
	}
	next := *c
	if err := check(&next); err != nil {
		return fmt.Errorf("ledger: claim %s: %w", c.RequestKey, err)
	}
	next.State, next.Updated = state, l.now()
	rev, err := l.write(ctx, claimKey(c.RequestKey), &next, c.Revision, writeOpts{})
	if err != nil {
		return fmt.Errorf("ledger: claim %s → %s: %w", c.RequestKey, state, err)
	}
	next.Revision = rev
	*c = next
	return nil
}

// ReleaseClaim deletes a claim on which nothing was sent (state claimed),
// so that a redelivery of the request starts afresh. A claim that may have
// reached the API cannot be released: leave it for takeover.
func (l *Ledger) ReleaseClaim(ctx context.Context, c *Claim) error {
	if c.Owner != l.owner {
		return fmt.Errorf("%w: claim %s belongs to %s, not %s", ErrConflict, c.RequestKey, c.Owner, l.owner)
	}
	if c.State != StateClaimed {
		return fmt.Errorf("ledger: release claim %s: %w: state %s may have reached the API", c.RequestKey, ErrInvalidTransition, c.State)
	}
	if err := l.remove(ctx, claimKey(c.RequestKey), c.Revision); err != nil {
		return fmt.Errorf("ledger: release claim %s: %w", c.RequestKey, err)
	}
	return nil
}
