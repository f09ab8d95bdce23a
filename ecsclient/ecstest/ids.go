package ecstest

import (
	"fmt"
	"strconv"
)

// newHexID returns 32 lower-case hex digits from the seeded PRNG, the shape of
// job and project ids; s.mu must be held.
func (s *Simulator) newHexID() string {
	return fmt.Sprintf("%016x%016x", s.rng.Uint64(), s.rng.Uint64())
}

// newUUID returns a version-4 style UUID from the seeded PRNG, the shape of
// server and dedicated host ids; s.mu must be held.
func (s *Simulator) newUUID() string {
	a, b := s.rng.Uint64(), s.rng.Uint64()
	a = a&^0xf000 | 0x4000               // version 4
	b = b&^(0xc<<60) | 0x8<<60           // RFC 4122 variant
	h := fmt.Sprintf("%016x%016x", a, b) // 32 hex digits
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newRequestID returns a fresh 32-hex request id without taking any lock.
func (s *Simulator) newRequestID() string {
	n := s.reqSeq.Add(1)
	var buf [32]byte
	copy(buf[:16], s.reqPrefix)
	h := strconv.AppendUint(buf[16:16], n, 16)
	// left-pad the counter to 16 hex digits
	pad := 16 - len(h)
	copy(buf[16+pad:], h)
	for i := 16; i < 16+pad; i++ {
		buf[i] = '0'
	}
	return string(buf[:])
}
