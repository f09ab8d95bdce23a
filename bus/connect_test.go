package bus_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/secret"
)

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// mustConnect connects with cfg and closes the bus when the test ends.
func mustConnect(t *testing.T, cfg bus.Config) *bus.Bus {
	t.Helper()
	b, err := bus.Connect(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Connect(%s): %v", bus.RedactURL(cfg.URL), err)
	}
	t.Cleanup(func() { b.Close(context.Background()) })
	return b
}

// userCreds returns a valid credentials file content for a fresh user.
func userCreds(t *testing.T) []byte {
	t.Helper()
	akp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	ukp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	upub, _ := ukp.PublicKey()
	useed, _ := ukp.Seed()
	uc := jwt.NewUserClaims(upub)
	token, err := uc.Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := jwt.FormatUserConfig(token, useed)
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func TestConnect_succeedsAndDrainsOnClose(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t, natstest.WithAuth("alice", "hunter2"))
	cfg := testConfig()
	cfg.URL, cfg.User, cfg.Password, cfg.Name = s.ClientURL(), "alice", "hunter2", "coldmove-test"
	b, err := bus.Connect(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := b.EnsureStream(t.Context()); err != nil {
		t.Fatalf("EnsureStream over the connection: %v", err)
	}
	if got := b.Conn().Opts.Name; got != "coldmove-test" {
		t.Errorf("connection name = %q, want coldmove-test", got)
	}
	if err := b.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !b.Conn().IsClosed() {
		t.Error("connection not closed after Close")
	}
	if err := b.Close(t.Context()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConnect_errorsNameTheURLWithoutSecrets(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t, natstest.WithAuth("alice", "hunter2"))
	down := closedPort(t)
	tests := map[string]struct {
		edit    func(*bus.Config)
		wantIn  []string
		secrets []string
		wantIs  error
	}{
		"nothing listening, password in the URL": {
			edit:    func(c *bus.Config) { c.URL = "nats://bob:s3cr3t@" + down },
			wantIn:  []string{"nats://REDACTED@" + down},
			secrets: []string{"s3cr3t", "bob:"},
			wantIs:  nats.ErrNoServers,
		},
		"nothing listening, token in the URL": {
			edit:    func(c *bus.Config) { c.URL = "nats://tok3n-value@" + down },
			wantIn:  []string{"nats://REDACTED@" + down},
			secrets: []string{"tok3n-value"},
			wantIs:  nats.ErrNoServers,
		},
		"wrong password": {
			edit:    func(c *bus.Config) { c.URL, c.User, c.Password = s.ClientURL(), "alice", "wrong-pw-123" },
			wantIn:  []string{s.ClientURL()},
			secrets: []string{"wrong-pw-123"},
			wantIs:  nats.ErrAuthorization,
		},
		"wrong password in the URL": {
			edit:    func(c *bus.Config) { c.URL = strings.Replace(s.ClientURL(), "://", "://alice:wrong-pw-456@", 1) },
			wantIn:  []string{"nats://REDACTED@127.0.0.1:"},
			secrets: []string{"wrong-pw-456"},
			wantIs:  nats.ErrAuthorization,
		},
		"unparseable URL with a password": {
			edit:    func(c *bus.Config) { c.URL = "nats://alice:pa ss-789@bad host:4222" },
			wantIn:  []string{"nats://REDACTED@bad host:4222"},
			secrets: []string{"pa ss-789", "ss-789"},
		},
		"malformed inline credentials": {
			edit: func(c *bus.Config) {
				c.URL, c.Creds = s.ClientURL(), "-----BEGIN NATS USER JWT-----\nnot-a-jwt-secretvalue\n------END NATS USER JWT------\n"
			},
			wantIn:  []string{s.ClientURL()},
			secrets: []string{"not-a-jwt-secretvalue"},
		},
		"missing credentials file": {
			edit:   func(c *bus.Config) { c.URL, c.Creds = s.ClientURL(), "/nonexistent/coldmove.creds" },
			wantIn: []string{s.ClientURL(), "/nonexistent/coldmove.creds"},
		},
		"missing CA file": {
			edit:   func(c *bus.Config) { c.URL, c.CA = s.ClientURL(), "/nonexistent/ca.pem" },
			wantIn: []string{s.ClientURL(), "/nonexistent/ca.pem"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := testConfig()
			cfg.ConnectTimeout = time.Second
			tc.edit(&cfg)
			b, err := bus.Connect(t.Context(), cfg)
			if err == nil {
				b.Close(context.Background())
				t.Fatal("Connect succeeded, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "bus: connect to ") {
				t.Errorf("error %q does not start with 'bus: connect to '", msg)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not name %q", msg, w)
				}
			}
			for _, sec := range tc.secrets {
				if strings.Contains(msg, sec) {
					t.Errorf("error %q contains the secret %q", msg, sec)
				}
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %q does not match %v", msg, tc.wantIs)
			}
		})
	}
}

func TestConnect_invalidConfig(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.Stream = "a.b"
	if _, err := bus.Connect(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), `stream name "a.b"`) {
		t.Errorf("Connect with an invalid config: %v, want a stream name problem", err)
	}
	if _, err := bus.New(nil, cfg); err == nil {
		t.Error("New with an invalid config succeeded")
	}
}

func TestConnect_contextDone(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	cfg := testConfig()
	cfg.URL = s.ClientURL()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := bus.Connect(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Errorf("Connect with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestConnect_credentials(t *testing.T) {
	t.Parallel()
	// The server does not check credentials; these tests show that both
	// forms are read and sent without error.
	s := natstest.Run(t)
	creds := userCreds(t)
	file := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(file, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{"file": file, "inline": string(creds)} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig()
			cfg.URL, cfg.Creds = s.ClientURL(), secret.String(value)
			b := mustConnect(t, cfg)
			if err := b.Conn().Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		})
	}
}

func TestConnect_tls(t *testing.T) {
	t.Parallel()
	certs := natstest.NewCerts(t)
	s := natstest.Run(t, natstest.WithTLS(certs.ServerTLS(), certs.ClientTLS()))
	cfg := testConfig()
	cfg.URL, cfg.CA, cfg.Cert, cfg.Key = s.ClientURL(), certs.CAFile, certs.CertFile, certs.KeyFile
	b := mustConnect(t, cfg)
	if !b.Conn().TLSRequired() {
		t.Error("connection does not use TLS")
	}
	if _, err := b.EnsureStream(t.Context()); err != nil {
		t.Errorf("EnsureStream over TLS: %v", err)
	}

	// Without the client certificate the server refuses the connection.
	cfg.Cert, cfg.Key = "", ""
	if b, err := bus.Connect(t.Context(), cfg); err == nil {
		b.Close(context.Background())
		t.Error("Connect without the client certificate succeeded")
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"nats://127.0.0.1:4222":                "nats://127.0.0.1:4222",
		"nats://u:p@h:4222":                    "nats://REDACTED@h:4222",
		"tls://token@h:4222,nats://u:p@g:4222": "tls://REDACTED@h:4222,nats://REDACTED@g:4222",
		"nats://u:p%40ss@h:4222/path?x=a@b":    "nats://REDACTED@h:4222/path?x=a@b",
		"h:4222":                               "h:4222",
		"nats://a:b c@bad host":                "nats://REDACTED@bad host",
		"NATS://User:Pw@H":                     "NATS://REDACTED@H",
		"nats://h1:4222, nats://x:y@h2:4222":   "nats://h1:4222, nats://REDACTED@h2:4222",
	}
	for in, want := range tests {
		if got := bus.RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
