// Command migrate is coldmove's migrate function. It consumes CloudEvents
// that request a placement change (dev.coldmove.placement.requested),
// checks them and the server, submits the ECS cold migration once, records
// the job in the ledger for the poll function and publishes accepted, or
// rejected (or completed, when the server already is in place), on NATS
// JetStream; the poll function publishes the outcome of the job.
//
// Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it takes a structured
// CloudEvent, an EventBridge envelope or an SQS batch. Otherwise it runs
// until SIGINT or SIGTERM as a durable JetStream consumer on the request
// subject and, when COLDMOVE_HTTP_ADDR is set, an HTTP CloudEvents
// receiver. Run it with -h for its environment variables.
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

// about is what -h says before listing the variables.
const about = `migrate is coldmove's migrate function. It checks placement requests
(dev.coldmove.placement.requested CloudEvents), submits the ECS cold
migration once (or, for a request with power steps, the stop of a running
server first), records the job for the poll function and publishes accepted
(progressed for a stop), or rejected (completed when the server already is
in place), to NATS JetStream; poll publishes the job's outcome. Under AWS Lambda
(AWS_LAMBDA_RUNTIME_API set) it takes a CloudEvent, an EventBridge envelope
or an SQS batch; otherwise it consumes the request subject (and serves HTTP
CloudEvents on COLDMOVE_HTTP_ADDR) until SIGTERM.`

// run is main with its exit code, for tests: 0 after -h or a clean stop,
// 2 for a bad command line or configuration, 1 when it cannot start or
// stops on an error.
func run(args []string, stdout, stderr io.Writer) int {
	cfg := defaultConfig()
	return platform.Main("migrate", about, args, stdout, stderr, cfg.spec(), &cfg.Shared,
		func(ctx context.Context, log *slog.Logger) (platform.Service[json.RawMessage, any], error) {
			return start(ctx, cfg, log)
		})
}
