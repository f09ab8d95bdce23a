// Command echo is a Lambda function for lambdatest's own tests: it returns
// its payload, the request id and whether the invocation has a deadline,
// and fails when asked to.
package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type result struct {
	Payload     json.RawMessage `json:"payload"`
	RequestID   string          `json:"request_id"`
	HasDeadline bool            `json:"has_deadline"`
}

func handle(ctx context.Context, in json.RawMessage) (result, error) {
	if string(in) == `"fail"` {
		return result{}, errors.New("asked to fail")
	}
	lc, _ := lambdacontext.FromContext(ctx)
	r := result{Payload: in}
	if lc != nil {
		r.RequestID = lc.AwsRequestID
	}
	_, r.HasDeadline = ctx.Deadline()
	return r, nil
}

func main() { lambda.StartHandlerFunc(handle) }
