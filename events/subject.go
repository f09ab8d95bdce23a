package events

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the default first token(s) of every coldmove subject.
const DefaultPrefix = "coldmove"

// InvalidToken replaces, in a subject, an id that is not a valid token.
const InvalidToken = "_invalid"

// maxToken bounds a subject token's length.
const maxToken = 128

// IsValidToken reports whether s can stand as one token of a coldmove
// subject: 1 to 128 characters, each an ASCII letter, digit, '-' or '_'.
// This is stricter than NATS requires, so that no wildcard, separator,
// space or control character ever reaches a subject.
func IsValidToken(s string) bool {
	if s == "" || len(s) > maxToken {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// ValidatePrefix checks a subject prefix: one or more valid tokens joined
// by dots, for example "coldmove" or "prod.coldmove".
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return fmt.Errorf("events: subject prefix is empty")
	}
	for tok := range strings.SplitSeq(prefix, ".") {
		if !IsValidToken(tok) {
			return fmt.Errorf("events: subject prefix %q: token %q must be 1-%d letters, digits, '-' or '_'", prefix, tok, maxToken)
		}
	}
	return nil
}

// RequestSubject returns the subject of a request for serverID:
// <prefix>.placement.requested.<server_id>.
func RequestSubject(prefix, serverID string) string {
	return prefix + ".placement.requested." + token(serverID)
}

// RequestFilter returns the subject filter matching every request:
// <prefix>.placement.requested.*.
func RequestFilter(prefix string) string { return prefix + ".placement.requested.*" }

// StreamSubjects returns the filter of everything coldmove publishes under
// prefix: <prefix>.>.
func StreamSubjects(prefix string) string { return prefix + ".>" }

// OutcomeSubject returns the subject of an outcome of eventType for
// serverID: <prefix>.placement.<accepted|rejected|completed|failed|timedout>.<server_id>.
// It works for any coldmove type; a type that is not coldmove's yields the
// token _invalid in its place.
func OutcomeSubject(prefix, eventType, serverID string) string {
	kind, ok := kinds[eventType]
	if !ok {
		kind = InvalidToken
	}
	return prefix + ".placement." + kind + "." + token(serverID)
}

func token(id string) string {
	if IsValidToken(id) {
		return id
	}
	return InvalidToken
}
