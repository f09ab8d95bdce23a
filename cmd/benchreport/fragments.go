package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fragments are one run's fragments, by name (the file name without
// .json), each decoded as generic JSON.
type fragments map[string]any

// readFragments reads every *.json file of dir.
func readFragments(dir string) (fragments, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no fragments in %s: run the benchmarks with COLDMOVE_BENCH_OUT=%s", dir, dir)
	}
	f := fragments{}
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		if name == "results" {
			continue // an earlier report, not a fragment
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("fragment %s: %w", p, err)
		}
		f[name] = v
	}
	return f, nil
}

// median merges runs: every number is the median of the runs that have
// it; anything else is the first run's.
func median(runs []fragments) fragments {
	vs := make([]any, len(runs))
	for i, r := range runs {
		vs[i] = map[string]any(r)
	}
	m, _ := medianOf(vs).(map[string]any)
	return fragments(m)
}

func medianOf(vs []any) any {
	switch first := vs[0].(type) {
	case map[string]any:
		out := map[string]any{}
		for k := range first {
			var sub []any
			for _, v := range vs {
				if m, ok := v.(map[string]any); ok {
					if x, ok := m[k]; ok {
						sub = append(sub, x)
					}
				}
			}
			out[k] = medianOf(sub)
		}
		return out
	case float64:
		var xs []float64
		for _, v := range vs {
			if x, ok := v.(float64); ok {
				xs = append(xs, x)
			}
		}
		slices.Sort(xs)
		n := len(xs)
		if n%2 == 1 {
			return xs[n/2]
		}
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return vs[0]
}

// num reads the number at path in v, or returns NaN-free zero and false.
func num(v any, path ...string) (float64, bool) {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return 0, false
		}
		v = m[k]
	}
	x, ok := v.(float64)
	return x, ok
}

// sub reads the object at path in v.
func sub(v any, path ...string) map[string]any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
