// Package events owns coldmove's event vocabulary: the CloudEvent type names,
// the subjects they travel on, one payload struct per type with a Validate
// method that reports every problem at once, constructors for the outcome
// events, the closed sets of reason codes, and the one decoder that turns a
// CloudEvent — structured JSON, binary mode (NATS or HTTP headers plus a
// body), or an sdk-go [event.Event] — into a typed placement request or a
// specific error.
//
// The package never logs and never does I/O: it converts between bytes,
// headers and values, and the bus and the functions move them.
//
// # Events
//
// Every type lives under dev.coldmove.placement. A [TypeRequested] event asks
// for a server to be moved to a target; the five outcome types answer it:
// [TypeAccepted] (the migration was submitted and has a job id),
// [TypeRejected] (nothing was submitted, with a [RejectReason]),
// [TypeCompleted], [TypeFailed] (with a [FailReason]) and [TypeTimedOut];
// [TypeProgressed] announces the opt-in power steps of a request that asked
// for them ([Power]: stop a running server first, start it again after),
// whose terminal events carry a [PowerOutcome].
// An outcome copies the request's correlation ([Correlation]) and trace
// context, and its CloudEvent id is derived from the job id, or the request
// key when there is no job, and the outcome type ([OutcomeID]): publishing
// the same outcome twice yields the same id, which JetStream deduplicates.
//
// # Decoding a request
//
// [Decode] (a message) and [DecodeEvent] (an sdk-go event) check everything
// about a request that does not depend on the time: the envelope, the
// type, the payload's shape and ids. Data that repeats a key, at any depth,
// or nests deeper than 32 levels is refused as [ErrInvalidPayload], for a
// reader that keeps the first or the last of two keys could move a server
// somewhere its sender did not mean. Whether the request's deadline has
// passed is judged apart, by [Placement.CheckDeadline], and only for a
// request the ledger does not know: a late redelivery of a request already
// accepted is answered from its claim, not rejected.
//
// A failed decode is a *[DecodeError] naming the [RejectReason] that
// answers it and holding, in its [Origin], whatever could be read of the
// request (also of an event of the wrong type), so that the rejection
// reaches the sender. A server id is copied there only when it is valid,
// and other echoed strings are clipped to 256 bytes.
//
// The W3C trace context (traceparent, tracestate) is carried from the
// request onto every outcome by one rule: a malformed traceparent drops
// both, a malformed tracestate drops only itself.
//
// The JSON Schemas of every payload are embedded ([Schemas]) and listed with
// their channels in the AsyncAPI 3.0 document asyncapi.yaml.
//
// [event.Event]: https://pkg.go.dev/github.com/cloudevents/sdk-go/v2/event#Event
package events
