// Package platform opens what both functions stand on, the same way for
// each: the NATS connection, the COLDMOVE stream (created when missing,
// an operator-tuned one left alone) and the ledger bucket.
package platform
