// Package secret holds credentials so that they cannot be printed by
// accident.
//
// A [String] is an ordinary string underneath (convert it, or call
// [String.Reveal], where the value must be used), but every way of showing
// it — fmt's verbs including %v, %+v, %#v and %q, log/slog and
// encoding/json — shows "[redacted]" instead, or "" when it is empty. A
// struct whose secret fields have this type can be printed, logged and
// encoded as it is.
package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// String is a secret string: a key, a password, a token.
type String string

// Redacted is what every printed form of a non-empty [String] shows.
const Redacted = "[redacted]"

// Reveal returns the secret itself, for the one place that uses it.
func (s String) Reveal() string { return string(s) }

// String returns [Redacted], or "" for an empty secret.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString is [String.String], so that %#v shows no secret either.
func (s String) GoString() string { return strconv.Quote(s.String()) }

// Format implements [fmt.Formatter]: every verb prints [String.String]
// (%q quoted).
func (s String) Format(f fmt.State, verb rune) {
	out := s.String()
	switch {
	case verb == 'q':
		out = strconv.Quote(out)
	case verb == 'v' && f.Flag('#'):
		out = s.GoString()
	}
	_, _ = f.Write([]byte(out))
}

// LogValue implements [slog.LogValuer].
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes [String.String].
func (s String) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText encodes [String.String], so text encoders show no secret
// either. (encoding/json writes string-kinded map keys as they are: never
// key a map by a secret.)
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Masked shows the first four characters of a long secret followed by
// "***", so that an operator can tell access keys apart; shorter ones are
// hidden entirely.
func (s String) Masked() string {
	switch {
	case s == "":
		return ""
	case len(s) < 12:
		return "***"
	}
	return string(s[:4]) + "***"
}
