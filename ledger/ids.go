package ledger

import (
	"fmt"
	"strings"

	"github.com/coldmove/coldmove/events"
)

// Key prefixes of the record kinds.
const (
	claimPrefix = "req."
	lockPrefix  = "lock."
	jobPrefix   = "job."
)

// watchPrefix starts the record id of a watch job, [WatchRecordID].
const watchPrefix = "watch-"

// maxIDLen bounds identifiers used in keys.
const maxIDLen = 128

// ValidID reports whether id can be used as a server or job identifier in
// a key: 1 to 128 ASCII letters, digits, '-' or '_', starting with a letter
// or digit. ECS server ids (UUIDs) and job ids (hex) qualify.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkJobID checks an ECS job id: a valid id outside the watch records'
// name space.
func checkJobID(id string) error {
	if err := checkID("job id", id); err != nil {
		return err
	}
	if strings.HasPrefix(id, watchPrefix) {
		return fmt.Errorf("%w: job id %q starts with %q, which names watch records", ErrInvalidID, id, watchPrefix)
	}
	return nil
}

func checkID(kind, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %s %q (want 1-%d letters, digits, '-' or '_')", ErrInvalidID, kind, id, maxIDLen)
	}
	return nil
}

// RequestKey returns the request key of the request with this CloudEvent
// source and id: [events.RequestKey], the same key the outcome events and
// the migrate function derive. The claim is stored under "req." followed
// by it.
func RequestKey(source, id string) string { return events.RequestKey(source, id) }

func claimKey(requestKey string) string { return claimPrefix + requestKey }

func lockKey(serverID string) string { return lockPrefix + serverID }

func jobKey(recordID string) string { return jobPrefix + recordID }

// WatchRecordID returns the record id of the watch job of the request with
// this [RequestKey]: "watch-" followed by the key. A watch job follows a
// request whose migrate call has no known job id ([Claim.JobUnknown]).
func WatchRecordID(requestKey string) string { return watchPrefix + requestKey }
