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
)

// crashAt calls the crash hook at a step boundary. The hook is nil outside
// the crash tests.
func (p *Poller) crashAt(point string) {
	if p.crash != nil {
		p.crash(point)
	}
}
