package natsembed

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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
// metadata leader that knows every member as a peer, and JetStream is
// usable again on every running member: it is in contact with the metadata
// leader and passes nats-server's health check (every stream and consumer
// it hosts has caught up), every stream and consumer group has a leader
// whose replicas are all current, and every member can route a direct get
// to each stream that allows them.
//
// It polls until timeout; the error names the last condition not yet met.
// After a member restarts, this is what separates "the process is up" from
// "requests succeed": until then a client may see "no responders" or
// leaderless timeouts.
func (c *Cluster) WaitJetStream(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.jetStreamReady()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("natsembed: cluster %q: JetStream not ready after %s: %w", c.name, timeout, err)
		}
		<-tick.C
	}
}

func (c *Cluster) jetStreamReady() error {
	leader := c.Leader()
	if leader == nil {
		return errors.New("no metadata leader")
	}
	ns := leader.NATSServer()
	if ns == nil {
		return errors.New("metadata leader shut down")
	}
	if got := len(ns.JetStreamClusterPeers()); got < len(c.servers) {
		return fmt.Errorf("metadata leader knows %d of %d peers", got, len(c.servers))
	}
	for _, s := range c.servers {
		ns := s.NATSServer()
		if ns == nil {
			continue
		}
		// A member that has just restarted reports itself current before
		// it has heard from the metadata leader; the health check does not.
		if !ns.JetStreamIsCurrent() {
			return fmt.Errorf("%s: not current with the metadata leader", ns.Name())
		}
		if h := ns.Healthz(nil); h.Status != "ok" || h.Error != "" {
			return fmt.Errorf("%s: unhealthy: %s", ns.Name(), h.Error)
		}
		if err := assetsReady(ns); err != nil {
			return fmt.Errorf("%s: %w", ns.Name(), err)
		}
	}
	return nil
}

// assetsReady reports whether every stream and consumer that ns hosts has a
// leader, whether the replicas of those ns leads are current, and whether
// ns has interest in the direct-get subjects of streams that allow direct
// gets (followers join that queue group only seconds after they catch up,
// so for a while the leader may be the only responder).
func assetsReady(ns *server.Server) error {
	jsi, err := ns.Jsz(&server.JSzOptions{Accounts: true, Streams: true, Consumer: true, Config: true})
	if err != nil {
		return err
	}
	for _, ad := range jsi.AccountDetails {
		for _, sd := range ad.Streams {
			if err := groupReady(ns.Name(), sd.Cluster); err != nil {
				return fmt.Errorf("stream %s > %s: %w", ad.Name, sd.Name, err)
			}
			for _, ci := range sd.Consumer {
				if err := groupReady(ns.Name(), ci.Cluster); err != nil {
					return fmt.Errorf("consumer %s > %s > %s: %w", ad.Name, sd.Name, ci.Name, err)
				}
			}
			if sd.Config == nil || !sd.Config.AllowDirect {
				continue
			}
			acc, err := ns.LookupAccount(ad.Id)
			if err != nil {
				return err
			}
			for _, subj := range []string{
				fmt.Sprintf(server.JSDirectMsgGetT, sd.Name),
				fmt.Sprintf(server.JSDirectGetLastBySubjectT, sd.Name, "x"),
			} {
				if !acc.SubscriptionInterest(subj) {
					return fmt.Errorf("stream %s > %s: no responder for %s yet", ad.Name, sd.Name, subj)
				}
			}
		}
	}
	return nil
}

// groupReady checks the cluster information one member reports for a
// stream or consumer group: the group must have a leader, and when that
// leader is the member itself, every other replica must be online and
// caught up.
func groupReady(member string, ci *server.ClusterInfo) error {
	if ci == nil {
		return nil
	}
	if ci.Leader == "" {
		return errors.New("no leader")
	}
	if ci.Leader != member {
		return nil
	}
	for _, r := range ci.Replicas {
		if r.Offline || !r.Current || r.Pending {
			return fmt.Errorf("replica %s not current", r.Name)
		}
	}
	return nil
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
