package ecsclient

import (
	"fmt"
	"strings"
)

// Ids are checked before they reach a URL or a body: a malformed id is a
// caller's bug or hostile input, and must not turn into a different request
// ("../", "?", "#", "%2F" …). Path segments are escaped as well, as a second
// line of defence.

// maxLooseIDLen bounds ids checked by the liberal rule (job and dedicated
// host ids).
const maxLooseIDLen = 64

// ValidateProjectID returns an error matching [ErrInvalidID] unless id is a
// project id: 32 hexadecimal characters.
func ValidateProjectID(id string) error {
	if len(id) != 32 || !allHex(id) {
		return invalidID("project", id, "want 32 hexadecimal characters")
	}
	return nil
}

// ValidateServerID returns an error matching [ErrInvalidID] unless id is a
// server id: a UUID in its 8-4-4-4-12 hexadecimal form.
func ValidateServerID(id string) error {
	if !isUUID(id) {
		return invalidID("server", id, "want a UUID")
	}
	return nil
}

// ValidateJobID returns an error matching [ErrInvalidID] unless id looks
// like a job id. Real job ids are 32 hexadecimal characters (older ones
// UUIDs); the check is deliberately looser so that a new format does not
// break tracking: 1 to 64 characters from A-Z a-z 0-9 - _ ., starting with
// a letter or digit, and never containing "..".
func ValidateJobID(id string) error {
	return validateLoose("job", id)
}

// ValidateDedicatedHostID returns an error matching [ErrInvalidID] unless id
// looks like a dedicated host id (a UUID in practice), by the same liberal
// rule as [ValidateJobID].
func ValidateDedicatedHostID(id string) error {
	return validateLoose("dedicated host", id)
}

func validateLoose(kind, id string) error {
	switch {
	case id == "":
		return invalidID(kind, id, "empty")
	case len(id) > maxLooseIDLen:
		return invalidID(kind, id, fmt.Sprintf("longer than %d characters", maxLooseIDLen))
	case !isAlnum(id[0]):
		return invalidID(kind, id, "must start with a letter or digit")
	case strings.Contains(id, ".."):
		return invalidID(kind, id, `contains ".."`)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return invalidID(kind, id, fmt.Sprintf("character %q not allowed", c))
		}
	}
	return nil
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

// invalidID describes the bad id (quoted and shortened, so hostile input
// cannot flood a log line) and wraps ErrInvalidID.
func invalidID(kind, id, why string) error {
	shown := id
	if len(shown) > 80 {
		shown = shown[:80] + "…"
	}
	return fmt.Errorf("%w: %s id %q: %s", ErrInvalidID, kind, shown, why)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
