package natsembed

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultReadyTimeout is how long [Start] waits for a server to accept
// connections when [Config.ReadyTimeout] is zero.
const DefaultReadyTimeout = 10 * time.Second

// Config describes one embedded server. The zero value is not usable:
// StoreDir is required, because JetStream keeps its file store there.
type Config struct {
	// Host is the client listen address; empty means 127.0.0.1.
	Host string
	// Port is the client port; zero picks a free port. [Server.Restart]
	// reuses the port the server first got, so clients can reconnect.
	Port int
	// StoreDir is the JetStream store directory. Required.
	StoreDir string
	// ServerName names the server; empty lets nats-server pick one. A
	// clustered server needs a unique name, which [StartCluster] sets.
	ServerName string
	// MaxMemory and MaxStore limit JetStream's memory and file storage in
	// bytes; zero keeps nats-server's defaults.
	MaxMemory, MaxStore int64
	// User and Password, when User is set, require clients to authenticate.
	User, Password string
	// TLS, when set, makes the client listener require TLS with this
	// configuration (set ClientAuth and ClientCAs to verify client
	// certificates).
	TLS *tls.Config
	// Cluster, when set, turns on routing and JetStream clustering.
	Cluster *ClusterConfig
	// ReadyTimeout bounds the wait for the server to accept connections;
	// zero means [DefaultReadyTimeout].
	ReadyTimeout time.Duration
	// Logger receives nats-server's log lines; nil silences them.
	Logger server.Logger
}

// ClusterConfig is the routing part of a clustered server's [Config].
type ClusterConfig struct {
	// Name is the cluster name, the same for every member.
	Name string
	// Host is the route listen address; empty means 127.0.0.1.
	Host string
	// Port is the route listen port; it must be fixed (non-zero) so that
	// members can name each other in Routes.
	Port int
	// Routes are the other members' route URLs, e.g. nats-route://127.0.0.1:6222.
	Routes []string
}

// Server is a running (or shut down) embedded NATS server. It is safe for
// concurrent use.
type Server struct {
	mu   sync.Mutex
	cfg  Config
	opts *server.Options // options with the ports the first start obtained
	ns   *server.Server
}

// Start runs a server with JetStream enabled and waits until it accepts
// connections.
func Start(cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsembed: start: StoreDir is required for the JetStream file store")
	}
	if cfg.Cluster != nil && cfg.Cluster.Port <= 0 {
		return nil, errors.New("natsembed: start: a clustered server needs a fixed route port")
	}
	opts, err := buildOptions(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, opts: opts}
	if err := s.start(); err != nil {
		return nil, err
	}
	// Pin the port the server obtained, so a restart listens on it again.
	s.opts.Port = s.ns.Addr().(*net.TCPAddr).Port
	return s, nil
}

func buildOptions(cfg Config) (*server.Options, error) {
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:         cfg.ServerName,
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		NoSigs:             true,
		NoLog:              cfg.Logger == nil,
		Username:           cfg.User,
		Password:           cfg.Password,
	}
	if cfg.TLS != nil {
		opts.TLSConfig = cfg.TLS
		opts.TLS = true
		opts.TLSVerify = cfg.TLS.ClientAuth == tls.RequireAndVerifyClientCert
		opts.TLSTimeout = 2
	}
	if c := cfg.Cluster; c != nil {
		chost := c.Host
		if chost == "" {
			chost = "127.0.0.1"
		}
		opts.Cluster = server.ClusterOpts{Name: c.Name, Host: chost, Port: c.Port}
		routes, err := parseRoutes(c.Routes)
		if err != nil {
			return nil, err
		}
		opts.Routes = routes
	}
	return opts, nil
}

func parseRoutes(routes []string) ([]*url.URL, error) {
	out := make([]*url.URL, 0, len(routes))
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("natsembed: route %q: %w", r, err)
		}
		if u.Scheme != "nats-route" || u.Port() == "" {
			return nil, fmt.Errorf("natsembed: route %q: want nats-route://host:port", r)
		}
		out = append(out, u)
	}
	return out, nil
}

// start runs a fresh nats-server from a clone of s.opts; s.mu must not be
// held by another start.
func (s *Server) start() error {
	opts := s.opts.Clone()
	ns, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("natsembed: new server: %w", err)
	}
	if s.cfg.Logger != nil {
		ns.SetLoggerV2(s.cfg.Logger, false, false, false)
	}
	go ns.Start()
	timeout := s.cfg.ReadyTimeout
	if timeout <= 0 {
		timeout = DefaultReadyTimeout
	}
	if !ns.ReadyForConnections(timeout) {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("natsembed: server on %s:%d not ready after %s", opts.Host, opts.Port, timeout)
	}
	if !ns.JetStreamEnabled() {
		ns.Shutdown()
		ns.WaitForShutdown()
		return fmt.Errorf("natsembed: server on %s:%d started without JetStream (store %s)", opts.Host, opts.Port, opts.StoreDir)
	}
	s.ns = ns
	return nil
}

// ClientURL returns the URL clients connect to, e.g. nats://127.0.0.1:41234
// (tls:// when the listener requires TLS). It stays the same across
// [Server.Restart].
func (s *Server) ClientURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	scheme := "nats"
	if s.opts.TLS {
		scheme = "tls"
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(s.opts.Host, fmt.Sprint(s.opts.Port)))
}

// StoreDir returns the JetStream store directory.
func (s *Server) StoreDir() string { return s.cfg.StoreDir }

// Name returns the server's name (its configured ServerName, or the one
// nats-server generated).
func (s *Server) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ns == nil {
		return s.opts.ServerName
	}
	return s.ns.Name()
}

// Running reports whether the server is up.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ns != nil && s.ns.Running()
}

// NATSServer returns the underlying nats-server, or nil while shut down. It
// is for inspection (JetStream leadership, connection counts); use
// [Server.Shutdown] and [Server.Restart] to control the lifecycle.
func (s *Server) NATSServer() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ns
}

// Shutdown stops the server and waits until it has stopped. It is safe to
// call more than once.
func (s *Server) Shutdown() {
	s.mu.Lock()
	ns := s.ns
	s.ns = nil
	s.mu.Unlock()
	if ns != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
	}
}

// Restart stops the server if it runs and starts it again on the same
// ports with the same store directory, so every stream, bucket and consumer
// comes back from the file store.
func (s *Server) Restart() error {
	s.Shutdown()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.start(); err != nil {
		return fmt.Errorf("natsembed: restart: %w", err)
	}
	return nil
}
