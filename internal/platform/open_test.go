package platform_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/internal/platform"
	"github.com/coldmove/coldmove/ledger"
)

func TestOpen(t *testing.T) {
	t.Parallel()
	ns := natstest.Run(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	bc := bus.DefaultConfig()
	bc.URL = ns.ClientURL()
	b, l, err := platform.Open(t.Context(), bc, ledger.DefaultConfig(), log)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.JetStream().Stream(t.Context(), "COLDMOVE"); err != nil {
		t.Errorf("stream: %v", err)
	}
	if _, err := ns.JetStream().KeyValue(t.Context(), l.Bucket()); err != nil {
		t.Errorf("ledger bucket: %v", err)
	}
	platform.Drain(b, time.Second, log)
	if !b.Conn().IsClosed() {
		t.Error("connection open after Drain")
	}
	if strings.Contains(logs.String(), "duplicate window") {
		t.Errorf("warned about a default stream: %s", logs.String())
	}
}

func TestOpen_warnsAboutAShortDuplicateWindow(t *testing.T) {
	t.Parallel()
	ns := natstest.Run(t)
	if _, err := ns.JetStream().CreateStream(t.Context(), jetstream.StreamConfig{
		Name: "COLDMOVE", Subjects: []string{"coldmove.>"}, Duplicates: 30 * time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	bc := bus.DefaultConfig()
	bc.URL = ns.ClientURL()
	b, _, err := platform.Open(t.Context(), bc, ledger.DefaultConfig(), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(t.Context())
	var first map[string]any
	if err := json.Unmarshal(bytes.SplitN(logs.Bytes(), []byte("\n"), 2)[0], &first); err != nil || first["level"] != "WARN" {
		t.Errorf("first log line = %s", logs.String())
	}
}

func TestOpen_unreachable(t *testing.T) {
	t.Parallel()
	bc := bus.DefaultConfig()
	bc.URL = "nats://user:pa55word@127.0.0.1:1"
	bc.ConnectTimeout = 200 * time.Millisecond
	_, _, err := platform.Open(t.Context(), bc, ledger.DefaultConfig(), slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)))
	if err == nil || strings.Contains(err.Error(), "pa55word") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("err = %v: want one naming the URL without the password", err)
	}
}
