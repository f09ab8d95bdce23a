package main

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// ways are the three ways of tracking migrations, in report order.
var ways = []string{"naive", "backoff", "bulk"}

// sizes are the N the poll benchmarks run.
var sizes = []string{"1000", "10000", "50000"}

// assemble builds results.json from merged fragments: per N (keyed by N
// as a string) the model's calls per job and detection for the three ways
// beside the real sweep and memory, and the migrate path, Lambda figures
// and cost model.
func assemble(f fragments, runs int) (map[string]any, error) {
	model := sub(f["lifetime_model"])
	if model == nil {
		return nil, errors.New("no lifetime_model fragment: run BenchmarkLifetimeModel")
	}
	res := map[string]any{
		"machine": machine(),
		"runs":    runs,
		"notes": map[string]string{
			"calls_per_job, detect_*": "simulated time: the lifetime model (functions/poll/model_bench_test.go), the poller's own schedule and spender, 500 requests/s, 20 ms calls, 16 in flight, a 10 s tick; checked against the real poller at N=1000 (real_1000)",
			"sweep_s, heap_*, rss_*":  "wall time and memory of one steady tick of the real poll binary (bulk observation) over N outstanding jobs, simulator answering after 20 ms, COLDMOVE_API_RATE=500",
		},
	}
	for _, n := range sizes {
		m := sub(model, n)
		if m == nil {
			return nil, errors.New("lifetime_model has no N=" + n)
		}
		row := map[string]any{}
		for _, key := range []string{"calls_per_job", "detect_p50_s", "detect_p99_s"} {
			byWay := map[string]any{}
			for _, w := range ways {
				if x, ok := num(m, "ways", w, key); ok {
					byWay[w] = x
				}
			}
			row[key] = byWay
		}
		if x, ok := num(m, "sweep_ideal_s"); ok {
			row["sweep_ideal_s"] = x
		}
		if x, ok := num(m, "sweep_per_job_s"); ok {
			row["sweep_per_job_ideal_s"] = x
		}
		if x, ok := num(m, "steady_sweep_s"); ok {
			row["sweep_model_s"] = x
		}
		if s := sub(f["sweep"], n); s != nil {
			for k, v := range s {
				if k != "sweep_ideal_s" && k != "sweep_per_job_ideal_s" {
					row[k] = v
				}
			}
		}
		res[n] = row
	}
	if r := sub(f["lifetime_real"], "1000"); r != nil {
		res["real_1000"] = r
	}
	if s := f["sweep_per_job"]; s != nil {
		res["sweep_per_job"] = s
	}
	if l := sub(f["lambda"]); l != nil {
		res["lambda"] = l
		res["cold_start_ms"] = maxLeaf(sub(l, "cold_start_ms"), "median")
		res["bootstrap_mb"] = maxLeaf(sub(l, "bootstrap_mb"), "")
	}
	if m := sub(f["migrate"]); m != nil {
		res["migrate"] = m
	}
	res["cost_model"] = costModel(f)
	return res, nil
}

// maxLeaf returns the largest number among m's values (or, with key, among
// the key of m's values).
func maxLeaf(m map[string]any, key string) float64 {
	var best float64
	for _, v := range m {
		var x float64
		var ok bool
		if key == "" {
			x, ok = v.(float64)
		} else {
			x, ok = num(v, key)
		}
		if ok && x > best {
			best = x
		}
	}
	return best
}

// machine describes where the benchmarks ran.
func machine() map[string]any {
	m := map[string]any{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "cpus": runtime.NumCPU(), "go": runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
				m["memory_gb"] = float64(kb/1024/1024*10) / 10
			}
		}
	}
	return m
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
