package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"

	"github.com/coldmove/coldmove/internal/platform"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run reads the configuration, builds the clients once and serves: the
// Lambda runtime loop when AWS_LAMBDA_RUNTIME_API is set, else ticks on
// an interval until SIGTERM or SIGINT. It returns the exit code: 0 after
// -h or a clean stop, 2 for a bad command line or configuration, 1 when
// the clients cannot be built.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := defaultConfig()
	return platform.Main("poll", about, args, stdout, stderr, cfg.spec(), &cfg.Shared,
		func(ctx context.Context, log *slog.Logger) (platform.Service[json.RawMessage, Summary], error) {
			return start(ctx, cfg, log)
		})
}

// about is what -h says before listing the variables.
const about = `poll tracks coldmove's outstanding ECS migration jobs to their outcomes. Each
tick leases the due job records of the ledger, asks ECS how each job is doing
and publishes dev.coldmove.placement.completed, failed or timedout to NATS
JetStream, once per job. Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it runs
one tick per scheduled invocation; otherwise it ticks every
COLDMOVE_POLL_INTERVAL until SIGTERM or SIGINT.`
