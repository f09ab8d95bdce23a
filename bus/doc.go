// Package bus carries coldmove's CloudEvents on NATS JetStream.
//
// [Connect] opens a connection from a [Config] read from the environment
// (NATS_URL, NATS_CREDS, NATS_USER, NATS_PASSWORD, NATS_CA, NATS_CERT,
// NATS_KEY, named as the NATS CLI names them), with settings fit for a
// function: a short first connection that is not retried, bounded
// reconnection afterwards, and errors that name the server URL with its
// user information redacted and never a secret. [Bus.Close] drains the
// connection.
//
// [Bus.EnsureStream] creates the COLDMOVE stream capturing <prefix>.>
// (file storage, configurable replicas, a duplicate window of at least
// two minutes, and retention limits: events older than MaxAge, 720h by
// default, or beyond MaxBytes, unlimited by default, are discarded oldest
// first) and leaves an existing stream as its operator tuned it,
// checking only that it captures the subjects.
//
// [Bus.Publish] publishes an event in binary content mode (ce-* headers,
// JSON body) or, when configured, structured mode (the JSON event as the
// body), with the CloudEvent id as the JetStream message id, and waits
// for the acknowledgement; a duplicate within the window is reported as
// [PublishResult.Duplicate], a success without effect. Subjects come from
// package events: <prefix>.placement.<kind>.<server_id>.
//
// [Bus.Consume] runs the durable pull consumer on the request subject
// with explicit acknowledgement, a redelivery backoff and a max-deliver
// bound. It reads each message in either content mode through package
// events and hands it to a [Handler], whose [Result] acknowledges it
// ([Ack]), has it delivered again later ([Retry]) or stops its delivery
// ([Terminate]). A message that is not a readable CloudEvent is handed to
// the handler with [Delivery.DecodeErr] set, so that it can be answered
// with a rejected event rather than dropped.
package bus
