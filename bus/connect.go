package bus

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/secret"
)

// Bus publishes coldmove's CloudEvents to JetStream and consumes requests
// from it. It is safe for concurrent use.
type Bus struct {
	cfg    Config
	nc     *nats.Conn
	js     jetstream.JetStream
	owned  bool          // the Bus opened nc and closes it
	closed chan struct{} // closed when nc is closed (owned only)
}

// Connect opens a connection as cfg says and returns a Bus that owns it.
// It is built for functions: the first connection must succeed within
// cfg.ConnectTimeout (or ctx's deadline, if sooner) and is not retried,
// while a lost connection is retried cfg.MaxReconnects times. opts are
// applied last (for example handlers that log disconnects). A failure
// names the URL with any user information redacted, never a secret.
func Connect(ctx context.Context, cfg Config, opts ...nats.Option) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	where := RedactURL(cfg.URL)
	timeout := cfg.ConnectTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if err := ctx.Err(); err != nil || timeout <= 0 {
		return nil, fmt.Errorf("bus: connect to %s: %w", where, cmpErr(err, context.DeadlineExceeded))
	}
	nopts := []nats.Option{
		nats.Name(cfg.Name),
		nats.Timeout(timeout),
		nats.RetryOnFailedConnect(false),
		nats.MaxReconnects(cfg.MaxReconnects),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.ReconnectJitter(cfg.ReconnectWait/4, cfg.ReconnectWait/4),
	}
	switch {
	case inlineCreds(cfg.Creds):
		nopts = append(nopts, nats.UserCredentialBytes([]byte(cfg.Creds.Reveal())))
	case cfg.Creds != "":
		nopts = append(nopts, nats.UserCredentials(cfg.Creds.Reveal()))
	}
	if cfg.User != "" {
		nopts = append(nopts, nats.UserInfo(cfg.User, cfg.Password.Reveal()))
	}
	if cfg.CA != "" {
		nopts = append(nopts, nats.RootCAs(cfg.CA))
	}
	if cfg.Cert != "" {
		nopts = append(nopts, nats.ClientCert(cfg.Cert, cfg.Key))
	}
	nc, err := nats.Connect(cfg.URL, append(nopts, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect to %s: %w", where, scrub(err, secrets(cfg)))
	}
	b, err := newBus(nc, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	b.owned = true
	b.closed = make(chan struct{})
	var once sync.Once
	prev := nc.ClosedHandler()
	nc.SetClosedHandler(func(c *nats.Conn) {
		if prev != nil {
			prev(c)
		}
		once.Do(func() { close(b.closed) })
	})
	if nc.IsClosed() {
		once.Do(func() { close(b.closed) })
	}
	return b, nil
}

// New returns a Bus on a connection the caller owns (an in-process
// server's, a test's); [Bus.Close] leaves it open.
func New(nc *nats.Conn, cfg Config) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return newBus(nc, cfg)
}

func newBus(nc *nats.Conn, cfg Config) (*Bus, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return &Bus{cfg: cfg, nc: nc, js: js}, nil
}

// Conn returns the connection.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream returns the JetStream handle, for the ledger.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// Connected reports whether the connection is up (not reconnecting or
// closed).
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// Config returns the configuration.
func (b *Bus) Config() Config { return b.cfg }

// Close drains a connection the Bus opened: subscriptions stop taking
// messages, what is buffered is processed, pending publishes are flushed,
// and the connection closes. It waits for the close until ctx ends, then
// closes at once. A Bus made with [New] leaves the connection alone.
func (b *Bus) Close(ctx context.Context) error {
	if !b.owned {
		return nil
	}
	if err := b.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.nc.Close()
		return fmt.Errorf("bus: drain: %w", err)
	}
	select {
	case <-b.closed:
		return nil
	case <-ctx.Done():
		b.nc.Close()
		return fmt.Errorf("bus: drain: %w", ctx.Err())
	}
}

// userinfoRE matches the user information of a URL ("user:pass@",
// "token@"), even in a string url.Parse rejects.
var userinfoRE = regexp.MustCompile(`(?i)([a-z][a-z0-9+.-]*://)[^/?#@,]*@`)

// RedactURL returns a NATS URL (or a comma-separated list) with the user
// information of each replaced by "REDACTED", so it can be logged or
// named in an error.
func RedactURL(s string) string {
	return userinfoRE.ReplaceAllString(s, "${1}REDACTED@")
}

// inlineCreds reports whether NATS credentials are the file's content
// rather than its path.
func inlineCreds(c secret.String) bool {
	return strings.HasPrefix(strings.TrimSpace(c.Reveal()), "-----BEGIN")
}

// secrets lists the strings an error must never contain: the password,
// inline credentials, and the user information of every URL.
func secrets(cfg Config) []string {
	var out []string
	if cfg.Password != "" {
		out = append(out, cfg.Password.Reveal())
	}
	if inlineCreds(cfg.Creds) {
		for line := range strings.SplitSeq(cfg.Creds.Reveal(), "\n") {
			if l := strings.TrimSpace(line); len(l) > 8 && !strings.HasPrefix(l, "-----") && !strings.HasPrefix(l, "*") {
				out = append(out, l)
			}
		}
	}
	for _, m := range userinfoRE.FindAllString(cfg.URL, -1) {
		info := m[strings.Index(m, "://")+3 : len(m)-1]
		if u, err := url.PathUnescape(info); err == nil && u != info {
			out = append(out, u)
		}
		out = append(out, info)
		if _, pass, ok := strings.Cut(info, ":"); ok && pass != "" {
			out = append(out, pass)
		}
	}
	return out
}

// scrubbedError is an error whose text had secrets removed. It matches
// what the original matches (errors.Is(err, nats.ErrAuthorization)) but
// does not unwrap to it, so the original text cannot be reached.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }

// Is reports whether the original error matches target.
func (e *scrubbedError) Is(target error) bool { return errors.Is(e.err, target) }

// scrub returns err with every secret in its text replaced.
func scrub(err error, secrets []string) error {
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "REDACTED")
		}
	}
	clean = RedactURL(clean)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}

func cmpErr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
