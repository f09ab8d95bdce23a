package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
)

// Key prefixes of the record kinds.
const (
	claimPrefix = "req."
	lockPrefix  = "lock."
	jobPrefix   = "job."
)

// maxIDLen bounds identifiers used in keys.
const maxIDLen = 128

// ValidID reports whether id can be used as a server or job identifier in
// a key: 1 to 128 ASCII letters, digits, '-' or '_', starting with a letter
// or digit. ECS server ids (UUIDs) and job ids (hex) qualify.
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '-' || c == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

func checkID(kind, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: %s %q (want 1-%d letters, digits, '-' or '_')", ErrInvalidID, kind, id, maxIDLen)
	}
	return nil
}

// RequestKey returns the claim key of the request with this CloudEvent
// source and id: "req." followed by the first 128 bits of the SHA-256 of
// the length-prefixed source and the id, in hex. Different (source, id)
// pairs never share an input, so they share a key only by a hash
// collision.
func RequestKey(source, id string) string {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(source)))
	h.Write(n[:])
	h.Write([]byte(source))
	h.Write([]byte(id))
	sum := h.Sum(nil)
	return claimPrefix + hex.EncodeToString(sum[:16])
}

func lockKey(serverID string) string { return lockPrefix + serverID }

func jobKey(jobID string) string { return jobPrefix + jobID }
