package benchout_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldmove/coldmove/internal/benchout"
)

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench")
	t.Setenv(benchout.Env, dir)
	benchout.Write(t, "x", map[string]float64{"a": 1.5})
	b, err := os.ReadFile(filepath.Join(dir, "x.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]float64
	if err := json.Unmarshal(b, &got); err != nil || got["a"] != 1.5 {
		t.Fatalf("fragment %s: %v", b, err)
	}
}

func TestWrite_withoutTheVariableWritesNothing(t *testing.T) {
	t.Setenv(benchout.Env, "")
	dir := t.TempDir()
	t.Chdir(dir)
	benchout.Write(t, "x", 1)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("wrote %v", entries)
	}
}
