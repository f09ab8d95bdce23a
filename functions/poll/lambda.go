package main

import (
	"context"
	"encoding/json"
)

// Invoke is the Lambda handler: one tick per scheduled invocation, the
// summary as the result.
func (a *app) Invoke(ctx context.Context, raw json.RawMessage) (Summary, error) {
	t, err := ParseTrigger(raw)
	if err != nil {
		a.log.ErrorContext(ctx, "bad trigger", "error", err)
		return Summary{}, err
	}
	return a.tick(ctx, t)
}
