package benchout

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWrite_fragment(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bench") // created by Write
	t.Setenv(envDir, dir)
	Write(t, "migrate", map[string]any{"core": map[string]any{"req_per_s": 312.5, "requests": 480}})
	Write(t, "migrate", map[string]any{"ecs_latency_ms": 20}) // replaces the first

	b, err := os.ReadFile(filepath.Join(dir, "migrate.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if diff := cmp.Diff(map[string]any{"ecs_latency_ms": 20.0}, got); diff != "" {
		t.Errorf("fragment (-want +got):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d files, want only migrate.json", len(entries))
	}
}

func TestWrite_unsetWritesNothing(t *testing.T) {
	t.Setenv(envDir, "")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	Write(t, "nothing", 1)
	if _, err := os.Stat(filepath.Join(wd, "nothing.json")); !os.IsNotExist(err) {
		t.Errorf("a fragment was written with %s unset (%v)", envDir, err)
	}
}

func TestWrite_errors(t *testing.T) {
	t.Parallel()
	aFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		dir, name string
		v         any
		want      string
	}{
		"path in name":  {dir: t.TempDir(), name: "../x", v: 1, want: "bare file name"},
		"empty name":    {dir: t.TempDir(), name: "", v: 1, want: "bare file name"},
		"not encodable": {dir: t.TempDir(), name: "nan", v: math.NaN(), want: "encode fragment nan"},
		"dir is a file": {dir: aFile, name: "x", v: 1, want: envDir + "=" + aFile},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := write(tc.dir, tc.name, tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("write(%q, %q) error = %v, want one containing %q", tc.dir, tc.name, err, tc.want)
			}
		})
	}
}
