package platform

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/coldmove/coldmove/bus"
)

// Runtime is where a binary runs.
type Runtime int

// The runtimes.
const (
	// LongRunning is a process that runs until SIGINT or SIGTERM: a
	// JetStream consumer, an HTTP receiver, a ticker.
	LongRunning Runtime = iota + 1
	// Lambda is the AWS Lambda runtime loop (AWS_LAMBDA_RUNTIME_API set).
	Lambda
)

// Detect returns the runtime of this process from its environment.
func Detect() Runtime {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		return Lambda
	}
	return LongRunning
}

// String names the runtime.
func (r Runtime) String() string {
	if r == Lambda {
		return "lambda"
	}
	return "long-running"
}

// DrainTimeout is how long a stopping process may spend draining NATS:
// 400 ms under Lambda, which sends SIGKILL about half a second after
// SIGTERM, and 5 s for a long-running process.
func (r Runtime) DrainTimeout() time.Duration {
	if r == Lambda {
		return 400 * time.Millisecond
	}
	return 5 * time.Second
}

// MaxReconnects is how often a lost NATS connection is retried before
// the process gives up: under Lambda a short budget (20, a quarter second
// apart), so that an invocation fails and is retried rather than hangs; a
// long-running process keeps reconnecting for as long as it runs (-1), so
// that a NATS restart does not take it down. COLDMOVE_NATS_MAX_RECONNECTS
// overrides it.
func (r Runtime) MaxReconnects() int {
	if r == Lambda {
		return 20
	}
	return -1
}

// ServeLambda runs the Lambda runtime loop with handler; it does not
// return. SIGTERM, which Lambda sends before it shuts the environment
// down, drains NATS within [Lambda.DrainTimeout] and ends the process.
func ServeLambda[In, Out any](b *bus.Bus, log *slog.Logger, handler func(context.Context, In) (Out, error)) {
	lambda.StartHandlerFunc(handler, lambda.WithEnableSIGTERM(func() {
		Drain(b, Lambda.DrainTimeout(), log)
		os.Exit(0)
	}))
}

// ServeLongRunning runs serve until it returns or SIGINT or SIGTERM
// cancels its context, then drains NATS within
// [LongRunning.DrainTimeout]. It returns serve's error.
func ServeLongRunning(ctx context.Context, b *bus.Bus, log *slog.Logger, serve func(context.Context) error) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := serve(ctx)
	log.InfoContext(ctx, "stopping")
	Drain(b, LongRunning.DrainTimeout(), log)
	return err
}
