// Package stacktest runs coldmove's stack for tests, the same way for
// every package that needs it: the ECS simulator over real HTTP on
// loopback, an embedded JetStream server (store in tb.TempDir()) with the
// COLDMOVE stream and the ledger bucket, and one manual clock that drives
// the simulator's jobs, the ledgers and the handlers, so that tests decide
// when time passes.
//
// It also reads back what the stack holds: every event on the stream
// ([Stack.Events]), the ledger's records ([Stack.Snapshot]), and builds
// request CloudEvents ([Stack.Request]).
//
// The package is meant for _test.go files only.
package stacktest
