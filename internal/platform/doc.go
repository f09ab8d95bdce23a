// Package platform opens what the binaries stand on, the same way for
// each: the NATS connection, the COLDMOVE stream (created when missing,
// an operator-tuned one left alone), the ledger bucket and the ECS client
// pool; and it runs a binary in its runtime with one shutdown path: under
// AWS Lambda the runtime loop, draining NATS within the half second Lambda
// allows after SIGTERM; otherwise until SIGINT or SIGTERM, then draining
// for up to five seconds.
package platform
