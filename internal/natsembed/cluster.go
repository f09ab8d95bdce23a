package natsembed

import (
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"
)

// Cluster is a set of embedded servers routed to each other on loopback,
// with JetStream clustering on.
type Cluster struct {
	name    string
	servers []*Server
}

// StartCluster starts n servers named <name>-0 … <name>-(n-1), each with its
// own store directory under baseDir, routed to every other member, and waits
// until JetStream has a metadata leader that knows all n peers.
//
// base supplies the shared settings (limits, auth, logger, ready timeout);
// its Port, StoreDir, ServerName and Cluster are set per member. Route ports
// are chosen by briefly listening on free loopback ports, so another process
// could in principle take one before the member binds it; on loopback in
// tests this is rare and surfaces as a start error.
func StartCluster(name string, n int, baseDir string, base Config) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("natsembed: cluster %q: need at least one server, got %d", name, n)
	}
	if name == "" || strings.ContainsAny(name, " \t.*>") {
		return nil, fmt.Errorf("natsembed: cluster name %q is not a valid token", name)
	}
	ports, err := freePorts(n)
	if err != nil {
		return nil, fmt.Errorf("natsembed: cluster %q: %w", name, err)
	}
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	c := &Cluster{name: name}
	for i := range n {
		cfg := base
		cfg.Port = 0
		cfg.StoreDir = filepath.Join(baseDir, fmt.Sprintf("%s-%d", name, i))
		cfg.ServerName = fmt.Sprintf("%s-%d", name, i)
		cfg.Cluster = &ClusterConfig{Name: name, Port: ports[i], Routes: others(routes, i)}
		s, err := Start(cfg)
		if err != nil {
			c.Shutdown()
			return nil, fmt.Errorf("natsembed: cluster %q member %d: %w", name, i, err)
		}
		c.servers = append(c.servers, s)
	}
	timeout := base.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if err := c.WaitJetStream(timeout); err != nil {
		c.Shutdown()
		return nil, err
	}
	return c, nil
}

func others(all []string, skip int) []string {
	out := make([]string, 0, len(all)-1)
	for i, r := range all {
		if i != skip {
			out = append(out, r)
		}
	}
	return out
}

// freePorts finds n distinct free loopback ports by holding n listeners open
// at once, then closing them.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free route port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Name returns the cluster name.
func (c *Cluster) Name() string { return c.name }

// Servers returns the members in start order.
func (c *Cluster) Servers() []*Server { return c.servers }

// ClientURLs returns every member's client URL.
func (c *Cluster) ClientURLs() []string {
	urls := make([]string, len(c.servers))
	for i, s := range c.servers {
		urls[i] = s.ClientURL()
	}
	return urls
}

// ClientURL returns every member's client URL joined by commas, the form
// nats.Connect and NATS_URL accept for a server list.
func (c *Cluster) ClientURL() string { return strings.Join(c.ClientURLs(), ",") }

// Leader returns the member that currently leads JetStream's metadata
// group, or nil when there is none.
func (c *Cluster) Leader() *Server {
	for _, s := range c.servers {
		if ns := s.NATSServer(); ns != nil && ns.JetStreamIsLeader() {
			return s
		}
	}
	return nil
}

// WaitJetStream waits until the running members agree on a JetStream
// metadata leader that knows every member as a peer, and every running
// member is current with it.
func (c *Cluster) WaitJetStream(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		if c.jetStreamReady() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("natsembed: cluster %q: JetStream not ready after %s", c.name, timeout)
		}
		<-tick.C
	}
}

func (c *Cluster) jetStreamReady() bool {
	leader := c.Leader()
	if leader == nil {
		return false
	}
	ns := leader.NATSServer()
	if ns == nil || len(ns.JetStreamClusterPeers()) < len(c.servers) {
		return false
	}
	for _, s := range c.servers {
		if ns := s.NATSServer(); ns != nil && !ns.JetStreamIsCurrent() {
			return false
		}
	}
	return true
}

// Restart stops member i if it runs and starts it again with the same
// ports and store, routed to the other members.
func (c *Cluster) Restart(i int) error {
	if i < 0 || i >= len(c.servers) {
		return fmt.Errorf("natsembed: cluster %q: no member %d", c.name, i)
	}
	if err := c.servers[i].Restart(); err != nil {
		return fmt.Errorf("natsembed: cluster %q member %d: %w", c.name, i, err)
	}
	return nil
}

// Shutdown stops every member.
func (c *Cluster) Shutdown() {
	for _, s := range c.servers {
		s.Shutdown()
	}
}
