package benchout

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envDir is the environment variable naming the fragments' directory.
const envDir = "COLDMOVE_BENCH_OUT"

// Write writes v, encoded as indented JSON, to the file name+".json" in
// the directory COLDMOVE_BENCH_OUT names, replacing any earlier fragment
// of that name; it does nothing when the variable is unset or empty, or
// when tb has already failed (a failed benchmark's figures are not
// figures). name is a bare file name without extension, such as
// "migrate". The file is written whole or not at all (a temporary file
// renamed into place), so a reader never sees half a fragment. Any error
// fails tb.
func Write(tb testing.TB, name string, v any) {
	tb.Helper()
	dir := os.Getenv(envDir)
	if dir == "" || tb.Failed() {
		return
	}
	path, err := write(dir, name, v)
	if err != nil {
		tb.Fatalf("benchout: %v", err)
	}
	tb.Logf("benchout: wrote %s", path)
}

// write writes the fragment name into dir and returns its path.
func write(dir, name string, v any) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("fragment name %q: must be a bare file name", name)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode fragment %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("%s=%s: %w", envDir, dir, err)
	}
	path := filepath.Join(dir, name+".json")
	tmp, err := os.CreateTemp(dir, "."+name+"-*.json")
	if err != nil {
		return "", fmt.Errorf("write fragment %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write fragment %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write fragment %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("write fragment %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write fragment %s: %w", path, err)
	}
	return path, nil
}
