// Package natsembed runs a NATS server with JetStream inside the current
// process.
//
// It is what the coldmove demo uses instead of an external broker, and what
// the test helper package natstest builds on. A [Server] listens on loopback
// (127.0.0.1) by default, on a random port unless one is given, and keeps
// JetStream's file store in a directory the caller owns, so that
// [Server.Restart] brings back every stream, key-value bucket and consumer.
//
// A [Cluster] starts several servers routed to each other on loopback, with
// JetStream clustering on, for tests of replicated streams and buckets.
//
// The package never logs unless [Config.Logger] is set.
package natsembed
