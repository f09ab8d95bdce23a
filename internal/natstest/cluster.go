package natstest

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natsembed"
)

// Cluster is a running cluster of embedded servers with a client connected
// to all of them.
type Cluster struct {
	*natsembed.Cluster
	tb         testing.TB
	conn       *nats.Conn
	js         jetstream.JetStream
	clientOpts []nats.Option
}

// RunCluster starts n JetStream servers routed to each other on loopback,
// each with its store under tb.TempDir(), waits for JetStream to elect a
// metadata leader, connects a client to every member, and stops everything
// when the test ends.
func RunCluster(tb testing.TB, n int, opts ...Option) *Cluster {
	tb.Helper()
	st := newSettings(opts)
	// The route ports are picked free and then bound by the members; on a
	// busy machine another socket can take one in between, and the member
	// does not start. A fresh start, on fresh ports, is then tried.
	var nc *natsembed.Cluster
	var err error
	for range 3 {
		if nc, err = natsembed.StartCluster("natstest", n, tb.TempDir(), st.cfg); err == nil {
			break
		}
		tb.Logf("natstest: cluster did not start (%v); starting again on other ports", err)
	}
	if err != nil {
		tb.Fatalf("natstest: %v", err)
	}
	tb.Cleanup(nc.Shutdown)
	c := &Cluster{Cluster: nc, tb: tb, clientOpts: st.clientOpts}
	c.conn = c.Connect()
	c.js = mustJetStream(tb, c.conn)
	return c
}

// Conn returns the helper's connection, which knows every member and so
// survives any one of them going down.
func (c *Cluster) Conn() *nats.Conn { return c.conn }

// JetStream returns a JetStream handle on [Cluster.Conn].
func (c *Cluster) JetStream() jetstream.JetStream { return c.js }

// Connect opens another connection to the cluster and closes it when the
// test ends.
func (c *Cluster) Connect(opts ...nats.Option) *nats.Conn {
	c.tb.Helper()
	return connect(c.tb, c.ClientURL(), append(c.clientOpts, opts...))
}

// Restart restarts member i on its ports and store and waits until
// JetStream is whole again. It fails the test on error.
func (c *Cluster) Restart(i int) {
	c.tb.Helper()
	if err := c.Cluster.Restart(i); err != nil {
		c.tb.Fatalf("natstest: %v", err)
	}
	if err := c.WaitJetStream(natsembed.DefaultReadyTimeout); err != nil {
		c.tb.Fatalf("natstest: %v", err)
	}
}
