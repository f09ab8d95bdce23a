// Package stacktest runs coldmove's stack for tests, the same way for
// every package that needs it: the ECS simulator over real HTTP on
// loopback, an embedded JetStream server (store in tb.TempDir()), or a
// cluster of them ([NewCluster]), with the COLDMOVE stream and the ledger
// bucket, and one manual clock that drives the simulator's jobs, the
// ledgers and the handlers, so that tests decide when time passes.
//
// It also reads back what the stack holds: every event on the stream
// ([Stack.Events]), grouped and counted per request ([Stack.ByRequest],
// [CountOf]; [Stack.Follow] reads only what is new, for harnesses that
// look after every round), and the ledger's records ([Stack.Snapshot]);
// and it builds request CloudEvents ([Request]). [Soak] and [Seeds]
// switch the harnesses that use it to their long forms (COLDMOVE_SOAK=1).
//
// The package is meant for _test.go files only.
package stacktest
