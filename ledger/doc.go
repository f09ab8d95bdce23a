// Package ledger keeps coldmove's outstanding work in a NATS JetStream
// key-value bucket (coldmove_ledger by default): request claims, server
// locks and job records, each a typed JSON record changed only by
// compare-and-set on its revision.
//
// # Records
//
// A request claim (key req.<hash>, see [RequestKey]) makes sure that one
// placement request, identified by its CloudEvent source and id, leads to at
// most one migrate call. [Ledger.ClaimRequest] creates it only if it is
// absent; its owner then moves it claimed → submitting → submitted →
// finished. Submitted means the call was made: [Ledger.MarkSubmitted]
// keeps the job id with the accepted event announcing it
// ([Claim.Accepted]), or, when the call's answer was lost,
// [Ledger.MarkSubmittedUnknown] records that the job is unknown
// ([Claim.JobUnknown]) and the call is never repeated. Finished keeps the
// terminal outcome event ([Claim.Outcome]). Both events are kept so that a
// duplicate request can be answered by re-publishing exactly the same
// event until JetStream is known to have acknowledged it:
// [Ledger.MarkAcceptedPublished] and [Ledger.MarkOutcomePublished] record
// the acknowledgement ([Claim.AcceptedPublished], [Claim.OutcomePublished]),
// after which a duplicate publishes nothing, so the stream holds one
// terminal event per request also beyond its duplicate window. Any process
// may mark a claim, not only its owner, which may have died after
// publishing; a mark changes nothing else (not the state, not the update
// time staleness is measured from), but it moves the claim's revision.
// A claim left in progress for longer than [Config.ClaimStaleAfter]
// can be taken over, and [ClaimResult.MayHaveSubmitted] tells the new owner
// whether the previous owner may already have called the API. A claim in
// progress is never deleted: [Ledger.ReleaseUnsent] gives it back
// (claimed, with no owner and its last error) when nothing reached the
// API, and the next delivery takes it at once.
//
// The poll function finishes claims it does not own: [Ledger.FinishRequest]
// records a job's outcome on its request's claim by compare-and-set,
// idempotently for the same outcome, and refuses a different one, so the
// first terminal outcome of a request is its only one. Poll calls it only
// after JetStream acknowledged the outcome, so the same write marks the
// outcome published.
//
// A server lock (key lock.<server_id>, see [Ledger.AcquireLock]) names the
// request that holds the server, so two requests cannot migrate one server
// at once. A lock whose holder is finished and has no job record left (a
// crash between removing a job and releasing its lock) is taken over. A
// lock held by a live request gives a [*LockedError] that names the holder
// and how far it got ([LockedError.HolderState]: still in pre-flight, or
// its migrate call sent or possibly sent), from the holder's claim as read
// to decide whether the lock was left behind.
//
// A job record (key job.<record id>, see [Job] and [Job.RecordID]) carries
// everything the poll function needs to follow a submitted request to its
// outcome: the request's correlation, project, region, server, target,
// trace context, deadline, poll attempts, next poll time and a lease. Its
// record id is the ECS job id, or, for a watch job, which follows the
// server's state because the job id is unknown, [WatchRecordID] of the
// request key. Pollers find the due records with [Ledger.ListDue], lease
// one by revision with [Ledger.Lease] (a lost race is [ErrLeaseLost]),
// then [Ledger.Reschedule] it, or decide its terminal event and store it
// with [Ledger.SetOutcome] before publishing it, so that a poller taking
// over after a crash re-publishes the same bytes ([Job.Outcome]). Once
// JetStream has acknowledged the event and the claim is finished,
// [Ledger.Remove] deletes the record together with its server lock.
//
// A pending record (a [Job] with Pending set, record id [PendingRecordID])
// makes sure a request ends even if no call is ever submitted for it and
// no delivery comes again. [Ledger.RecordPending] writes it, due at the
// request's deadline, for a new request before its claim, and
// [Ledger.DropPending] removes it once the claim is submitted or its
// outcome acknowledged. If it comes due, the poll function reads the
// claim and closes the request: [Ledger.CloseRequest] from claimed or
// submitting, [Ledger.CloseUnclaimed] when there is no claim (its handler
// stopped before claiming it); a submitted or finished claim needs no
// closing, and [Ledger.Discard] removes the record.
//
// # Retention
//
// Claims of finished requests expire; nothing else does. Every write of a
// finished claim, whoever makes it (finishing it, or marking an event
// published), carries JetStream's per-message TTL of [Config.ClaimTTL]
// (720h by default), so JetStream itself removes the claim that long after
// its last write; there is no sweeper. The write also rolls up the key,
// purging its earlier revisions, so that in a bucket keeping history no
// earlier revision of the claim, written without TTL, comes back when it
// expires. A duplicate of the request that arrives after that is handled
// as a new request: keep ClaimTTL no shorter than the stream's duplicate
// window, and as long as requests may be replayed. Claims in progress,
// server locks and job records are written without TTL and never expire.
//
// [Open] creates the bucket with LimitMarkerTTL set, which allows
// per-message TTL; JetStream then leaves a marker for a second where a
// claim expired, which readers take for absence. A bucket that exists
// without per-message TTL (its stream's AllowMsgTTL false) is updated to
// allow it, changing only that setting, which JetStream cannot turn off
// again; such a bucket leaves no marker behind.
//
// # Events
//
// Events are stored as compact JSON with nothing escaped: the CloudEvents
// SDK's structured output is kept byte for byte. Publish the stored copy
// (Claim.Accepted, Job.Outcome), which the recording call sets. Event JSON
// that is not one object is refused with [ErrNotJSON].
//
// # How due-ness is found, and what it costs
//
// Every write of a job record carries its due time (the later of the next
// poll time and the lease expiry, in Unix milliseconds) in a message header,
// Coldmove-Due-At, on the same message as the record, so the two can never
// disagree. [Ledger.Scan] reads only those headers: it creates one
// ephemeral consumer on the bucket's stream filtered to job.>, delivering
// the last message per key with headers only, fetches its messages in
// batches of 1,000 without waiting, and deletes the consumer. Listing n job
// records therefore costs three JetStream API calls plus n/1,000 pull
// requests that carry about 150 bytes per record, never a value; only the
// due records are then read, one at a time, when they are leased.
// Records other than jobs (claims, locks) are not scanned at all. The
// benchmarks in this package measure the scan over 10,000 records.
//
// Removed records are deleted with a revision-checked delete marker and the
// marker is then purged, so finished jobs leave nothing behind to scan.
//
// Job writes publish to the bucket's subject ($KV.<bucket>.<key>) directly,
// with the same expected-last-subject-sequence check the key-value API uses
// for updates, because that API cannot attach headers. Reads ask the
// stream leader (the STREAM.MSG.GET API) rather than any replica through
// direct get, because a lagging replica would hide acknowledged writes
// from a compare-and-set decision. The bucket must therefore be reached
// without a JetStream domain or API prefix.
//
// Times come from the clock given with [WithClock], so tests control
// staleness, leases and due times. Claim staleness compares the record's
// own update time with that clock: keep the clocks of migrate instances
// roughly in sync, and keep ClaimStaleAfter well above the longest migrate
// invocation.
package ledger
