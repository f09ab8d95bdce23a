package stacktest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// SoakEnv names the variable that switches the harnesses (crash points,
// NATS trouble) to their long forms: COLDMOVE_SOAK=1, as `make soak` sets
// it.
const SoakEnv = "COLDMOVE_SOAK"

// SeedsEnv names the variable that replays chosen seeds, e.g.
// COLDMOVE_SEEDS=7,12: a failure names its seed.
const SeedsEnv = "COLDMOVE_SEEDS"

// Soak reports whether the long forms run.
func Soak() bool {
	v := os.Getenv(SoakEnv)
	return v != "" && v != "0" && v != "false"
}

// Seeds returns the seeds a harness runs: those COLDMOVE_SEEDS lists, or
// else 1…short, or 1…long in the long form.
func Seeds(tb testing.TB, short, long int) []uint64 {
	tb.Helper()
	if v := os.Getenv(SeedsEnv); v != "" {
		var seeds []uint64
		for f := range strings.SplitSeq(v, ",") {
			s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				tb.Fatalf("%s=%q: %v", SeedsEnv, v, err)
			}
			seeds = append(seeds, s)
		}
		return seeds
	}
	n := short
	if Soak() {
		n = long
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}

// Scale returns short, or long in the long form.
func Scale(short, long int) int {
	if Soak() {
		return long
	}
	return short
}
