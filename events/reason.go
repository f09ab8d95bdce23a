package events

// RejectReason is the stable code of a [TypeRejected] event: why nothing was
// submitted. The set is closed: these constants are all the values coldmove
// emits, and automation may switch on them.
type RejectReason string

// The reasons a request is rejected.
const (
	// RejectInvalidEvent: the message is not a valid CloudEvent 1.0 (not
	// JSON, missing id/source/type, a malformed attribute, a wrong
	// specversion).
	RejectInvalidEvent RejectReason = "invalid_event"
	// RejectUnsupportedType: a valid CloudEvent of a type other than
	// dev.coldmove.placement.requested.
	RejectUnsupportedType RejectReason = "unsupported_type"
	// RejectInvalidPayload: the data is not a valid request; the event's
	// problems list says field by field what is wrong.
	RejectInvalidPayload RejectReason = "invalid_payload"
	// RejectPayloadTooLarge: the data is over 64 KiB.
	RejectPayloadTooLarge RejectReason = "payload_too_large"
	// RejectServerNotFound: the project has no such server (Ecs.0114,
	// Ecs.0614).
	RejectServerNotFound RejectReason = "server_not_found"
	// RejectServerNotStopped: the server is not stopped (status SHUTOFF with
	// no task running); the message says what state it is in (Ecs.0100).
	RejectServerNotStopped RejectReason = "server_not_stopped"
	// RejectNotPayPerUse: the server is billed yearly/monthly or as spot;
	// only pay-per-use servers can be cold-migrated.
	RejectNotPayPerUse RejectReason = "not_pay_per_use"
	// RejectServerLocked: the server is locked (Ecs.0605).
	RejectServerLocked RejectReason = "server_locked"
	// RejectMigrationInProgress: another request is already moving this
	// server.
	RejectMigrationInProgress RejectReason = "migration_in_progress"
	// RejectAlreadyOnHost: the API refused a move to the dedicated host the
	// server is on (Ecs.0221). A request whose target already holds the
	// server is normally answered by [TypeCompleted] with already_in_place
	// before any call; this reason covers the API saying so.
	RejectAlreadyOnHost RejectReason = "already_on_host"
	// RejectInsufficientCapacity: the API refused because the target lacks
	// resources for the flavor (Ecs.0319).
	RejectInsufficientCapacity RejectReason = "insufficient_capacity"
	// RejectPermissionDenied: the credentials may not do this (Ecs.0003,
	// Pdp.0001, a project mismatch).
	RejectPermissionDenied RejectReason = "permission_denied"
	// RejectAPIRefused: the API refused the migration for another permanent
	// reason; api_error_code and api_error_message say which.
	RejectAPIRefused RejectReason = "api_refused"
	// RejectUnauthorized: the API refused coldmove's own credentials (401
	// APIGW.0301 and the like). This is not transient and not retried:
	// the request ends at once; api_error_code and api_error_message say
	// what the API answered.
	RejectUnauthorized RejectReason = "unauthorized"
	// RejectDeadlineExceeded: transient trouble (ECS 5xx, 429, timeouts,
	// NATS unavailable) kept the request from being submitted until its
	// deadline passed; the message carries the last error. A request that
	// was submitted ends [TypeTimedOut] instead.
	RejectDeadlineExceeded RejectReason = "deadline_exceeded"
)

// RejectReasons lists every [RejectReason].
func RejectReasons() []RejectReason {
	return []RejectReason{
		RejectInvalidEvent, RejectUnsupportedType, RejectInvalidPayload, RejectPayloadTooLarge,
		RejectServerNotFound, RejectServerNotStopped, RejectNotPayPerUse, RejectServerLocked,
		RejectMigrationInProgress, RejectAlreadyOnHost, RejectInsufficientCapacity,
		RejectPermissionDenied, RejectAPIRefused, RejectUnauthorized, RejectDeadlineExceeded,
	}
}

// Valid reports whether r is one of the [RejectReasons].
func (r RejectReason) Valid() bool {
	for _, v := range RejectReasons() {
		if r == v {
			return true
		}
	}
	return false
}

// FailReason is the stable code of a [TypeFailed] event. The set is closed.
type FailReason string

// The reasons a submitted migration failed.
const (
	// FailJobFailed: the job ended in FAIL; error_code, fail_reason and the
	// sub-jobs' reasons say why (for example a NUMA node without room).
	FailJobFailed FailReason = "job_failed"
	// FailPlacementMismatch: the job reported SUCCESS but the server is not
	// on the target.
	FailPlacementMismatch FailReason = "placement_mismatch"
	// FailJobNotFound: the job vanished (purged, or never known) and the
	// server's state does not show the move happened.
	FailJobNotFound FailReason = "job_not_found"
	// FailServerNotFound: the server was deleted while it was tracked.
	FailServerNotFound FailReason = "server_not_found"
	// FailStopFailed: the stop coldmove submitted before the move failed
	// or did not finish by the deadline; nothing was migrated.
	FailStopFailed FailReason = "stop_failed"
	// FailRestartFailed: the move ended but the start coldmove submitted
	// after it failed; with placement_verified the server is on the
	// target, stopped.
	FailRestartFailed FailReason = "restart_failed"
)

// FailReasons lists every [FailReason].
func FailReasons() []FailReason {
	return []FailReason{FailJobFailed, FailPlacementMismatch, FailJobNotFound, FailServerNotFound, FailStopFailed, FailRestartFailed}
}

// Valid reports whether r is one of the [FailReasons].
func (r FailReason) Valid() bool {
	for _, v := range FailReasons() {
		if r == v {
			return true
		}
	}
	return false
}
