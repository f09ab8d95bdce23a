package config

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/ledger"
)

// Shared is the configuration every coldmove binary draws from: the ECS
// API, NATS with the stream, the ledger, and the log level. Each binary
// lists the groups of variables it reads ([Shared.ECSVars] and the
// others); the settings of groups it does not read keep their defaults.
type Shared struct {
	ECS    ecspool.Config
	Bus    bus.Config
	Ledger ledger.Config
	// LogLevel is the level of the JSON log.
	LogLevel slog.Level
}

// DefaultShared returns the defaults of every shared setting.
func DefaultShared() Shared {
	return Shared{
		ECS:      ecspool.Config{Rate: 10},
		Bus:      bus.DefaultConfig(),
		Ledger:   ledger.DefaultConfig(),
		LogLevel: slog.LevelInfo,
	}
}

// ECSVars are the ECS API's variables, named as the official SDK and
// design.md name them, and the request budget.
func (s *Shared) ECSVars() Spec {
	c := &s.ECS
	return Spec{Vars: []Var{
		{Name: "HUAWEICLOUD_SDK_AK", Desc: "access key (AK) for SDK-HMAC-SHA256 signing", Required: true,
			Value: &c.Credentials.AccessKey, Check: notEmptySecret(&c.Credentials.AccessKey)},
		{Name: "HUAWEICLOUD_SDK_SK", Desc: "secret key (SK)", Required: true,
			Value: &c.Credentials.SecretKey, Check: notEmptySecret(&c.Credentials.SecretKey)},
		{Name: "HUAWEICLOUD_SDK_SECURITY_TOKEN", Desc: "security token, for temporary credentials", Value: &c.Credentials.SecurityToken},
		{Name: "HUAWEICLOUD_SDK_PROJECT_ID", Desc: "default project id (32 hexadecimal characters)", Required: true,
			Value: &c.ProjectID, Check: id(ids.Project, &c.ProjectID)},
		{Name: "COLDMOVE_REGION", Desc: "default region, e.g. cn-north-4", Required: true,
			Value: &c.Region, Check: id(ids.Region, &c.Region)},
		{Name: "COLDMOVE_ECS_ENDPOINT", Desc: "ECS endpoint overriding https://ecs.{region}.myhuaweicloud.com for every region (the simulator, a proxy)",
			Value: &c.Endpoint, Check: endpoint(&c.Endpoint)},
		{Name: "COLDMOVE_API_RATE", Desc: "ECS requests per second this process may send, below the API gateway quota (0: no limit)",
			Value: &c.Rate, Check: func() string {
				if c.Rate < 0 {
					return fmt.Sprintf("must not be negative, not %g", c.Rate)
				}
				return ""
			}},
	}}
}

// NATSVars are the NATS connection's variables, named as the NATS CLI
// names them, and coldmove's connection settings.
func (s *Shared) NATSVars() Spec {
	c := &s.Bus
	return Spec{Vars: []Var{
		{Name: "NATS_URL", Desc: "NATS server URL, or several separated by commas", Value: &c.URL, Check: func() string {
			if strings.TrimSpace(c.URL) == "" {
				return "is empty"
			}
			return ""
		}},
		{Name: "NATS_CREDS", Desc: "NATS credentials: a file path, or the file's content itself", Value: &c.Creds},
		{Name: "NATS_USER", Desc: "NATS user name", Value: &c.User},
		{Name: "NATS_PASSWORD", Desc: "NATS password", Value: &c.Password},
		{Name: "NATS_CA", Desc: "file of CA certificates that verify the server (PEM)", Value: &c.CA},
		{Name: "NATS_CERT", Desc: "client certificate file for TLS authentication (PEM)", Value: &c.Cert},
		{Name: "NATS_KEY", Desc: "client private key file for TLS authentication (PEM)", Value: &c.Key},
		{Name: "COLDMOVE_NATS_NAME", Desc: "connection name shown by the NATS server", Value: &c.Name},
		{Name: "COLDMOVE_NATS_CONNECT_TIMEOUT", Desc: "timeout of the first connection", Value: &c.ConnectTimeout, Check: Positive(&c.ConnectTimeout)},
		{Name: "COLDMOVE_NATS_RECONNECT_WAIT", Desc: "wait between reconnection attempts", Value: &c.ReconnectWait, Check: Positive(&c.ReconnectWait)},
		{Name: "COLDMOVE_NATS_MAX_RECONNECTS", Desc: "reconnection attempts before giving up (-1: forever)", Value: &c.MaxReconnects, Check: func() string {
			if c.MaxReconnects < -1 {
				return fmt.Sprintf("must be -1 (forever) or more, not %d", c.MaxReconnects)
			}
			return ""
		}},
	}, Checks: []func() []Problem{func() []Problem {
		var ps []Problem
		if c.Creds != "" && c.User != "" {
			ps = append(ps, Problem{Var: "NATS_CREDS", Problem: "is set together with NATS_USER; use one way to authenticate"})
		}
		if c.Password != "" && c.User == "" {
			ps = append(ps, Problem{Var: "NATS_PASSWORD", Problem: "is set but NATS_USER is not"})
		}
		if (c.Cert == "") != (c.Key == "") {
			ps = append(ps, Problem{Var: "NATS_CERT", Problem: "and NATS_KEY must be set together"})
		}
		return ps
	}}}
}

// StreamVars are the names of the subjects and the stream, and how the
// stream is created and events published.
func (s *Shared) StreamVars() Spec {
	c := &s.Bus
	return Spec{Vars: []Var{
		{Name: "COLDMOVE_SUBJECT_PREFIX", Desc: "first token(s) of every coldmove subject", Value: &c.SubjectPrefix,
			Check: name(&c.SubjectPrefix, func(p string) bool { return events.ValidatePrefix(p) == nil }, "dot-separated tokens of letters, digits, '-' or '_'")},
		{Name: "COLDMOVE_STREAM", Desc: "JetStream stream capturing <prefix>.>", Value: &c.Stream,
			Check: name(&c.Stream, bus.ValidName, "letters, digits, '-' or '_'")},
		{Name: "COLDMOVE_STREAM_REPLICAS", Desc: "replicas of the stream when it is created", Value: &c.StreamReplicas, Check: Between(&c.StreamReplicas, 1, 5)},
		{Name: "COLDMOVE_STREAM_DUPLICATES", Desc: "duplicate window of the stream when it is created (at least 2m)", Value: &c.Duplicates,
			Check: AtLeast(&c.Duplicates, bus.MinDuplicates)},
		{Name: "COLDMOVE_STREAM_MAX_AGE", Desc: "how long the stream keeps an event, when the stream is created (0: unlimited; else at least the duplicate window)",
			Value: &c.MaxAge, Check: func() string {
				if c.MaxAge < 0 {
					return fmt.Sprintf("must not be negative (0: unlimited), not %s", c.MaxAge)
				}
				return ""
			}},
		{Name: "COLDMOVE_STREAM_MAX_BYTES", Desc: "size bound of the stream in bytes, oldest events discarded first, when the stream is created (-1: unlimited)",
			Value: &c.MaxBytes, Check: func() string {
				if c.MaxBytes != -1 && c.MaxBytes <= 0 {
					return fmt.Sprintf("must be -1 (unlimited) or positive, not %d", c.MaxBytes)
				}
				return ""
			}},
		{Name: "COLDMOVE_CONTENT_MODE", Desc: "how events are published: binary (ce-* headers) or structured (JSON body)", Value: &c.ContentMode,
			Check: func() string {
				if c.ContentMode != bus.Binary && c.ContentMode != bus.Structured {
					return fmt.Sprintf("must be binary or structured, not %q", c.ContentMode)
				}
				return ""
			}},
	}, Checks: []func() []Problem{func() []Problem {
		// JetStream refuses a duplicate window longer than the max age.
		if c.MaxAge != 0 && c.MaxAge < c.Duplicates {
			return []Problem{{Var: "COLDMOVE_STREAM_MAX_AGE", Problem: fmt.Sprintf(
				"must be 0 (unlimited) or at least the duplicate window COLDMOVE_STREAM_DUPLICATES (%s), not %s", c.Duplicates, c.MaxAge)}}
		}
		return nil
	}}}
}

// LedgerVars are the ledger bucket's name, how it is created, and how
// long the claims of finished requests are kept. The claim TTL is checked
// against the stream's duplicate window (of [Shared.StreamVars], or its
// default).
func (s *Shared) LedgerVars() Spec {
	c := &s.Ledger
	return Spec{Vars: []Var{
		{Name: "COLDMOVE_LEDGER_BUCKET", Desc: "JetStream key-value bucket holding claims, locks and jobs", Value: &c.Bucket,
			Check: name(&c.Bucket, ledger.ValidBucket, "letters, digits, '-' or '_'")},
		{Name: "COLDMOVE_LEDGER_REPLICAS", Desc: "replicas of the ledger bucket when it is created", Value: &c.Replicas, Check: Between(&c.Replicas, 1, 5)},
		{Name: "COLDMOVE_LEDGER_HISTORY", Desc: "revisions per key the ledger bucket keeps when it is created", Value: &c.History, Check: Between(&c.History, 1, 64)},
		{Name: "COLDMOVE_CLAIM_TTL", Desc: "how long the claim of a finished request is kept after its last write, expired by JetStream (never shorter than the duplicate window)",
			Value: &c.ClaimTTL, Check: Positive(&c.ClaimTTL)},
	}, Checks: []func() []Problem{func() []Problem {
		if c.ClaimTTL < s.Bus.Duplicates {
			return []Problem{{Var: "COLDMOVE_CLAIM_TTL", Problem: fmt.Sprintf(
				"must not be shorter than the duplicate window COLDMOVE_STREAM_DUPLICATES (%s), not %s", s.Bus.Duplicates, c.ClaimTTL)}}
		}
		return nil
	}}}
}

// ClaimVars are the policy of request claims, which only migrate takes.
func (s *Shared) ClaimVars() Spec {
	c := &s.Ledger
	return Spec{Vars: []Var{
		{Name: "COLDMOVE_CLAIM_STALE_AFTER", Desc: "age after which an in-progress request claim may be taken over (keep it above the longest invocation)",
			Value: &c.ClaimStaleAfter, Check: Positive(&c.ClaimStaleAfter)},
	}}
}

// ConsumerVars are the durable request consumer's, which only the
// long-running migrate uses.
func (s *Shared) ConsumerVars() Spec {
	c := &s.Bus
	return Spec{Vars: []Var{
		{Name: "COLDMOVE_CONSUMER", Desc: "durable consumer on the request subject", Value: &c.Consumer,
			Check: name(&c.Consumer, bus.ValidName, "letters, digits, '-' or '_'")},
		{Name: "COLDMOVE_CONSUMER_BACKOFF", Desc: "redelivery delays of unacknowledged requests", Value: &c.Backoff, Check: func() string {
			if len(c.Backoff) == 0 {
				return "must list at least one delay"
			}
			for _, d := range c.Backoff {
				if d < 1e6 {
					return fmt.Sprintf("delay %s is shorter than 1ms", d)
				}
			}
			return ""
		}},
		{Name: "COLDMOVE_CONSUMER_MAX_DELIVER", Desc: "deliveries of one request before it is given up", Value: &c.MaxDeliver, Check: func() string {
			if c.MaxDeliver < 1 || c.MaxDeliver < len(c.Backoff) {
				return fmt.Sprintf("must be at least 1 and at least the number of backoff delays (%d), not %d", len(c.Backoff), c.MaxDeliver)
			}
			return ""
		}},
		{Name: "COLDMOVE_CONSUMER_CONCURRENCY", Desc: "requests handled at once by one consumer process", Value: &c.Concurrency, Check: Between(&c.Concurrency, 1, 256)},
	}}
}

// LogVars is the log level.
func (s *Shared) LogVars() Spec {
	return Spec{Vars: []Var{
		{Name: "COLDMOVE_LOG_LEVEL", Desc: "log level: debug, info, warn or error (logs are JSON)", Value: &s.LogLevel},
	}}
}

// notEmptySecret checks that a required secret is not set to "".
func notEmptySecret[S ~string](v *S) func() string {
	return func() string {
		if *v == "" {
			return "must not be empty"
		}
		return ""
	}
}

// endpoint checks an ECS endpoint as the client will.
func endpoint(s *string) func() string {
	return func() string {
		if *s == "" {
			return ""
		}
		if err := ecsclient.CheckEndpoint(*s); err != nil {
			return "is not usable: " + err.Error()
		}
		return ""
	}
}
