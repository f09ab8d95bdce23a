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
const about = `poll tracks coldmove's outstanding ECS jobs to their outcomes. Each tick lists
the servers of the outstanding jobs (ListServersDetails, 100 a call), asks
ShowJob about the jobs whose server settled or changed, sends the later calls
of requests with power steps (the move once the stop is verified, the start
once the move ended), and publishes dev.coldmove.placement.progressed,
accepted, completed, failed or timedout to NATS JetStream, once each. Under AWS
Lambda (AWS_LAMBDA_RUNTIME_API set) it runs one tick per scheduled invocation;
otherwise it ticks every COLDMOVE_POLL_INTERVAL until SIGTERM or SIGINT.`
