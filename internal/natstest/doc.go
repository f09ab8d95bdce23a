// Package natstest runs real NATS servers with JetStream for tests.
//
// [Run] starts one embedded server (package natsembed) on a random loopback
// port with its file store in tb.TempDir(), connects a client to it and
// registers the cleanup; [Server.Restart] restarts it on the same port with
// the same store. [RunCluster] does the same for a cluster of servers routed
// to each other, for tests of replicated streams and buckets.
//
// The package is meant for _test.go files only; binaries that need an
// in-process server use natsembed directly.
package natstest
