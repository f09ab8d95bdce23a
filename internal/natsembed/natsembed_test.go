package natsembed_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natsembed"
)

func mustStart(t *testing.T, cfg natsembed.Config) *natsembed.Server {
	t.Helper()
	s, err := natsembed.Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func mustConnect(t *testing.T, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	opts = append([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(5 * time.Millisecond)}, opts...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

func TestStart_errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg  natsembed.Config
		want string
	}{
		"no store dir": {
			cfg:  natsembed.Config{},
			want: "StoreDir is required",
		},
		"cluster without route port": {
			cfg:  natsembed.Config{StoreDir: t.TempDir(), Cluster: &natsembed.ClusterConfig{Name: "c"}},
			want: "fixed route port",
		},
		"bad route": {
			cfg:  natsembed.Config{StoreDir: t.TempDir(), Cluster: &natsembed.ClusterConfig{Name: "c", Port: 1, Routes: []string{"http://x"}}},
			want: `route "http://x": want nats-route://host:port`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := natsembed.Start(tc.cfg)
			if err == nil {
				s.Shutdown()
				t.Fatal("Start succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestServer_restartKeepsStoreAndPort(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := mustStart(t, natsembed.Config{StoreDir: t.TempDir(), ServerName: "keep"})
	url := s.ClientURL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("ClientURL = %q, want nats://127.0.0.1:<port>", url)
	}
	if got := s.Name(); got != "keep" {
		t.Errorf("Name = %q, want keep", got)
	}
	_, js := mustConnect(t, url)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	if _, err := js.Publish(ctx, "s.one", []byte("kept")); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	s.Shutdown()
	if s.Running() {
		t.Fatal("Running after Shutdown")
	}
	if s.NATSServer() != nil {
		t.Error("NATSServer not nil after Shutdown")
	}
	s.Shutdown() // idempotent
	if err := s.Restart(); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if !s.Running() {
		t.Fatal("not Running after Restart")
	}
	if got := s.ClientURL(); got != url {
		t.Errorf("ClientURL after restart = %q, want %q", got, url)
	}
	_, js2 := mustConnect(t, url)
	stream, err := js2.Stream(ctx, "S")
	if err != nil {
		t.Fatalf("Stream after restart: %v", err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, "s.one")
	if err != nil {
		t.Fatalf("GetLastMsgForSubject: %v", err)
	}
	if string(msg.Data) != "kept" {
		t.Errorf("message after restart = %q, want kept", msg.Data)
	}
}

func TestServer_auth(t *testing.T) {
	t.Parallel()
	s := mustStart(t, natsembed.Config{StoreDir: t.TempDir(), User: "u", Password: "p"})
	if nc, err := nats.Connect(s.ClientURL(), nats.UserInfo("u", "wrong")); err == nil {
		nc.Close()
		t.Fatal("connect with a wrong password succeeded")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("wrong password error = %v, want nats.ErrAuthorization", err)
	}
	nc, _ := mustConnect(t, s.ClientURL(), nats.UserInfo("u", "p"))
	if err := nc.Flush(); err != nil {
		t.Errorf("Flush with the right password: %v", err)
	}
}

func TestCluster_replicatedStreamSurvivesMemberRestart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := natsembed.StartCluster("c3", 3, t.TempDir(), natsembed.Config{})
	if err != nil {
		t.Fatalf("StartCluster: %v", err)
	}
	t.Cleanup(c.Shutdown)
	if got := len(c.Servers()); got != 3 {
		t.Fatalf("len(Servers) = %d, want 3", got)
	}
	if c.Leader() == nil {
		t.Fatal("no JetStream leader after StartCluster")
	}
	if got := strings.Count(c.ClientURL(), ","); got != 2 {
		t.Errorf("ClientURL %q has %d commas, want 2", c.ClientURL(), got)
	}
	// Connect to a member that stays up: a message published just as its
	// server goes away may be lost, and Publish would then wait for an
	// acknowledgement until ctx ends.
	_, js := mustConnect(t, c.Servers()[0].ClientURL())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R", Subjects: []string{"r.>"}, Replicas: 3}); err != nil {
		t.Fatalf("CreateStream R3: %v", err)
	}
	if _, err := js.Publish(ctx, "r.a", []byte("1")); err != nil {
		t.Fatalf("Publish: %v", err)
	}

	c.Servers()[1].Shutdown()
	if _, err := js.Publish(ctx, "r.a", []byte("2"), jetstream.WithRetryAttempts(50), jetstream.WithRetryWait(50*time.Millisecond)); err != nil {
		t.Fatalf("Publish with one member down: %v", err)
	}
	if err := c.Restart(1); err != nil {
		t.Fatalf("Restart(1): %v", err)
	}
	if err := c.WaitJetStream(10 * time.Second); err != nil {
		t.Fatalf("WaitJetStream: %v", err)
	}
	info, err := js.Stream(ctx, "R")
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if got := info.CachedInfo().State.Msgs; got != 2 {
		t.Errorf("stream messages = %d, want 2", got)
	}
	if err := c.Restart(7); err == nil {
		t.Error("Restart(7) succeeded on a 3-member cluster")
	}
}

func TestStartCluster_errors(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		name string
		n    int
		want string
	}{
		"zero members": {name: "c", n: 0, want: "need at least one server"},
		"bad name":     {name: "a.b", n: 1, want: "not a valid token"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := natsembed.StartCluster(tc.name, tc.n, t.TempDir(), natsembed.Config{})
			if err == nil {
				c.Shutdown()
				t.Fatal("StartCluster succeeded, want error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}
