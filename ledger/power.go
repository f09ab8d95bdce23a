package ledger

import (
	"context"
	"fmt"

	"github.com/coldmove/coldmove/events"
)

// Call is one of the ECS calls a request may make, in order: stop the
// server, migrate it, start it again.
type Call string

// The calls of a request.
const (
	CallStop    Call = "stop"
	CallMigrate Call = "migrate"
	CallStart   Call = "start"
)

// PowerState is the state of a request that asked for power steps
// (events.Power): it has one job record for all its calls ([Job.Power] set,
// record id [PowerRecordID]), and the record says which call it follows
// now, and what was done.
type PowerState struct {
	// Stop and Restart are what the request asked for.
	Stop    events.StopType `json:"stop"`
	Restart bool            `json:"restart,omitempty"`
	// Call is the call the record follows now; [Job.JobID] is its job ("":
	// its answer was lost, and the server's state is followed instead).
	Call Call `json:"call"`
	// Next is set while the follow-on call is being sent: it was recorded
	// before the call, so a record found with Next set (and Call not yet
	// moved on) may have had that call sent, and it is never sent again.
	Next Call `json:"next,omitempty"`
	// Stopped is true once coldmove's stop is verified; StopJobID is it.
	Stopped   bool   `json:"stopped,omitempty"`
	StopJobID string `json:"stop_job_id,omitempty"`
	// MoveJobID is the migrate call's job, once submitted.
	MoveJobID string `json:"move_job_id,omitempty"`
	// Move is the move's verdict, kept while the start after it runs.
	Move *MoveResult `json:"move,omitempty"`
	// Restarted is true once coldmove's start is verified; StartJobID is it.
	Restarted  bool   `json:"restarted,omitempty"`
	StartJobID string `json:"start_job_id,omitempty"`
	// Announce lists the events of steps done that are still to be
	// published (stopped, accepted, start_submitted, started): written with
	// the step, published right after, and published again by the next
	// poller if the first did not get to (their ids are deterministic).
	Announce []string `json:"announce,omitempty"`
}

// MoveResult is how a move ended: the terminal event type it would have
// had, with the failure or the last status.
type MoveResult struct {
	// Type is events.TypeCompleted, TypeFailed, TypeTimedOut, or
	// TypeRejected when the API refused the migrate call after the stop.
	Type       string            `json:"type"`
	Failure    *events.Failure   `json:"failure,omitempty"`
	Rejection  *events.Rejection `json:"rejection,omitempty"`
	LastStatus string            `json:"last_status,omitempty"`
}

// Outcome returns the power outcome terminal events carry.
func (p *PowerState) Outcome() *events.PowerOutcome {
	return &events.PowerOutcome{Stopped: p.Stopped, StopJobID: p.StopJobID, Restarted: p.Restarted, StartJobID: p.StartJobID}
}

// PowerRecordID returns the record id of the one job record of a request
// with power steps: "power-" followed by its [RequestKey].
func PowerRecordID(requestKey string) string { return powerPrefix + requestKey }

// Update writes a leased job record as the caller changed it (the call it
// follows, its job id, its power state, its last status), keeping the lease:
// how the poll function moves a request with power steps from one call to
// the next. Recording the next call ([PowerState.Next]) before sending it
// is what keeps every call at most once. The job must still be at the
// caller's revision, else the error matches [ErrLeaseLost]; on success j is
// updated in place.
func (l *Ledger) Update(ctx context.Context, j *Job) error {
	if err := l.checkLease(j); err != nil {
		return fmt.Errorf("ledger: update job %s: %w", j.RecordID(), err)
	}
	if j.JobID != "" {
		if err := checkJobID(j.JobID); err != nil {
			return fmt.Errorf("ledger: update job %s: %w", j.RecordID(), err)
		}
	}
	nj := *j
	if err := l.writeJob(ctx, &nj, l.now()); err != nil {
		return fmt.Errorf("ledger: update job %s: %w", j.RecordID(), err)
	}
	*j = nj
	return nil
}
