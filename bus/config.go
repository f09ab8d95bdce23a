package bus

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/config"
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
// and the request consumer. Its envconfig tags let a function embed it in
// its own configuration; the connection variables are named as the NATS
// CLI names them.
type Config struct {
	URL      string `envconfig:"NATS_URL" default:"nats://127.0.0.1:4222" desc:"NATS server URL, or several separated by commas"`
	Creds    string `envconfig:"NATS_CREDS" secret:"true" desc:"NATS credentials: a file path, or the file's content itself"`
	User     string `envconfig:"NATS_USER" desc:"NATS user name"`
	Password string `envconfig:"NATS_PASSWORD" secret:"true" desc:"NATS password"`
	CA       string `envconfig:"NATS_CA" desc:"file of CA certificates that verify the server (PEM)"`
	Cert     string `envconfig:"NATS_CERT" desc:"client certificate file for TLS authentication (PEM)"`
	Key      string `envconfig:"NATS_KEY" desc:"client private key file for TLS authentication (PEM)"`

	// Name names the connection in the server's monitoring.
	Name string `envconfig:"COLDMOVE_NATS_NAME" default:"coldmove" desc:"connection name shown by the NATS server"`
	// ConnectTimeout bounds the first connection (a cold start must fail
	// fast); ReconnectWait and MaxReconnects bound the reconnection after
	// a lost connection.
	ConnectTimeout time.Duration `envconfig:"COLDMOVE_NATS_CONNECT_TIMEOUT" default:"2s" desc:"timeout of the first connection"`
	ReconnectWait  time.Duration `envconfig:"COLDMOVE_NATS_RECONNECT_WAIT" default:"250ms" desc:"wait between reconnection attempts"`
	MaxReconnects  int           `envconfig:"COLDMOVE_NATS_MAX_RECONNECTS" default:"20" desc:"reconnection attempts before giving up (-1: forever)"`

	SubjectPrefix string `envconfig:"COLDMOVE_SUBJECT_PREFIX" default:"coldmove" desc:"first token(s) of every coldmove subject"`
	Stream        string `envconfig:"COLDMOVE_STREAM" default:"COLDMOVE" desc:"JetStream stream capturing <prefix>.>"`
	// StreamReplicas and Duplicates apply only when the stream is created.
	StreamReplicas int           `envconfig:"COLDMOVE_STREAM_REPLICAS" default:"1" desc:"replicas of the stream when it is created"`
	Duplicates     time.Duration `envconfig:"COLDMOVE_STREAM_DUPLICATES" default:"10m" desc:"duplicate window of the stream when it is created (at least 2m)"`
	ContentMode    ContentMode   `envconfig:"COLDMOVE_CONTENT_MODE" default:"binary" desc:"how events are published: binary (ce-* headers) or structured (JSON body)"`

	// Consumer names the durable request consumer. Backoff lists the
	// redelivery delays after an unacknowledged delivery (the first is
	// also how long a delivery may go without an acknowledgement or a
	// progress signal); MaxDeliver bounds the deliveries of one request.
	Consumer    string          `envconfig:"COLDMOVE_CONSUMER" default:"coldmove-migrate" desc:"durable consumer on the request subject"`
	Backoff     []time.Duration `envconfig:"COLDMOVE_CONSUMER_BACKOFF" default:"30s,1m,2m,5m" desc:"redelivery delays of unacknowledged requests"`
	MaxDeliver  int             `envconfig:"COLDMOVE_CONSUMER_MAX_DELIVER" default:"8" desc:"deliveries of one request before it is given up"`
	Concurrency int             `envconfig:"COLDMOVE_CONSUMER_CONCURRENCY" default:"4" desc:"requests handled at once by one consumer process"`
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

// GoString is [Config.String], so that %#v prints no secret either.
func (c Config) GoString() string { return c.String() }

// LogValue is [Config.String], for slog.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// DefaultConfig returns the configuration envconfig yields with no
// variables set.
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
		ContentMode:    Binary,
		Consumer:       "coldmove-migrate",
		Backoff:        []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute},
		MaxDeliver:     8,
		Concurrency:    4,
	}
}

// Check returns every problem with the values, naming the variable of
// each; it never repeats a secret.
func (c Config) Check() []config.Problem {
	var ps []config.Problem
	add := func(v, format string, args ...any) {
		ps = append(ps, config.Problem{Var: v, Problem: fmt.Sprintf(format, args...)})
	}
	if strings.TrimSpace(c.URL) == "" {
		add("NATS_URL", "is empty")
	}
	if c.Creds != "" && c.User != "" {
		add("NATS_CREDS", "is set together with NATS_USER; use one way to authenticate")
	}
	if c.Password != "" && c.User == "" {
		add("NATS_PASSWORD", "is set but NATS_USER is not")
	}
	if (c.Cert == "") != (c.Key == "") {
		add("NATS_CERT", "and NATS_KEY must be set together")
	}
	if c.ConnectTimeout <= 0 {
		add("COLDMOVE_NATS_CONNECT_TIMEOUT", "must be positive, not %s", c.ConnectTimeout)
	}
	if c.ReconnectWait <= 0 {
		add("COLDMOVE_NATS_RECONNECT_WAIT", "must be positive, not %s", c.ReconnectWait)
	}
	if c.MaxReconnects < -1 {
		add("COLDMOVE_NATS_MAX_RECONNECTS", "must be -1 (forever) or more, not %d", c.MaxReconnects)
	}
	if err := events.ValidatePrefix(c.SubjectPrefix); err != nil {
		add("COLDMOVE_SUBJECT_PREFIX", "%q must be dot-separated tokens of letters, digits, '-' or '_'", c.SubjectPrefix)
	}
	if !validName(c.Stream) {
		add("COLDMOVE_STREAM", "%q must be letters, digits, '-' or '_'", c.Stream)
	}
	if c.StreamReplicas < 1 || c.StreamReplicas > 5 {
		add("COLDMOVE_STREAM_REPLICAS", "must be 1 to 5, not %d", c.StreamReplicas)
	}
	if c.Duplicates < MinDuplicates {
		add("COLDMOVE_STREAM_DUPLICATES", "must be at least %s, not %s", MinDuplicates, c.Duplicates)
	}
	if c.ContentMode != Binary && c.ContentMode != Structured {
		add("COLDMOVE_CONTENT_MODE", "must be binary or structured, not %q", c.ContentMode)
	}
	if !validName(c.Consumer) {
		add("COLDMOVE_CONSUMER", "%q must be letters, digits, '-' or '_'", c.Consumer)
	}
	if len(c.Backoff) == 0 {
		add("COLDMOVE_CONSUMER_BACKOFF", "must list at least one delay")
	}
	for _, d := range c.Backoff {
		if d < time.Millisecond {
			add("COLDMOVE_CONSUMER_BACKOFF", "delay %s is shorter than 1ms", d)
			break
		}
	}
	if c.MaxDeliver < 1 || c.MaxDeliver < len(c.Backoff) {
		add("COLDMOVE_CONSUMER_MAX_DELIVER", "must be at least 1 and at least the number of backoff delays (%d), not %d", len(c.Backoff), c.MaxDeliver)
	}
	if c.Concurrency < 1 {
		add("COLDMOVE_CONSUMER_CONCURRENCY", "must be at least 1, not %d", c.Concurrency)
	}
	return ps
}

// Validate returns the problems of [Config.Check] as one *config.Error, or
// nil.
func (c Config) Validate() error {
	if ps := c.Check(); len(ps) > 0 {
		return &config.Error{Problems: ps}
	}
	return nil
}

// validName reports whether s can name a stream or a consumer.
func validName(s string) bool {
	return events.IsValidToken(s)
}
