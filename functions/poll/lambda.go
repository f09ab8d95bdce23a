package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

// drainTimeout bounds draining NATS on SIGTERM; Lambda sends SIGKILL
// about half a second after SIGTERM.
const drainTimeout = 400 * time.Millisecond

// handle is the Lambda handler: one tick per scheduled invocation, the
// summary as the result.
func (a *app) handle(ctx context.Context, raw json.RawMessage) (Summary, error) {
	t, err := ParseTrigger(raw)
	if err != nil {
		a.log.ErrorContext(ctx, "bad trigger", "error", err)
		return Summary{}, err
	}
	return a.tick(ctx, t)
}

// serveLambda runs the Lambda runtime loop; it does not return. SIGTERM,
// which Lambda sends before shutting the environment down, drains NATS
// and ends the process.
func (a *app) serveLambda() {
	lambda.StartHandlerFunc(a.handle, lambda.WithEnableSIGTERM(func() {
		a.drain(drainTimeout)
		a.exit(0)
	}))
}
