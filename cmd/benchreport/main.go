// Command benchreport gathers the JSON fragments `make bench` writes
// (package internal/benchout) into dist/bench/results.json, draws the
// chart of calls per job and p99 detection against N for the three ways
// of tracking migrations (dist/bench/chart.svg), and writes the table and
// the cost model as Markdown (dist/bench/results.md) and to stdout.
//
// Usage:
//
//	benchreport [-out dist/bench] fragments-dir...
//
// With several fragment directories (runs of the same benchmarks), every
// figure is the median of the runs.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	out := flag.String("out", "dist/bench", "where results.json, chart.svg and results.md are written")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: benchreport [-out dir] fragments-dir...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(os.Stdout, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

// run reads the fragments of dirs, and writes the results into out and
// the Markdown report to w.
func run(w io.Writer, out string, dirs []string) error {
	runs := make([]fragments, 0, len(dirs))
	for _, d := range dirs {
		f, err := readFragments(d)
		if err != nil {
			return err
		}
		runs = append(runs, f)
	}
	merged := median(runs)
	res, err := assemble(merged, len(dirs))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeJSON(out+"/results.json", res); err != nil {
		return err
	}
	if err := os.WriteFile(out+"/chart.svg", chart(res), 0o644); err != nil {
		return err
	}
	md := report(res)
	if err := os.WriteFile(out+"/results.md", []byte(md), 0o644); err != nil {
		return err
	}
	_, err = io.WriteString(w, md)
	return err
}
