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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/logging"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main with its exit code, for tests.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stdout, "migrate: coldmove's migrate function. It is configured by the environment:")
		fmt.Fprintln(stdout)
		_ = config.Usage(stdout, &Config{})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintf(stderr, "migrate: %v\n(run with -h for the list of variables)\n", err)
		return 2
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
