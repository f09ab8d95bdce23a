// Package e2e holds the end-to-end tests of coldmove: both functions' real
// binaries, run long-lived as an operator would run them, against the ECS
// simulator and an embedded NATS server, seen only through the contract
// of design.md — environment variables in, CloudEvents on subjects out.
package e2e
