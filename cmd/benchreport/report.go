package main

import (
	"fmt"
	"strings"
)

// report renders the results as Markdown: the machine, the table of the
// three ways per N, the sweep and memory, the migrate path and Lambda
// figures, and the cost model with its assumptions.
func report(res map[string]any) string {
	var b strings.Builder
	m := sub(res, "machine")
	fmt.Fprintf(&b, "Measured on %v (%v CPUs, %v GB), %v %v/%v; median of %v run(s).\n\n",
		m["cpu"], m["cpus"], m["memory_gb"], m["go"], m["goos"], m["goarch"], res["runs"])
	b.WriteString("| N | calls/job naive | backoff | bulk | p50 detect naive / backoff / bulk (s) | p99 detect naive / backoff / bulk (s) | sweep (s) | sweep at budget: per job / bulk ideal (s) | heap peak (MB) | RSS peak (MB) |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, n := range sizes {
		r := sub(res, n)
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |\n", n,
			f2(r, "calls_per_job", "naive"), f2(r, "calls_per_job", "backoff"), f2(r, "calls_per_job", "bulk"),
			triple(r, "detect_p50_s"), triple(r, "detect_p99_s"),
			f2(r, "sweep_s"), f2(r, "sweep_per_job_ideal_s"), f2(r, "sweep_ideal_s"),
			f2(r, "heap_peak_mb"), f2(r, "rss_peak_mb"))
	}
	b.WriteString("\nCalls per job and detection (from the job's end to its outcome) are simulated time (the lifetime model); sweep, heap and RSS are one steady tick of the real poll binary.\n")
	if r := sub(res, "real_1000"); r != nil {
		fmt.Fprintf(&b, "The same 1,000 jobs tracked for real (poller, JetStream ledger, simulator over HTTP, simulated clock): calls/job %s / %s / %s, p99 %s s.\n",
			f2(r, "ways", "naive", "calls_per_job"), f2(r, "ways", "backoff", "calls_per_job"), f2(r, "ways", "bulk", "calls_per_job"),
			strings.Join([]string{f2(r, "ways", "naive", "detect_p99_s"), f2(r, "ways", "backoff", "detect_p99_s"), f2(r, "ways", "bulk", "detect_p99_s")}, " / "))
	}
	if mg := sub(res, "migrate"); mg != nil {
		fmt.Fprintf(&b, "\nMigrate path (simulator at %s ms a call): core %s req/s, p99 %s ms; Lambda SQS adapter, batches of 10: %s req/s, p99 %s ms a request (%s ms a batch).\n",
			f2(mg, "ecs_latency_ms"), f2(mg, "core", "req_per_s"), f2(mg, "core", "p99_ms"),
			f2(mg, "sqs_batch10", "req_per_s"), f2(mg, "sqs_batch10", "p99_ms"), f2(mg, "sqs_batch10", "batch_p99_ms"))
	}
	if l := sub(res, "lambda"); l != nil {
		fmt.Fprintf(&b, "Lambda: cold start %s ms (median; %v), bootstraps up to %s MB.\n",
			f2(res, "cold_start_ms"), l["cold_start_measures"], f2(res, "bootstrap_mb"))
	}
	c := sub(res, "cost_model")
	fmt.Fprintf(&b, "\nCost model, per %v migrations outstanding together:\n\n", c["per_migrations"])
	b.WriteString("| way | ECS API calls | Lambda GB-s | invocations | state transitions | USD |\n|---|---|---|---|---|---|\n")
	for _, w := range []struct{ key, name string }{
		{"bulk_lambda", "poll, bulk observation (Lambda, 1 min tick)"},
		{"backoff_lambda", "poll, per-job backoff (Lambda, 1 min tick)"},
		{"step_functions", "Step Functions job-poller (30 s)"},
		{"naive_lambda", "naive waiter (Lambda per migration, 10 s)"},
	} {
		r := sub(c, w.key)
		usd, _ := num(r, "usd")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.4f |\n", w.name, f2(r, "api_calls"), f2(r, "gb_s"), f2(r, "invocations"), f2(r, "state_transitions"), usd)
	}
	b.WriteString("\nAssumptions:\n")
	as := sub(c, "assumptions")
	for _, k := range sortedKeys(as) {
		fmt.Fprintf(&b, "- %s: %v\n", k, as[k])
	}
	return b.String()
}

// f2 formats the number at path in v, or "–".
func f2(v any, path ...string) string {
	x, ok := num(v, path...)
	if !ok {
		return "–"
	}
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// triple formats the three ways' figure under key.
func triple(r map[string]any, key string) string {
	return f2(r, key, "naive") + " / " + f2(r, key, "backoff") + " / " + f2(r, key, "bulk")
}
