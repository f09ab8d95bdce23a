// Package logging builds the JSON slog logger the functions log with, at
// their edges only. Every record carries the Lambda request id when the
// context has one, and the attributes attached to the context with [With]
// — the CloudEvent id, server id and job id of the work in hand — so that
// every line about a request can be found by any of them.
package logging
