package ledger

import (
	"fmt"
	"strings"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

// Key prefixes of the record kinds.
const (
	claimPrefix = "req."
	lockPrefix  = "lock."
	jobPrefix   = "job."
)

// watchPrefix starts the record id of a watch job, [WatchRecordID];
// pendingPrefix that of a pending record, [PendingRecordID].
const (
	watchPrefix   = "watch-"
	pendingPrefix = "pend-"
	powerPrefix   = "power-"
)

// checkID checks an identifier against the rule of its kind (package ids,
// the rule the event decoder and the ECS client apply too), so that
// nothing else reaches a key. Errors match [ErrInvalidID].
func checkID(kind ids.Kind, id string) error {
	if err := kind.Check(id); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidID, err)
	}
	return nil
}

// checkJobID checks an ECS job id: a valid job id outside the watch
// records' name space.
func checkJobID(id string) error {
	if err := checkID(ids.Job, id); err != nil {
		return err
	}
	for _, p := range []string{watchPrefix, pendingPrefix, powerPrefix} {
		if strings.HasPrefix(id, p) {
			return fmt.Errorf("%w: job id %q starts with %q, which names the ledger's own records", ErrInvalidID, id, p)
		}
	}
	return nil
}

// checkRequestKey checks a [RequestKey]: 32 lower-case hexadecimal
// characters.
func checkRequestKey(key string) error {
	if len(key) != 32 || strings.Trim(key, "0123456789abcdef") != "" {
		return fmt.Errorf("%w: request key %q: want 32 lower-case hexadecimal characters", ErrInvalidID, clipKey(key))
	}
	return nil
}

func clipKey(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

// RequestKey returns the request key of the request with this CloudEvent
// source and id: [events.RequestKey], the same key the outcome events and
// the migrate function derive. The claim is stored under "req." followed
// by it.
func RequestKey(source, id string) string { return events.RequestKey(source, id) }

func claimKey(requestKey string) string { return claimPrefix + requestKey }

// lockKey is the key of a server's lock. Server ids are UUIDs, which the
// API reads in either case: the key is lower case, so that two spellings
// of one server share one lock.
func lockKey(serverID string) string { return lockPrefix + strings.ToLower(serverID) }

func jobKey(recordID string) string { return jobPrefix + recordID }

// WatchRecordID returns the record id of the watch job of the request with
// this [RequestKey]: "watch-" followed by the key. A watch job follows a
// request whose migrate call has no known job id ([Claim.JobUnknown]).
func WatchRecordID(requestKey string) string { return watchPrefix + requestKey }

// PendingRecordID returns the record id of the pending record of the
// request with this [RequestKey]: "pend-" followed by the key. A pending
// record ([Job.Pending]) exists while a claimed request has no call
// submitted, so that the poll function closes the request at its deadline
// if nothing else does.
func PendingRecordID(requestKey string) string { return pendingPrefix + requestKey }

// ecsJobID returns the ECS job id a record id names, or "" for the
// ledger's own records (watch and pending).
func ecsJobID(recordID string) string {
	if strings.HasPrefix(recordID, watchPrefix) || strings.HasPrefix(recordID, pendingPrefix) || strings.HasPrefix(recordID, powerPrefix) {
		return ""
	}
	return recordID
}
