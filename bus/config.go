package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/secret"
)

// MinDuplicates is the shortest duplicate window coldmove relies on: a
// re-publish within it is dropped by JetStream.
const MinDuplicates = 2 * time.Minute

// ContentMode is how a CloudEvent is laid out on a NATS message.
type ContentMode string

// The content modes.
const (
	// Binary puts the attributes in ce-* headers and the data in the body.
	Binary ContentMode = "binary"
	// Structured puts the whole event, as JSON, in the body.
	Structured ContentMode = "structured"
)

// Config is the NATS connection and the names and policies of the stream
// and the request consumer. Start from [DefaultConfig]; the binaries fill it
// from the environment (internal/config names the variables).
type Config struct {
	// URL is the server URL, or several separated by commas. It may carry
	// user information; [Config.String] and every error redact it.
	URL string
	// Creds is a credentials file path, or the file's content itself.
	Creds    secret.String
	User     string
	Password secret.String
	// CA, Cert and Key are PEM files: the CA certificates that verify the
	// server, and the client certificate and key for TLS authentication.
	CA, Cert, Key string

	// Name names the connection in the server's monitoring.
	Name string
	// ConnectTimeout bounds the first connection (a cold start must fail
	// fast); ReconnectWait and MaxReconnects (-1: forever) bound the
	// reconnection after a lost connection.
	ConnectTimeout time.Duration
	ReconnectWait  time.Duration
	MaxReconnects  int

	// SubjectPrefix is the first token(s) of every subject.
	SubjectPrefix string
	// Stream captures <prefix>.>; StreamReplicas, Duplicates, MaxAge and
	// MaxBytes apply only when the stream is created. MaxAge is how long
	// the stream keeps an event (0: for ever) and must not be shorter
	// than Duplicates, which JetStream refuses; MaxBytes bounds the
	// stream's size, discarding the oldest events first (-1: no bound).
	Stream         string
	StreamReplicas int
	Duplicates     time.Duration
	MaxAge         time.Duration
	MaxBytes       int64
	// ContentMode is how events are published.
	ContentMode ContentMode

	// Consumer names the durable request consumer. Backoff lists the
	// redelivery delays after an unacknowledged delivery (the first is
	// also how long a delivery may go without an acknowledgement or a
	// progress signal); MaxDeliver bounds the deliveries of one request;
	// Concurrency is how many requests one process handles at once.
	Consumer    string
	Backoff     []time.Duration
	MaxDeliver  int
	Concurrency int
}

// DefaultConfig returns the defaults of every setting.
func DefaultConfig() Config {
	return Config{
		URL:            "nats://127.0.0.1:4222",
		Name:           "coldmove",
		ConnectTimeout: 2 * time.Second,
		ReconnectWait:  250 * time.Millisecond,
		MaxReconnects:  20,
		SubjectPrefix:  events.DefaultPrefix,
		Stream:         "COLDMOVE",
		StreamReplicas: 1,
		Duplicates:     10 * time.Minute,
		MaxAge:         720 * time.Hour,
		MaxBytes:       -1,
		ContentMode:    Binary,
		Consumer:       "coldmove-migrate",
		Backoff:        []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute},
		MaxDeliver:     8,
		Concurrency:    4,
	}
}

// String describes the configuration without any secret: the URL with
// its user information redacted, and only whether credentials are set.
func (c Config) String() string {
	auth := "none"
	switch {
	case c.Creds != "":
		auth = "creds"
	case c.User != "":
		auth = "user " + c.User
	}
	return fmt.Sprintf("nats(url=%s, auth=%s, tls=%t, prefix=%s, stream=%s, mode=%s)",
		RedactURL(c.URL), auth, c.CA != "" || c.Cert != "", c.SubjectPrefix, c.Stream, c.ContentMode)
}

// GoString is [Config.String], so that %#v shows no user information of
// the URL either.
func (c Config) GoString() string { return c.String() }

// LogValue is [Config.String], for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// MarshalJSON encodes [Config.String], so that a configuration holding a
// bus.Config can be encoded (or logged by a JSON handler, which encodes
// nested values) without the URL's user information.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.String()) }

// Validate reports the settings the bus cannot work with: no URL, names
// that cannot stand in a subject or a stream, stream limits JetStream
// would refuse (a negative MaxAge, a duplicate window longer than a
// MaxAge other than 0, a MaxBytes other than -1 or positive), an unknown
// content mode, no redelivery backoff.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.URL) == "" {
		errs = append(errs, errors.New("URL is empty"))
	}
	if err := events.ValidatePrefix(c.SubjectPrefix); err != nil {
		errs = append(errs, err)
	}
	for _, n := range []struct{ what, name string }{{"stream", c.Stream}, {"consumer", c.Consumer}} {
		if !ValidName(n.name) {
			errs = append(errs, fmt.Errorf("%s name %q must be letters, digits, '-' or '_'", n.what, n.name))
		}
	}
	switch {
	case c.MaxAge < 0:
		errs = append(errs, fmt.Errorf("stream max age must not be negative (0: unlimited), not %s", c.MaxAge))
	case c.MaxAge != 0 && c.Duplicates > c.MaxAge:
		errs = append(errs, fmt.Errorf("stream max age %s is shorter than the duplicate window %s", c.MaxAge, c.Duplicates))
	}
	if c.MaxBytes != -1 && c.MaxBytes <= 0 {
		errs = append(errs, fmt.Errorf("stream max bytes must be -1 (unlimited) or positive, not %d", c.MaxBytes))
	}
	if c.ContentMode != Binary && c.ContentMode != Structured {
		errs = append(errs, fmt.Errorf("content mode %q must be binary or structured", c.ContentMode))
	}
	if len(c.Backoff) == 0 {
		errs = append(errs, errors.New("backoff lists no delay"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("bus: configuration: %w", errors.Join(errs...))
	}
	return nil
}

// ValidName reports whether s can name a stream or a consumer: 1 to 128
// letters, digits, '-' or '_'.
func ValidName(s string) bool { return events.IsValidToken(s) }
