package events

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Placement is a decoded, validated [TypeRequested] event: the request and
// the CloudEvent attributes coldmove keeps from it. Its deadline may have
// passed: [Placement.CheckDeadline] judges it.
type Placement struct {
	// ID and Source are the request's CloudEvent id and source; together
	// they identify the request ([Placement.Key]).
	ID     string
	Source string
	// Time is the request's CloudEvent time, zero when it had none.
	Time time.Time
	// TraceParent and TraceState are the W3C trace context extensions:
	// both empty when traceparent is malformed, TraceState empty when it
	// alone is malformed.
	TraceParent string
	TraceState  string
	// Request is the validated payload.
	Request
}

// Key returns the request key: a digest of the CloudEvent source and id,
// the same however often the request is delivered.
func (p *Placement) Key() string { return RequestKey(p.Source, p.ID) }

// Origin returns what every outcome of this request copies from it.
func (p *Placement) Origin() Origin {
	return Origin{
		RequestID:     p.ID,
		RequestSource: p.Source,
		ServerID:      p.ServerID,
		ProjectID:     p.ProjectID,
		Region:        p.Region,
		Target:        p.Target,
		TraceParent:   p.TraceParent,
		TraceState:    p.TraceState,
	}
}

// Origin is what an outcome event copies from the request it answers: the
// correlation fields of its payload and the trace context extensions.
type Origin struct {
	RequestID     string
	RequestSource string
	ServerID      string
	ProjectID     string
	Region        string
	Target        *Target
	TraceParent   string
	TraceState    string
	// Power, for a request that asked for power steps, is what coldmove
	// did: the terminal events carry it. Leave it nil on the others.
	Power *PowerOutcome
	// RawDigest identifies a message that could not be read well enough to
	// have an id and source (set by the decoder); it keeps the outcome ids
	// of different unreadable messages apart.
	RawDigest string
}

// Key returns the request key of the origin ([RequestKey]), or, for a
// message without id and source, a key derived from its [Origin.RawDigest].
func (o Origin) Key() string {
	if o.RequestID == "" && o.RequestSource == "" && o.RawDigest != "" {
		return "raw-" + o.RawDigest
	}
	return RequestKey(o.RequestSource, o.RequestID)
}

// RequestKey returns the key of the request with the given CloudEvent
// source and id: 32 hex characters of SHA-256 over both. It is safe to use
// in a NATS subject or a KV key.
func RequestKey(source, id string) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// rawDigest returns a short digest of raw message bytes.
func rawDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
