package platform

import (
	"context"
	"io"
	"log/slog"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/internal/logging"
)

// Service is what a function builds once at start-up and serves: under
// Lambda one invocation at a time, otherwise long-running.
type Service[In, Out any] interface {
	// Bus is the NATS connection to drain when the process stops.
	Bus() *bus.Bus
	// Invoke handles one Lambda invocation.
	Invoke(ctx context.Context, in In) (Out, error)
	// Serve runs until ctx ends (SIGINT or SIGTERM).
	Serve(ctx context.Context) error
}

// Main is a function's main, the same for both: it reads the command line
// and the configuration (spec, whose shared part is *shared), builds the
// service once with start, and serves it in the runtime it finds (see
// [Detect]) with one shutdown path. Before the configuration is read, the
// runtime sets the default of NATS reconnection ([Runtime.MaxReconnects]).
// It returns the exit code: 0 after -h or a clean stop, 2 for a bad command
// line or configuration, 1 when the service cannot start or stops on an
// error.
func Main[In, Out any](name, about string, args []string, stdout, stderr io.Writer, spec config.Spec, shared *config.Shared,
	start func(ctx context.Context, log *slog.Logger) (Service[In, Out], error)) int {
	rt := Detect()
	shared.Bus.MaxReconnects = rt.MaxReconnects()
	if code, done := config.FromArgs(name, about, args, stdout, stderr, spec); done {
		return code
	}
	log := logging.New(stdout, shared.LogLevel)
	ctx := context.Background()
	svc, err := start(ctx, log)
	if err != nil {
		log.ErrorContext(ctx, "cannot start", "error", err)
		return 1
	}
	log.InfoContext(ctx, name+" ready", "runtime", rt.String())
	if rt == Lambda {
		ServeLambda(svc.Bus(), log, svc.Invoke)
		return 0
	}
	if err := ServeLongRunning(ctx, svc.Bus(), log, svc.Serve); err != nil {
		log.ErrorContext(ctx, "stopped", "error", err)
		return 1
	}
	return 0
}
