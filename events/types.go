package events

// The CloudEvent types of coldmove, reverse-DNS under dev.coldmove.placement.
const (
	// TypeRequested asks for a server to be moved to a target (inbound).
	TypeRequested = "dev.coldmove.placement.requested"
	// TypeAccepted says the migration was submitted; it carries the job id.
	TypeAccepted = "dev.coldmove.placement.accepted"
	// TypeRejected says nothing was submitted, and why.
	TypeRejected = "dev.coldmove.placement.rejected"
	// TypeCompleted says the job succeeded and the server is verified on the
	// target, or already was there.
	TypeCompleted = "dev.coldmove.placement.completed"
	// TypeFailed says the job failed, vanished, or left the server elsewhere.
	TypeFailed = "dev.coldmove.placement.failed"
	// TypeTimedOut says the request's deadline passed before the job reached a
	// terminal state; the migration's outcome is unknown.
	TypeTimedOut = "dev.coldmove.placement.timedout"
	// TypeProgressed says a power step of the request was submitted or
	// finished; it is not terminal.
	TypeProgressed = "dev.coldmove.placement.progressed"
)

// Source is the CloudEvent source of every event coldmove emits. It is the
// same for both functions so that a re-published outcome is byte-for-byte
// the same event whichever function publishes it.
const Source = "/coldmove"

// SpecVersion is the only CloudEvents version coldmove reads and writes.
const SpecVersion = "1.0"

// ContentType is the datacontenttype of every coldmove payload.
const ContentType = "application/json"

// MaxDataSize is the largest request payload (CloudEvent data) accepted, in
// bytes. Larger payloads are refused with [ErrDataTooLarge].
const MaxDataSize = 64 << 10

// maxMessageSize bounds a whole message (envelope and data) before any
// parsing, so that a huge body costs nothing to refuse.
const maxMessageSize = 1 << 20

// schemaBase is the URI prefix of the dataschema attribute; the rest is the
// file name in the schemas folder.
const schemaBase = "https://coldmove.dev/schemas/"

// kinds maps each type to its short name, which names its subject token
// and its schema file.
var kinds = map[string]string{
	TypeRequested:  "requested",
	TypeAccepted:   "accepted",
	TypeRejected:   "rejected",
	TypeCompleted:  "completed",
	TypeFailed:     "failed",
	TypeTimedOut:   "timedout",
	TypeProgressed: "progressed",
}

// Types lists every coldmove event type, the request first.
func Types() []string {
	return []string{TypeRequested, TypeAccepted, TypeRejected, TypeCompleted, TypeFailed, TypeTimedOut, TypeProgressed}
}

// OutcomeTypes lists the types coldmove publishes in answer to a request:
// the five outcomes and progressed.
func OutcomeTypes() []string {
	return []string{TypeAccepted, TypeRejected, TypeCompleted, TypeFailed, TypeTimedOut, TypeProgressed}
}

// IsTerminal reports whether an outcome type ends a request: every outcome
// but [TypeAccepted].
func IsTerminal(eventType string) bool {
	switch eventType {
	case TypeRejected, TypeCompleted, TypeFailed, TypeTimedOut:
		return true
	}
	return false
}

// DataSchema returns the dataschema URI for an event type, or "" for a type
// that is not coldmove's.
func DataSchema(eventType string) string {
	k, ok := kinds[eventType]
	if !ok {
		return ""
	}
	return schemaBase + k + ".json"
}
