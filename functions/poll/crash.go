package main

// The step boundaries of a leased job at which the crash tests stop the
// poller as a crash would (crash_test.go): the hook ends the job's worker
// there (runtime.Goexit), so that nothing of the poller's own recovery
// runs and the ledger stays as the step left it.
const (
	// crashLeased: the job is leased.
	crashLeased = "leased"
	// crashPolled: ECS answered about the job (ShowJob, and ShowServer to
	// verify), or, for a pending record, the request's claim was read.
	crashPolled = "polled"
	// crashRecorded: the outcome is recorded: on the job record
	// (SetOutcome), or for a pending record on the claim (CloseRequest).
	crashRecorded = "recorded"
	// crashPublished: JetStream acknowledged the outcome.
	crashPublished = "published"
	// crashFinished: the claim is finished and marked published; the
	// record is not deleted yet.
	crashFinished = "finished"

	// The boundaries of the power steps (power.go), which a request with
	// power steps passes between its leased and recorded boundaries, once
	// per call poll makes (the move, then the start):

	// crashNamed: the record names the next call (PowerState.Next, written
	// under the lease); the call is not sent yet.
	crashNamed = "named"
	// crashCalled: the next call returned, with its job id or an error;
	// nothing of its answer is recorded yet.
	crashCalled = "called"
	// crashSubmitted: the record follows the call's job (its job id and
	// the announcement of the call written under the lease); nothing of
	// it is announced yet.
	crashSubmitted = "submitted"
	// crashAnnounced: JetStream acknowledged the announcement of a power
	// step (PowerState.Announce); the record still lists it.
	crashAnnounced = "announced"
)

// crashAt calls the crash hook at a step boundary. The hook is nil outside
// the crash tests.
func (p *Poller) crashAt(point string) {
	if p.crash != nil {
		p.crash(point)
	}
}
