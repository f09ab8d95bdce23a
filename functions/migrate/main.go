// Command migrate is coldmove's migrate function. It consumes CloudEvents
// that request a placement change (dev.coldmove.placement.requested),
// checks them and the server, submits the ECS cold migration once, records
// the job in the ledger and publishes accepted or rejected (or completed,
// when the server already is in place) on NATS JetStream.
//
// Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it takes a structured
// CloudEvent, an EventBridge envelope or an SQS batch. Otherwise it runs
// until SIGINT or SIGTERM as a durable JetStream consumer on the request
// subject and, when COLDMOVE_HTTP_ADDR is set, an HTTP CloudEvents
// receiver. Run it with -h for its environment variables.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/logging"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// about is what -h says before listing the variables.
const about = `migrate is coldmove's migrate function. It checks placement requests
(dev.coldmove.placement.requested CloudEvents), submits the ECS cold
migration once, records the job and publishes accepted or rejected to NATS
JetStream. Under AWS Lambda (AWS_LAMBDA_RUNTIME_API set) it takes a CloudEvent,
an EventBridge envelope or an SQS batch; otherwise it consumes the request
subject (and serves HTTP CloudEvents on COLDMOVE_HTTP_ADDR) until SIGTERM.`

// run is main with its exit code, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	var cfg Config
	if code, done := config.FromArgs("migrate", about, args, stdout, stderr, &cfg); done {
		return code
	}
	log := logging.New(stdout, cfg.Level())

	ctx := context.Background()
	app, err := start(ctx, cfg, log)
	if err != nil {
		log.ErrorContext(ctx, "cannot start", "error", err)
		return 1
	}
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		a := &lambdaAdapter{h: app.handler, log: log}
		lambda.StartHandlerFunc(a.Invoke, lambda.WithEnableSIGTERM(func() { app.close() }))
		return 0
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = app.serve(ctx, cfg.HTTPAddr)
	app.close()
	if err != nil {
		log.ErrorContext(ctx, "stopped", "error", err)
		return 1
	}
	return 0
}
