package natstest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natstest"
)

func TestRun_restartKeepsBucketAndReconnects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := natstest.Run(t)
	kv, err := s.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "b", Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatalf("CreateKeyValue: %v", err)
	}
	if _, err := kv.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	url := s.ClientURL()

	s.Restart()

	if got := s.ClientURL(); got != url {
		t.Errorf("ClientURL after Restart = %q, want %q", got, url)
	}
	if !s.Conn().IsConnected() {
		t.Fatal("helper connection not connected after Restart")
	}
	kv, err = s.JetStream().KeyValue(ctx, "b")
	if err != nil {
		t.Fatalf("KeyValue after restart: %v", err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil {
		t.Fatalf("Get after restart: %v", err)
	}
	if string(e.Value()) != "v" {
		t.Errorf("value after restart = %q, want v", e.Value())
	}
}

func TestRun_sharedStoreDir(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dir := t.TempDir()
	first := natstest.Run(t, natstest.WithStoreDir(dir))
	if _, err := first.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s"}}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	first.Shutdown()
	second := natstest.Run(t, natstest.WithStoreDir(dir))
	if _, err := second.JetStream().Stream(ctx, "S"); err != nil {
		t.Errorf("stream from the shared store: %v", err)
	}
}

func TestRun_auth(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t, natstest.WithAuth("alice", "s3cret"))
	if err := s.Conn().Flush(); err != nil {
		t.Fatalf("helper connection with credentials: %v", err)
	}
	nc, err := nats.Connect(s.ClientURL())
	if err == nil {
		nc.Close()
		t.Fatal("connect without credentials succeeded")
	}
	if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect without credentials: %v, want nats.ErrAuthorization", err)
	}
}

func TestRun_tls(t *testing.T) {
	t.Parallel()
	certs := natstest.NewCerts(t)
	s := natstest.Run(t, natstest.WithTLS(certs.ServerTLS(), certs.ClientTLS()))
	if !strings.HasPrefix(s.ClientURL(), "tls://") {
		t.Errorf("ClientURL = %q, want tls://", s.ClientURL())
	}
	if err := s.Conn().Flush(); err != nil {
		t.Fatalf("helper connection over TLS: %v", err)
	}
	// The files hold the same CA and client certificate.
	nc, err := nats.Connect(s.ClientURL(), nats.RootCAs(certs.CAFile), nats.ClientCert(certs.CertFile, certs.KeyFile))
	if err != nil {
		t.Fatalf("connect with the PEM files: %v", err)
	}
	nc.Close()
	// Without a client certificate the server refuses the handshake.
	if nc, err := nats.Connect(s.ClientURL(), nats.RootCAs(certs.CAFile), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Error("connect without a client certificate succeeded")
	}
}

func TestRunCluster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := natstest.RunCluster(t, 3)
	kv, err := c.JetStream().CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "r3", Replicas: 3})
	if err != nil {
		t.Fatalf("CreateKeyValue R3: %v", err)
	}
	if _, err := kv.Create(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	c.Restart(2)
	e, err := kv.Get(ctx, "k")
	if err != nil {
		t.Fatalf("Get after member restart: %v", err)
	}
	if string(e.Value()) != "v" {
		t.Errorf("value = %q, want v", e.Value())
	}
	// Restart waits until the bucket answers through every member, the
	// restarted one included, not only through the helper's connection.
	for _, m := range c.Servers() {
		nc, err := nats.Connect(m.ClientURL())
		if err != nil {
			t.Fatalf("connect to %s: %v", m.Name(), err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		kv, err := js.KeyValue(ctx, "r3")
		if err != nil {
			t.Fatalf("KeyValue through %s: %v", m.Name(), err)
		}
		if _, err := kv.Get(ctx, "k"); err != nil {
			t.Errorf("Get through %s after member restart: %v", m.Name(), err)
		}
	}
}
