// Poll tracks every outstanding coldmove migration job to exactly one
// outcome on NATS JetStream.
//
// Each tick ([Poller.Tick]) scans the ledger's job records (headers
// only), reads every outstanding server in bulk (ListServersDetails, up to
// 100 servers a call), and takes the records that are due, with those not
// yet due whose server settled in a state other than the one seen at the
// job's last look, or vanished. It leases each by its KV revision (so that
// any number of overlapping ticks never work one job together) and, with
// at most COLDMOVE_POLL_CONCURRENCY jobs at once and ECS requests spent
// from a shared budget of COLDMOVE_API_RATE per second (a tick takes only
// the jobs that budget pays for before the tick ends), decides:
//
//   - a job whose server the list shows busy (RESIZE, resize_*,
//     powering-off…) before its deadline: still running, without an ECS
//     call; it is looked at again when the list shows the server settled,
//     or after the backstop of [Schedule] (30m). The list is a hint: it
//     never makes an outcome by itself, except for watch jobs (below), and
//     stands in for ShowServer where this tick's answer describes the
//     server. A job whose server is settled (it may end without changing
//     the server) or that the list did not answer for follows the per-job
//     schedule below.
//   - a job with an ECS job id: ShowJob. SUCCESS is verified on the
//     list's answer of the tick, or else with ShowServer: on the target dedicated host (or on none, for the public
//     pool) with no task running is completed, elsewhere
//     failed/placement_mismatch. FAIL is failed/job_failed with the job's
//     error_code, fail_reason and failed sub-jobs. INIT, RUNNING and any
//     other status are polled again on the [Schedule] (15s, 30s, 1m, 2m,
//     4m, then every 5m) until the request's deadline, then timedout with
//     the last status. A job ECS no longer knows (purged about a day after
//     it ended, or never known) is completed when the server is settled on
//     the target, failed/server_not_found when the server is gone, and
//     failed/job_not_found otherwise.
//   - a watch job (a request whose migrate answer was lost, so that its job
//     id is unknown): the server's state only (the list's, or ShowServer). Settled on the target is completed;
//     moving (RESIZE, resize_*) or not moved yet is watched until the
//     deadline, then timedout; a server that is gone is
//     failed/server_not_found.
//   - a pending record (due at the deadline of a request on which migrate
//     submitted no call: trouble on every delivery, or a handler that
//     stopped, and no delivery came again): the request's claim says what
//     became of it. Submitted, the record goes; finished, its outcome is
//     published unless it was, and the record goes; claimed, or never
//     claimed at all, it ends rejected/deadline_exceeded with its last
//     error; submitting (the call may have been sent), timedout.
//   - transient trouble (ECS 5xx, network errors, NATS) is counted and
//     retried at a later poll, never turned into an outcome; throttling
//     backs the project off: its jobs are left alone for a while.
//
// An outcome is recorded in the job record before it is published
// (ledger.SetOutcome), published with its deterministic CloudEvent id as
// the JetStream message id, and only after JetStream acknowledged it is
// the request's claim finished (ledger.FinishRequest) and the job removed
// with its server lock. A job found carrying a recorded outcome (its
// poller crashed) is published again, byte for byte, which JetStream
// drops as a duplicate within its window, and finished.
//
// A tick stops taking jobs when its budget runs out: the invocation's
// deadline under Lambda, COLDMOVE_POLL_INTERVAL in the long-running mode,
// less a headroom of up to five seconds for publishing what is in flight.
// It returns a [Summary], logged as one JSON line.
//
// Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) poll runs one tick per
// invocation of its schedule, whatever the payload (an EventBridge
// scheduled event, a Scheduler's verbatim input, or nothing), and returns
// the summary; SIGTERM drains NATS. Otherwise it ticks every
// COLDMOVE_POLL_INTERVAL until SIGTERM or SIGINT, then drains NATS.
//
// Configuration is read from the environment; poll -h lists every
// variable with its default, and a bad configuration names every problem
// at once.
package main
