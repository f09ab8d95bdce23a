package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The report of two runs holds the keys the issue names, medians of the
// runs, a chart that is well-formed SVG and a Markdown table.
func TestRun(t *testing.T) {
	out := t.TempDir()
	var md strings.Builder
	if err := run(&md, out, []string{"testdata/run1", "testdata/run2"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	for _, n := range sizes {
		for _, path := range [][]string{
			{n, "calls_per_job", "naive"}, {n, "calls_per_job", "backoff"}, {n, "calls_per_job", "bulk"},
			{n, "detect_p99_s", "naive"}, {n, "detect_p99_s", "bulk"}, {n, "sweep_s"}, {n, "sweep_ideal_s"},
		} {
			if _, ok := num(res, path...); !ok {
				t.Errorf("results.json has no number at %v", path)
			}
		}
	}
	if got, _ := num(res, "1000", "sweep_s"); got != (0.37+0.41)/2 {
		t.Errorf("sweep_s at 1000 = %v, want the median of the runs", got)
	}
	if _, ok := num(res, "cost_model", "bulk_lambda", "api_calls"); !ok {
		t.Error("no cost model")
	}
	svg, err := os.ReadFile(filepath.Join(out, "chart.svg"))
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("chart.svg: %v", err)
		}
	}
	if !strings.Contains(string(svg), "<polyline") {
		t.Error("chart has no lines")
	}
	if !strings.Contains(md.String(), "| 50000 |") || !strings.Contains(md.String(), "Assumptions:") {
		t.Errorf("report:\n%s", md.String())
	}
}

func TestRun_noFragments(t *testing.T) {
	if err := run(io.Discard, t.TempDir(), []string{t.TempDir()}); err == nil || !strings.Contains(err.Error(), "no fragments") {
		t.Fatalf("run on an empty directory: %v", err)
	}
}
