// Package benchout writes a benchmark's figures as a JSON fragment for
// `make bench` to gather: into the directory COLDMOVE_BENCH_OUT names, when
// it is set.
package benchout

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Env is the variable naming the directory fragments are written to.
const Env = "COLDMOVE_BENCH_OUT"

// Write stores v as dir/name.json, indented, when COLDMOVE_BENCH_OUT names
// dir; without it, it does nothing. A failure fails tb.
func Write(tb testing.TB, name string, v any) {
	tb.Helper()
	dir := os.Getenv(Env)
	if dir == "" {
		return
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatalf("benchout: %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatalf("benchout: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
		tb.Fatalf("benchout: %v", err)
	}
}
