package bus_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/natstest"
)

func TestEnsureStream_creates(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	b, err := bus.New(s.Conn(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.EnsureStream(t.Context())
	if err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	want := bus.StreamStatus{Name: "COLDMOVE", Created: true, Subjects: []string{"coldmove.>"},
		Duplicates: 10 * time.Minute, MaxAge: 720 * time.Hour, MaxBytes: -1, Replicas: 1, Storage: jetstream.FileStorage}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	if st.DuplicatesTooShort() {
		t.Error("DuplicatesTooShort on a new stream")
	}
	again, err := b.EnsureStream(t.Context())
	if err != nil {
		t.Fatalf("EnsureStream again: %v", err)
	}
	want.Created = false
	if diff := cmp.Diff(want, again); diff != "" {
		t.Errorf("second status (-want +got):\n%s", diff)
	}
}

// TestEnsureStream_retention checks that the stream is created with the
// configured limits, as JetStream stores them.
func TestEnsureStream_retention(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		maxAge   time.Duration
		maxBytes int64
	}{
		"defaults":  {maxAge: bus.DefaultConfig().MaxAge, maxBytes: bus.DefaultConfig().MaxBytes},
		"bounded":   {maxAge: 2 * time.Hour, maxBytes: 64 << 20},
		"unlimited": {maxAge: 0, maxBytes: -1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := natstest.Run(t)
			cfg := testConfig()
			cfg.MaxAge, cfg.MaxBytes = tc.maxAge, tc.maxBytes
			b, err := bus.New(s.Conn(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			st, err := b.EnsureStream(t.Context())
			if err != nil {
				t.Fatalf("EnsureStream: %v", err)
			}
			if st.MaxAge != tc.maxAge || st.MaxBytes != tc.maxBytes {
				t.Errorf("status max age %s, max bytes %d; want %s, %d", st.MaxAge, st.MaxBytes, tc.maxAge, tc.maxBytes)
			}
			got := mustStream(t, s.JetStream(), "COLDMOVE").CachedInfo().Config
			if got.MaxAge != tc.maxAge || got.MaxBytes != tc.maxBytes || got.Discard != jetstream.DiscardOld {
				t.Errorf("stream max age %s, max bytes %d, discard %s; want %s, %d, old",
					got.MaxAge, got.MaxBytes, got.Discard, tc.maxAge, tc.maxBytes)
			}
		})
	}
}

func TestEnsureStream_leavesTunedStreamAlone(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	ctx := t.Context()
	tuned := jetstream.StreamConfig{
		Name:        "COLDMOVE",
		Description: "tuned by the operator",
		Subjects:    []string{"coldmove.>", "audit.>"},
		Storage:     jetstream.FileStorage,
		MaxAge:      time.Hour,
		MaxMsgs:     5000,
		Duplicates:  30 * time.Second,
	}
	if _, err := s.JetStream().CreateStream(ctx, tuned); err != nil {
		t.Fatal(err)
	}
	before := mustStream(t, s.JetStream(), "COLDMOVE").CachedInfo().Config
	b, err := bus.New(s.Conn(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.EnsureStream(ctx)
	if err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	if st.Created || !st.DuplicatesTooShort() || st.Duplicates != 30*time.Second {
		t.Errorf("status %+v: want existing, duplicates 30s, too short", st)
	}
	after := mustStream(t, s.JetStream(), "COLDMOVE").CachedInfo().Config
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("EnsureStream changed the tuned stream (-before +after):\n%s", diff)
	}
}

func TestEnsureStream_rejectsStreamNotCapturingSubjects(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	ctx := t.Context()
	if _, err := s.JetStream().CreateStream(ctx, jetstream.StreamConfig{Name: "COLDMOVE", Subjects: []string{"coldmove.placement.accepted.*", "other.>"}}); err != nil {
		t.Fatal(err)
	}
	b, err := bus.New(s.Conn(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.EnsureStream(ctx)
	if err == nil {
		t.Fatal("EnsureStream accepted a stream that does not capture coldmove.>")
	}
	for _, want := range []string{"does not capture coldmove.>", "coldmove.placement.accepted.*, other.>"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestEnsureStream_prefixAndReplicas(t *testing.T) {
	t.Parallel()
	c := natstest.RunCluster(t, 3)
	cfg := testConfig()
	cfg.SubjectPrefix, cfg.Stream, cfg.StreamReplicas = "prod.coldmove", "PROD_COLDMOVE", 3
	b, err := bus.New(c.Conn(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := b.EnsureStream(t.Context())
	if err != nil {
		t.Fatalf("EnsureStream R3: %v", err)
	}
	if diff := cmp.Diff([]string{"prod.coldmove.>"}, st.Subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	if st.Replicas != 3 {
		t.Errorf("replicas = %d, want 3", st.Replicas)
	}
	res, err := b.Publish(t.Context(), acceptedEvent(t, "req-r3"))
	if err != nil {
		t.Fatalf("Publish on R3: %v", err)
	}
	if res.Stream != "PROD_COLDMOVE" || !strings.HasPrefix(res.Subject, "prod.coldmove.placement.accepted.") {
		t.Errorf("publish result %+v", res)
	}
}
