package ids

import (
	"errors"
	"fmt"
)

// Kind is a kind of identifier.
type Kind int

// The identifier kinds.
const (
	// Project is a Huawei Cloud project id: 32 hexadecimal characters.
	Project Kind = iota + 1
	// Server is an ECS server id: a UUID in its 8-4-4-4-12 hexadecimal form.
	Server
	// DedicatedHost is a dedicated host (DeH) id: a UUID, like a server id.
	DedicatedHost
	// Job is an ECS job id. Real ones are 32 hexadecimal characters (older
	// ones UUIDs); the rule is looser so that a new format does not break
	// tracking: 1 to 64 letters, digits, '-' or '_', starting with a letter
	// or digit.
	Job
	// Region is a region name such as cn-north-4, ap-southeast-1 or eu-de:
	// 2 to 32 lower-case letters, digits and single hyphens, starting with a
	// letter and not ending with a hyphen.
	Region
)

// MaxJobLen and MaxRegionLen bound job ids and region names.
const (
	MaxJobLen    = 64
	MaxRegionLen = 32
)

// ErrInvalid is matched by every error [Kind.Check] returns.
var ErrInvalid = errors.New("invalid identifier")

// Error is an identifier that breaks the rule of its kind.
type Error struct {
	Kind Kind
	// Value is the identifier as given, shortened to 80 bytes so that
	// hostile input cannot flood a log line.
	Value string
}

// Error names the kind, the value and the rule.
func (e *Error) Error() string {
	return fmt.Sprintf("invalid %s %q: want %s", e.Kind, e.Value, e.Kind.Rule())
}

// Is reports whether target is [ErrInvalid].
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// String names the kind: "project id", "server id", …
func (k Kind) String() string {
	switch k {
	case Project:
		return "project id"
	case Server:
		return "server id"
	case DedicatedHost:
		return "dedicated host id"
	case Job:
		return "job id"
	case Region:
		return "region"
	}
	return fmt.Sprintf("ids.Kind(%d)", int(k))
}

// Rule says in words what an identifier of the kind must be, to follow
// "must be" in a message.
func (k Kind) Rule() string {
	switch k {
	case Project:
		return "32 hexadecimal characters"
	case Server, DedicatedHost:
		return "a UUID (8-4-4-4-12 hexadecimal digits)"
	case Job:
		return "1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
	case Region:
		return "a region name such as cn-north-4: at most 32 lower-case letters, digits and single hyphens"
	}
	return "nothing (unknown kind)"
}

// Valid reports whether s follows the rule of the kind.
func (k Kind) Valid(s string) bool {
	switch k {
	case Project:
		return len(s) == 32 && allHex(s)
	case Server, DedicatedHost:
		return isUUID(s)
	case Job:
		return validJob(s)
	case Region:
		return validRegion(s)
	}
	return false
}

// Check returns nil when s follows the rule of the kind, else an *[Error]
// matching [ErrInvalid].
func (k Kind) Check(s string) error {
	if k.Valid(s) {
		return nil
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return &Error{Kind: k, Value: s}
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

func validJob(s string) bool {
	if len(s) == 0 || len(s) > MaxJobLen || !isAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func validRegion(s string) bool {
	if len(s) < 2 || len(s) > MaxRegionLen || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
