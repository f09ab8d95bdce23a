package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coldmove/coldmove/ids"
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
	// StateSubmitted means the migrate call was made: the API accepted it
	// and JobID and Accepted are known, or its answer was lost and
	// JobUnknown is set.
	StateSubmitted ClaimState = "submitted"
	// StateFinished means the request's outcome event is recorded in Outcome.
	StateFinished ClaimState = "finished"
)

// Claim is the record of one placement request, keyed by [RequestKey].
type Claim struct {
	// Revision is the record's revision when read or last written.
	Revision uint64 `json:"-"`

	// RequestKey is [RequestKey] of Source and RequestID.
	RequestKey string `json:"request_key"`
	Source     string `json:"source"`
	RequestID  string `json:"request_id"`
	ServerID   string `json:"server_id"`
	// Deadline is the request's deadline as fixed when it was first
	// claimed: a redelivery judges time against it, not against its own
	// arrival.
	Deadline time.Time  `json:"deadline,omitzero"`
	State    ClaimState `json:"state"`
	// Owner is the [Ledger.Owner] working on the request; "" for a claim
	// given back by [Ledger.ReleaseUnsent], which anyone may take.
	Owner string `json:"owner"`
	// LastError says what kept a released claim from being submitted.
	LastError string `json:"last_error,omitempty"`
	// Call is the first call of the request, recorded when it is about to
	// be sent ([Ledger.MarkCalling]): the migrate call, or a stop.
	Call Call `json:"call,omitempty"`
	// JobID is the ECS job id once submitted.
	JobID string `json:"job_id,omitempty"`
	// Accepted is the accepted CloudEvent in structured JSON (compact) that
	// announced JobID, to be re-published unchanged for a duplicate
	// request while the job runs, unless AcceptedPublished.
	Accepted json.RawMessage `json:"accepted,omitempty"`
	// AcceptedPublished reports that JetStream acknowledged Accepted
	// ([Ledger.MarkAcceptedPublished]): a duplicate request need not
	// publish it again.
	AcceptedPublished bool `json:"accepted_published,omitempty"`
	// JobUnknown reports a claim submitted without a job id: the migrate
	// call was sent, or may have been, but its answer was lost. Its job
	// record is a watch job ([WatchRecordID]) that follows the server's
	// state, and no accepted event exists.
	JobUnknown bool `json:"job_unknown,omitempty"`
	// Outcome is the terminal CloudEvent in structured JSON (compact) once
	// finished, to be re-published unchanged for a duplicate request
	// unless OutcomePublished.
	Outcome json.RawMessage `json:"outcome,omitempty"`
	// OutcomePublished reports that JetStream acknowledged Outcome
	// ([Ledger.MarkOutcomePublished], [Ledger.FinishRequest]): a duplicate
	// request publishes nothing, so that the stream holds one terminal
	// event per request even after its duplicate window.
	OutcomePublished bool      `json:"outcome_published,omitempty"`
	Created          time.Time `json:"created"`
	// Updated is when the claim's owner (or a finisher) last changed it;
	// staleness is measured from it. Marking an event published leaves it.
	Updated   time.Time `json:"updated"`
	Takeovers int       `json:"takeovers,omitempty"`
}

// RequestRef identifies the request to claim.
type RequestRef struct {
	// Source and ID are the request CloudEvent's source and id.
	Source, ID string
	// ServerID is the server the request wants to move.
	ServerID string
	// Deadline is the request's deadline, recorded on a new claim.
	Deadline time.Time
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
// did (it was submitted: Claim.JobID is known, or Claim.JobUnknown is
// set). The new owner must then never call again: it follows the job, or
// the server's state through a watch job.
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
	if err := checkID(ids.Server, r.ServerID); err != nil {
		return ClaimResult{}, err
	}
	rk := RequestKey(r.Source, r.ID)
	key := claimKey(rk)
	for round := range maxClaimRounds {
		if err := pause(ctx, round); err != nil {
			return ClaimResult{}, fmt.Errorf("ledger: claim request %s from %s: %w", r.ID, r.Source, err)
		}
		now := l.now()
		c := &Claim{RequestKey: rk, Source: r.Source, RequestID: r.ID, ServerID: r.ServerID, Deadline: r.Deadline.UTC(),
			State: StateClaimed, Owner: l.owner, Created: now, Updated: now}
		rev, err := l.writeClaim(ctx, c, 0)
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
	case c.released():
		// Given back: anyone may take it at once.
	case now.Sub(c.Updated) < l.cfg.ClaimStaleAfter:
		return ClaimResult{Status: ClaimInProgress, Claim: c}, nil
	}
	prev := c.Owner
	c.Owner, c.Updated = l.owner, now
	c.Takeovers++
	rev, err := l.writeClaim(ctx, c, c.Revision)
	if err != nil {
		return ClaimResult{}, err
	}
	c.Revision = rev
	return ClaimResult{Status: ClaimTakenOver, Claim: c, PreviousOwner: prev}, nil
}

// writeClaim stores c under its key if the key's last revision is rev, as
// write does. A finished claim is written with the per-message TTL
// [Config.ClaimTTL], whoever writes it and whatever the write changes:
// JetStream removes the claim that long after its last write. Claims in
// progress never expire.
func (l *Ledger) writeClaim(ctx context.Context, c *Claim, rev uint64) (uint64, error) {
	var o writeOpts
	if c.State == StateFinished {
		o.expireAfter = l.cfg.ClaimTTL
	}
	return l.write(ctx, claimKey(c.RequestKey), c, rev, o)
}

// Claim returns the claim of the request with this [RequestKey], or an
// error matching [ErrNotFound]. It reads the stream leader, so it sees
// every acknowledged change.
func (l *Ledger) Claim(ctx context.Context, requestKey string) (*Claim, error) {
	if err := checkRequestKey(requestKey); err != nil {
		return nil, err
	}
	return l.readClaim(ctx, requestKey)
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

// recordID returns the id of the job record the claim's request has or
// will have once submitted: the job id, or else its watch record's id.
func (c *Claim) recordID() string {
	if c.JobID != "" {
		return c.JobID
	}
	return WatchRecordID(c.RequestKey)
}

// RecordRejection records, for a request that was rejected before it could
// be claimed (it did not decode: no valid server or target to claim it
// for), a finished claim holding its rejection (structured CloudEvent JSON),
// so that a replay of it, however late (while the claim is kept), is known
// and answered without publishing again. It returns the claim as stored:
// the new one, or the one that existed (created by an earlier delivery;
// publish its outcome if it is not marked published).
func (l *Ledger) RecordRejection(ctx context.Context, source, id string, outcome []byte) (*Claim, error) {
	if source == "" || id == "" {
		return nil, fmt.Errorf("%w: request source %q and id %q must not be empty", ErrInvalidID, source, id)
	}
	rk := RequestKey(source, id)
	out, err := checkOutcome("record rejection", rk, outcome)
	if err != nil {
		return nil, err
	}
	for round := range maxClaimRounds {
		if err := pause(ctx, round); err != nil {
			return nil, fmt.Errorf("ledger: record rejection of %s from %s: %w", id, source, err)
		}
		now := l.now()
		c := &Claim{RequestKey: rk, Source: source, RequestID: id, State: StateFinished, Outcome: out, Created: now, Updated: now}
		rev, err := l.writeClaim(ctx, c, 0)
		if err == nil {
			c.Revision = rev
			return c, nil
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		ex := asExists(err)
		if ex == nil {
			return nil, fmt.Errorf("ledger: record rejection of %s from %s: %w", id, source, err)
		}
		existing := &Claim{Revision: ex.rev}
		if err := ex.decode(claimKey(rk), existing); err != nil {
			return nil, err
		}
		return existing, nil
	}
	return nil, fmt.Errorf("%w: record rejection of %s from %s: claim kept changing", ErrConflict, id, source)
}
