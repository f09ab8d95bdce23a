package main

// The step boundaries of a request at which the crash tests stop the
// handler as a crash would (crash_test.go): the hook panics there, so that
// nothing of the handler's own recovery runs and the ledger stays as the
// step left it. Two more boundaries are in the tests' own wrappers: the
// first call written but its answer not seen (the ECS transport), and an
// event about to be written (the publisher). The first call is the
// migrate call, or for a running server of a request with power steps the
// stop (power.go): it passes the same boundaries.
const (
	// crashPending: the request's pending record is written (for a new
	// request, before its claim).
	crashPending = "pending"
	// crashClaimed: the request's claim is written.
	crashClaimed = "claimed"
	// crashLocked: the server is locked for the request.
	crashLocked = "locked"
	// crashPreflight: the pre-flight ShowServer answered.
	crashPreflight = "preflight"
	// crashSubmitting: the claim says the first call may be under way.
	crashSubmitting = "submitting"
	// crashAnswered: the first call (MigrateServer, or BatchStopServers)
	// returned, with its answer or an error.
	crashAnswered = "answered"
	// crashRecorded: the claim is submitted and the job (or watch, or
	// power) record written.
	crashRecorded = "recorded"
	// crashFinished: the claim holds the request's terminal outcome.
	crashFinished = "finished"
	// crashPublished: JetStream acknowledged an event, not yet marked so.
	crashPublished = "published"
)

// crashAt calls the crash hook at a step boundary. The hook is nil outside
// the crash tests.
func (h *Handler) crashAt(point string) {
	if h.crash != nil {
		h.crash(point)
	}
}
