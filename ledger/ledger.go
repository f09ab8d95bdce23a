package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Config names the bucket and sets the ledger's policies. Start from
// [DefaultConfig]; the binaries fill it from the environment
// (internal/config names the variables).
type Config struct {
	// Bucket is the key-value bucket name.
	Bucket string
	// Replicas is the bucket's replication factor when the ledger creates
	// it (1 on a single server, 3 in a production cluster).
	Replicas int
	// History is how many revisions per key the bucket keeps when the
	// ledger creates it (1 to 64).
	History int
	// ClaimStaleAfter is how long a claim may stay in progress without an
	// update before another owner may take it over. Keep it well above the
	// longest migrate invocation.
	ClaimStaleAfter time.Duration
	// ClaimTTL is how long the claim of a finished request is kept after
	// its last write: JetStream removes it then, through the per-message
	// TTL that every write of a finished claim carries. A redelivery or
	// replay of the request that comes later is handled as a new request,
	// so keep it no shorter than the stream's duplicate window, and as long
	// as requests may be replayed. JetStream counts it in whole seconds.
	ClaimTTL time.Duration
}

// DefaultConfig returns the defaults of every setting.
func DefaultConfig() Config {
	return Config{Bucket: "coldmove_ledger", Replicas: 1, History: 1, ClaimStaleAfter: 15 * time.Minute, ClaimTTL: 720 * time.Hour}
}

// Validate reports the settings the ledger cannot work with: a bucket name
// that cannot stand in a subject, a claim staleness that is not
// positive, and a claim TTL shorter than a second, the shortest
// per-message TTL JetStream accepts. (JetStream itself refuses replicas and history it cannot
// honour when the bucket is created.)
func (c Config) Validate() error {
	var errs []error
	if !ValidBucket(c.Bucket) {
		errs = append(errs, fmt.Errorf("bucket name %q must be letters, digits, '-' or '_'", c.Bucket))
	}
	if c.ClaimStaleAfter <= 0 {
		errs = append(errs, fmt.Errorf("claim staleness must be positive, not %s", c.ClaimStaleAfter))
	}
	if c.ClaimTTL < time.Second {
		errs = append(errs, fmt.Errorf("claim TTL must be at least 1s, not %s", c.ClaimTTL))
	}
	if len(errs) > 0 {
		return fmt.Errorf("ledger: configuration: %w", errors.Join(errs...))
	}
	return nil
}

// ValidBucket reports whether s can name a key-value bucket: letters,
// digits, '-' or '_'.
func ValidBucket(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Option adjusts a [Ledger] at [Open].
type Option func(*Ledger)

// WithClock sets the ledger's clock; tests use it to control staleness,
// leases and due times. The default is [time.Now].
func WithClock(now func() time.Time) Option {
	return func(l *Ledger) { l.now = now }
}

// WithOwner sets the owner id written into claims, locks and leases. It
// must be unique per process; the default combines the host name, the
// process id and random bytes.
func WithOwner(owner string) Option {
	return func(l *Ledger) { l.owner = owner }
}

// Ledger reads and changes the records of one bucket. It is safe for
// concurrent use.
type Ledger struct {
	cfg    Config
	js     jetstream.JetStream
	stream jetstream.Stream
	// streamName is the bucket's stream; subj its subject prefix,
	// "$KV.<bucket>.".
	streamName string
	subj       string
	now        func() time.Time
	owner      string
}

// Open binds the ledger to its bucket, creating the bucket (file storage,
// the configured replicas and history, per-message TTL allowed) when it
// does not exist. An existing bucket is used as its operator tuned it,
// with one exception: if its stream does not allow per-message TTL
// (StreamConfig.AllowMsgTTL), which the claims of finished requests need
// to expire, Open updates the stream to allow it and changes nothing else.
// JetStream cannot turn that setting off again.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config, opts ...Option) (*Ledger, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Ledger{cfg: cfg, js: js, now: time.Now, streamName: "KV_" + cfg.Bucket, subj: "$KV." + cfg.Bucket + "."}
	for _, o := range opts {
		o(l)
	}
	if l.owner == "" {
		l.owner = defaultOwner()
	}
	// One look at the bucket's stream when it exists (a process start);
	// the key-value binding is made when a snapshot needs it.
	stream, err := js.Stream(ctx, l.streamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if _, err = bindBucket(ctx, js, cfg); err != nil {
			return nil, err
		}
		stream, err = js.Stream(ctx, l.streamName)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: bucket %s stream: %w", cfg.Bucket, err)
	}
	if sc := stream.CachedInfo().Config; !sc.AllowMsgTTL {
		sc.AllowMsgTTL = true
		if stream, err = js.UpdateStream(ctx, sc); err != nil {
			return nil, fmt.Errorf("ledger: bucket %s: allow per-message TTL on stream %s: %w", cfg.Bucket, l.streamName, err)
		}
	}
	l.stream = stream
	return l, nil
}

// markerTTL is how long the marker JetStream leaves when a claim expires
// stays in a bucket the ledger created. Markers only tell the bucket's
// watchers that a key expired (the ledger reads one as absence), so they
// live for the shortest time JetStream allows; a longer one would also
// lengthen shorter claim TTLs in a bucket keeping history, as JetStream
// raises a message's TTL to the marker TTL there.
const markerTTL = time.Second

func bindBucket(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil, fmt.Errorf("ledger: open bucket %s: %w", cfg.Bucket, err)
	}
	kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:         cfg.Bucket,
		Description:    "coldmove ledger: request claims, server locks, job records",
		History:        uint8(cfg.History),
		Storage:        jetstream.FileStorage,
		Replicas:       cfg.Replicas,
		LimitMarkerTTL: markerTTL,
	})
	if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		// Another process created it first, perhaps with other settings.
		kv, err = js.KeyValue(ctx, cfg.Bucket)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: create bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// Owner returns the owner id this ledger writes into claims, locks and
// leases.
func (l *Ledger) Owner() string { return l.owner }

// Bucket returns the bucket name.
func (l *Ledger) Bucket() string { return l.cfg.Bucket }

// Ping asks JetStream for the bucket's stream: it fails when the ledger
// cannot be reached.
func (l *Ledger) Ping(ctx context.Context) error {
	if _, err := l.stream.Info(ctx); err != nil {
		return fmt.Errorf("ledger: bucket %s: %w", l.cfg.Bucket, err)
	}
	return nil
}
