// Package benchout writes a benchmark's figures as a JSON fragment, for
// `make bench` to merge into dist/bench/results.json.
//
// A fragment is written only when the environment variable
// COLDMOVE_BENCH_OUT names a directory (created if missing); otherwise
// [Write] does nothing, so `go test -bench` alone leaves no files behind.
//
// The package is meant for _test.go files only.
package benchout
