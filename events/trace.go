package events

import (
	"regexp"
	"slices"
	"strings"
)

// The W3C Trace Context extensions (https://www.w3.org/TR/trace-context/)
// a request may carry and every outcome carries on.
var traceParentRE = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// maxTraceState bounds the tracestate carried on: the 512 characters W3C
// asks propagators to keep at least. A longer one is dropped whole.
const maxTraceState = 512

// maxTraceStateMembers is the most list-members a tracestate may have.
const maxTraceStateMembers = 32

// traceContext is the one rule for the trace context coldmove carries from
// a request onto its outcomes and into the ledger: it returns parent and
// state as they are when both are well formed; the parent alone when the
// state is not (an invalid tracestate is dropped, as W3C propagators do)
// or has no list-members; and nothing when the parent is not, for a
// tracestate means nothing without its traceparent.
func traceContext(parent, state string) (string, string) {
	if !validTrace(parent) {
		return "", ""
	}
	if n, ok := traceStateMembers(state); !ok || n == 0 {
		return parent, ""
	}
	return parent, state
}

// validTrace reports whether a traceparent is well formed and not the
// all-zero (invalid) trace or span id.
func validTrace(tp string) bool {
	return traceParentRE.MatchString(tp) && tp[:2] != "ff" &&
		tp[3:35] != "00000000000000000000000000000000" && tp[36:52] != "0000000000000000"
}

// traceStateMembers counts the list-members of the tracestate ts, and
// reports whether ts is one to carry on: at most maxTraceState characters
// holding a comma-separated list of at most 32 list-members key=value,
// each with optional spaces or tabs around it; empty members are allowed
// and not counted. Keys are unique and follow [validTraceKey], values
// [validTraceValue] (https://www.w3.org/TR/trace-context/#tracestate-header).
func traceStateMembers(ts string) (n int, ok bool) {
	if len(ts) > maxTraceState {
		return 0, false
	}
	var keys []string // at most 32: a linear search is cheaper than a map
	for m := range strings.SplitSeq(ts, ",") {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		k, v, ok := strings.Cut(m, "=")
		if !ok || !validTraceKey(k) || !validTraceValue(v) || slices.Contains(keys, k) || len(keys) == maxTraceStateMembers {
			return 0, false
		}
		keys = append(keys, k)
	}
	return len(keys), true
}

// validTraceKey reports whether k is a tracestate key: a simple key
// [a-z][a-z0-9_-*/]{0,255}, or a multi-tenant key tenant@system with
// tenant [a-z0-9][a-z0-9_-*/]{0,240} and system [a-z][a-z0-9_-*/]{0,13}.
func validTraceKey(k string) bool {
	if tenant, system, multi := strings.Cut(k, "@"); multi {
		return traceKeyPart(tenant, 241, true) && traceKeyPart(system, 14, false)
	}
	return traceKeyPart(k, 256, false)
}

// traceKeyPart reports whether s is 1 to max characters of
// [a-z0-9_-*/], starting with a lower-case letter, or also with a digit
// when digitFirst.
func traceKeyPart(s string, max int, digitFirst bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	if c := s[0]; !('a' <= c && c <= 'z' || digitFirst && '0' <= c && c <= '9') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '*' || c == '/') {
			return false
		}
	}
	return true
}

// validTraceValue reports whether v is a tracestate value: 1 to 256
// printable ASCII characters (0x20 to 0x7E) other than ',' and '=', not
// ending in a space (W3C's value = 0*255(chr) nblk-chr).
func validTraceValue(v string) bool {
	if v == "" || len(v) > 256 || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e || c == ',' || c == '=' {
			return false
		}
	}
	return true
}
