package main

import "math"

// Prices and shapes the cost model assumes; the report prints them.
const (
	// lambdaGBs is AWS Lambda's arm64 price per GB-second (us-east-1).
	lambdaGBs = 0.0000133334
	// lambdaRequest is its price per request.
	lambdaRequest = 0.20 / 1e6
	// sfnTransition is Step Functions' Standard price per state transition.
	sfnTransition = 0.025 / 1000
	// pollMemoryGB is the poll function's memory in template.yaml (256 MB).
	pollMemoryGB = 0.25
	// waiterMemoryGB is the memory a naive waiter hosted in Lambda would take.
	waiterMemoryGB = 0.125
	// sfnPoll is the Step Functions poller's interval, in seconds.
	sfnPoll = 30.0
	// sfnPerPoll is its transitions per poll (Wait, the ShowJob task,
	// Choice) and sfnFixed those of one execution besides (start, submit,
	// publish the outcome, end).
	sfnPerPoll, sfnFixed = 3.0, 4.0
	// sfnTaskSeconds is the ShowJob task's Lambda duration.
	sfnTaskSeconds = 0.1
	// meanMigrationS is the mean migration time of the model's
	// distribution (uniform between 1 and 60 minutes).
	meanMigrationS = 30.5 * 60
)

// costModel prices tracking 1,000 migrations, outstanding together, the
// three ways, plus a Step Functions job-poller. The API calls are the
// model's (at N=1000 for a 60 s Lambda tick, and the 10 s figures for the
// long-running modes); GB-seconds are the poll function's ticks over the
// hour the migrations take at its measured tick time.
func costModel(f fragments) map[string]any {
	const n = 1000.0
	tickS, _ := num(f["sweep"], "1000", "sweep_s")
	lambdaTicks := 60.0 // rate(1 minute) over the hour the longest migration takes
	bulk60, _ := num(f["lifetime_model"], "lambda_tick_60s", "ways", "bulk", "calls_per_job")
	backoff60, _ := num(f["lifetime_model"], "lambda_tick_60s", "ways", "backoff", "calls_per_job")
	naive, _ := num(f["lifetime_model"], "1000", "ways", "naive", "calls_per_job")
	// A tick of the 1,000 jobs takes the measured sweep, plus its share of
	// ShowJob calls at 20 ms, 16 in flight.
	tickOf := func(callsPerJob float64) float64 { return tickS + callsPerJob*n/lambdaTicks*0.020/16 }
	bulkGBs := lambdaTicks * tickOf(bulk60) * pollMemoryGB
	backoffGBs := lambdaTicks * tickOf(backoff60) * pollMemoryGB
	sfnPolls := math.Ceil(meanMigrationS / sfnPoll)
	sfnTransitions := n * (sfnPolls*sfnPerPoll + sfnFixed)
	sfnLambdaGBs := n * sfnPolls * sfnTaskSeconds * 0.128
	waiterGBs := n * meanMigrationS * waiterMemoryGB
	usd := func(gbs, requests, transitions float64) float64 {
		return math.Round((gbs*lambdaGBs+requests*lambdaRequest+transitions*sfnTransition)*1e5) / 1e5
	}
	return map[string]any{
		"per_migrations": n,
		"assumptions": map[string]any{
			"lambda_arm64_usd_per_gb_s":      lambdaGBs,
			"lambda_usd_per_request":         lambdaRequest,
			"step_functions_usd_per_transit": sfnTransition,
			"poll_memory_gb":                 pollMemoryGB,
			"poll_schedule":                  "rate(1 minute): 60 ticks over the hour",
			"poll_tick_s":                    tickS,
			"poll_tick":                      "the measured steady tick at N=1000 plus its ShowJob calls at 20 ms, 16 in flight",
			"mean_migration_s":               meanMigrationS,
			"step_functions":                 "one Standard execution per migration, polling every 30 s: 3 transitions a poll (Wait, ShowJob task, Choice) + 4; the task a 100 ms, 128 MB Lambda",
			"naive_waiter":                   "one 128 MB Lambda per migration, alive for the whole migration (sleeping between ShowJobs every 10 s)",
		},
		"bulk_lambda": map[string]any{
			"api_calls": math.Round(bulk60 * n), "gb_s": round3(bulkGBs), "invocations": lambdaTicks,
			"usd": usd(bulkGBs, lambdaTicks, 0),
		},
		"backoff_lambda": map[string]any{
			"api_calls": math.Round(backoff60 * n), "gb_s": round3(backoffGBs), "invocations": lambdaTicks,
			"usd": usd(backoffGBs, lambdaTicks, 0),
		},
		"step_functions": map[string]any{
			"api_calls": n * sfnPolls, "state_transitions": sfnTransitions, "gb_s": round3(sfnLambdaGBs),
			"invocations": n * sfnPolls, "usd": usd(sfnLambdaGBs, n*sfnPolls, sfnTransitions),
		},
		"naive_lambda": map[string]any{
			"api_calls": math.Round(naive * n), "gb_s": waiterGBs, "invocations": n,
			"usd": usd(waiterGBs, n, 0),
		},
	}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
