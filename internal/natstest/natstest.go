package natstest

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natsembed"
)

// reconnectTimeout bounds how long [Server.Restart] waits for the helper's
// connection to come back.
const reconnectTimeout = 10 * time.Second

// Option adjusts the server (and the helper's own connection) started by
// [Run] or [RunCluster].
type Option func(*settings)

type settings struct {
	cfg        natsembed.Config
	clientOpts []nats.Option
}

// WithStoreDir sets the JetStream store directory instead of a fresh
// tb.TempDir(); two servers run one after the other on the same directory
// share their streams and buckets. Ignored by [RunCluster].
func WithStoreDir(dir string) Option {
	return func(s *settings) { s.cfg.StoreDir = dir }
}

// WithAuth makes the server require this user and password; the helper's
// connection uses them.
func WithAuth(user, password string) Option {
	return func(s *settings) {
		s.cfg.User, s.cfg.Password = user, password
		s.clientOpts = append(s.clientOpts, nats.UserInfo(user, password))
	}
}

// WithTLS makes the server's client listener require TLS with serverTLS;
// clientTLS is what the helper's connection uses to reach it.
func WithTLS(serverTLS, clientTLS *tls.Config) Option {
	return func(s *settings) {
		s.cfg.TLS = serverTLS
		s.clientOpts = append(s.clientOpts, nats.Secure(clientTLS))
	}
}

// WithConfig edits the natsembed configuration directly, for settings no
// other option covers (limits, logger).
func WithConfig(edit func(*natsembed.Config)) Option {
	return func(s *settings) { edit(&s.cfg) }
}

func newSettings(opts []Option) *settings {
	s := &settings{}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Server is a running embedded server with a connected client.
type Server struct {
	*natsembed.Server
	tb          testing.TB
	conn        *nats.Conn
	js          jetstream.JetStream
	clientOpts  []nats.Option
	reconnected chan struct{}
}

// Run starts a JetStream server on a random loopback port with its store in
// tb.TempDir() (unless [WithStoreDir] says otherwise), connects a client,
// and stops both when the test ends. It fails the test if the server does
// not start.
func Run(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	st := newSettings(opts)
	if st.cfg.StoreDir == "" {
		st.cfg.StoreDir = tb.TempDir()
	}
	ns, err := natsembed.Start(st.cfg)
	if err != nil {
		tb.Fatalf("natstest: %v", err)
	}
	tb.Cleanup(ns.Shutdown)
	s := &Server{Server: ns, tb: tb, clientOpts: st.clientOpts, reconnected: make(chan struct{}, 1)}
	s.conn = s.Connect(nats.ReconnectHandler(func(*nats.Conn) {
		select {
		case s.reconnected <- struct{}{}:
		default:
		}
	}))
	s.js = mustJetStream(tb, s.conn)
	return s
}

// Conn returns the helper's connection. It reconnects across
// [Server.Restart] and is closed when the test ends.
func (s *Server) Conn() *nats.Conn { return s.conn }

// JetStream returns a JetStream handle on [Server.Conn].
func (s *Server) JetStream() jetstream.JetStream { return s.js }

// Connect opens another connection to the server (with the credentials and
// TLS settings the server was started with, then opts), reconnecting
// forever every few milliseconds, and closes it when the test ends.
func (s *Server) Connect(opts ...nats.Option) *nats.Conn {
	s.tb.Helper()
	return connect(s.tb, s.ClientURL(), append(s.clientOpts, opts...))
}

// Restart stops the server and starts it again on the same port with the
// same store, then waits until [Server.Conn] has reconnected. It fails the
// test on error.
func (s *Server) Restart() {
	s.tb.Helper()
	select {
	case <-s.reconnected:
	default:
	}
	if err := s.Server.Restart(); err != nil {
		s.tb.Fatalf("natstest: %v", err)
	}
	select {
	case <-s.reconnected:
	case <-time.After(reconnectTimeout):
		s.tb.Fatalf("natstest: client did not reconnect to %s within %s", s.ClientURL(), reconnectTimeout)
	}
}

func connect(tb testing.TB, url string, opts []nats.Option) *nats.Conn {
	tb.Helper()
	base := []nats.Option{
		nats.Name("natstest"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(5 * time.Millisecond),
		nats.ReconnectJitter(0, 0),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		tb.Fatalf("natstest: connect %s: %v", url, err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

func mustJetStream(tb testing.TB, nc *nats.Conn) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("natstest: jetstream: %v", err)
	}
	return js
}
