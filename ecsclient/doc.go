// Package ecsclient is the client for the few Huawei Cloud ECS APIs coldmove
// needs: [Client.MigrateServer] (cold migration onto, between and off
// dedicated hosts), [Client.ShowJob], [Client.ShowServer],
// [Client.ListServersDetails] (up to [MaxListIDs] servers in one read), and
// the batch power actions [Client.BatchStopServers] and
// [Client.BatchStartServers].
// It is the only code in coldmove that talks to the cloud, and it logs
// nothing: it returns errors.
//
// Build a [Client] with [New], a region or an explicit endpoint, and AK/SK
// credentials ([WithCredentials], signed by [Signer]):
//
//	c, err := ecsclient.New(
//		ecsclient.WithRegion("cn-north-4"),
//		ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: ak, SecretKey: sk}),
//	)
//
// # How a request flows through the client
//
// An operation first validates every id it was given (a project id is 32
// hexadecimal characters, a server id a UUID, a job id one literal path
// segment) so nothing malformed reaches a URL, then describes the call: the
// method, a relative path of escaped segments that is resolved beneath the
// endpoint (so an endpoint path prefix survives), a query (the server_id
// list of ListServersDetails) encoded as the SDK encodes it, and for a POST
// a JSON body encoded as the official SDK encodes it (no HTML escaping,
// trailing "\n").
// The retry loop sends each attempt as a fresh request carrying an
// httptrace that records whether a connection was obtained and whether the
// request was written in full. The HTTP client's transport is a [Signer]
// that clones the request, reads the body once, sets X-Sdk-Date,
// X-Project-Id and X-Security-Token, signs the exact bytes it forwards with
// SDK-HMAC-SHA256 and hands the clone to the base transport, so every
// attempt is signed afresh. The answer's body is read (up to
// 4 MiB); a non-2xx status, or a 2xx whose body is a top-level error object
// (the gateway's 202 Common.0024), becomes one [*APIError] parsed in the
// SDK's order, with the X-Request-Id and with known credentials removed,
// while a success body is decoded leniently into small value types and
// checked (a job has a status, a server is the one asked for, a list's
// entries for the ids asked are readable and not repeated). The loop
// then decides: a GET is retried on any transient failure (429, 5xx, the
// throttling codes, Ecs.0603, a network error, a cut body or an unusable
// success body); a POST is
// retried only when it provably was not processed (a throttling answer, or
// a failure before the request was written), and a POST that was sent but
// whose answer was lost, cut short, a 5xx or without a job_id ends in an
// error matching [ErrOutcomeUnknown]. Waits are jittered exponential backoff
// (or Retry-After), and the loop returns the last error rather than sleep
// past the ctx deadline. Finally the operation wraps any error with its name
// and ids (adding [ErrServerNotFound] or [ErrJobNotFound] for a 404 from the
// ECS service) or turns the decoded body into its public type.
//
// # Errors
//
// Answers become [*APIError]; match them with [errors.Is] and the sentinels
// ([ErrNotStopped], [ErrLocked], [ErrSameHost], [ErrThrottled], …) and
// classify with [IsTransient]. An error matching [ErrOutcomeUnknown] is
// never transient: the request may have taken effect, so look (for example
// with ShowServer: status RESIZE, a resize_* task state, or the server
// already on the target) before submitting again. Invalid input matches
// [ErrInvalidID] and is never sent.
//
// # Wire quirks handled
//
// Flavor vcpus and ram arrive as strings; OS-EXT-STS:task_state is null when
// the server is idle; os:scheduler_hints.dedicated_host_id is an array; job
// times carry milliseconds (and are read without them, or without a zone);
// unknown job statuses are kept verbatim and are not terminal; a FAIL job's
// error_code and fail_reason are data, not an error answer; a
// ListServersDetails entry for a server that does not exist carries only
// its id (and a fault), every other field null, and becomes
// [ServerMissing], never a server with an empty status, while an id the
// answer leaves out is [ServerUnanswered].
//
// # Secrets
//
// The fields of [Credentials] are [secret.String] values, so Credentials and
// a [Signer] print, log and marshal only redacted forms; a [Client] shows its
// endpoint and the access key masked. Error messages that echo the request
// (as the gateway's signature errors do) have the secret key and security
// token removed and the access key masked.
package ecsclient
