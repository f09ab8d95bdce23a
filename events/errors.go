package events

import (
	"errors"
	"strings"
)

// The kinds of decoding failure; a *[DecodeError] wraps exactly one of them,
// so callers can test with errors.Is.
var (
	// ErrNotCloudEvent: the message is not a CloudEvent at all (not a JSON
	// object, or no specversion).
	ErrNotCloudEvent = errors.New("not a CloudEvent")
	// ErrSpecVersion: a CloudEvent of a specversion other than 1.0.
	ErrSpecVersion = errors.New("unsupported CloudEvents specversion")
	// ErrInvalidEvent: a CloudEvent 1.0 whose attributes are malformed or
	// missing.
	ErrInvalidEvent = errors.New("invalid CloudEvent")
	// ErrUnsupportedType: a valid CloudEvent of a type the decoder does not
	// take.
	ErrUnsupportedType = errors.New("unsupported event type")
	// ErrInvalidPayload: the event's data is not a valid payload.
	ErrInvalidPayload = errors.New("invalid payload")
	// ErrDataTooLarge: the event's data is over [MaxDataSize], or the whole
	// message is too large to read.
	ErrDataTooLarge = errors.New("data too large")
)

// DecodeError is the error of every failed decode. It says why (Kind, one
// of the sentinels above), which reject reason answers it, field by field
// what is wrong, and what could be read of the request so that the
// rejection can still be correlated.
type DecodeError struct {
	// Kind is one of ErrNotCloudEvent, ErrSpecVersion, ErrInvalidEvent,
	// ErrUnsupportedType, ErrInvalidPayload or ErrDataTooLarge.
	Kind error
	// Reason is the reject reason for this failure.
	Reason RejectReason
	// Detail says, in words, what was found.
	Detail string
	// Problems lists the field problems, when there are any.
	Problems []Problem
	// Origin is what could be read of the request (possibly nothing but a
	// digest of the raw bytes), also when it failed for its type or an
	// attribute: its ServerID is set only to a valid server id, its other
	// strings are clipped to 256 bytes.
	Origin Origin
}

// Error says what failed, with every field problem.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("events: ")
	b.WriteString(e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if len(e.Problems) > 0 {
		b.WriteString(": ")
		b.WriteString((&ValidationError{Problems: e.Problems}).Error()[len("invalid: "):])
	}
	return b.String()
}

// Unwrap returns the kind, so errors.Is(err, ErrInvalidPayload) works.
func (e *DecodeError) Unwrap() error { return e.Kind }

// Rejection returns the rejection that answers this failure.
func (e *DecodeError) Rejection() Rejection {
	msg := e.Kind.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return Rejection{Reason: e.Reason, Message: msg, Problems: e.Problems}
}

func reasonOf(kind error) RejectReason {
	switch kind {
	case ErrUnsupportedType:
		return RejectUnsupportedType
	case ErrInvalidPayload:
		return RejectInvalidPayload
	case ErrDataTooLarge:
		return RejectPayloadTooLarge
	default:
		return RejectInvalidEvent
	}
}

func decodeErr(kind error, o Origin, detail string, ps []Problem) *DecodeError {
	return &DecodeError{Kind: kind, Reason: reasonOf(kind), Detail: detail, Problems: ps, Origin: o}
}
