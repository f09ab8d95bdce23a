package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// sqsHeadroom is the invocation time kept unused when handling an SQS
// batch: records not started by then are reported as failures, so SQS
// delivers them again rather than Lambda timing out on them.
const sqsHeadroom = 3 * time.Second

// lambdaAdapter routes a Lambda payload to the handler: a CloudEvent in
// structured JSON (direct invoke), an EventBridge envelope whose detail is
// a CloudEvent, or an SQS batch whose bodies are CloudEvents.
type lambdaAdapter struct {
	h   *Handler
	log *slog.Logger
}

// RetryError is the error a direct or EventBridge invocation returns for
// a request that must be delivered again; Lambda retries asynchronous
// invocations on it.
type RetryError struct {
	Outcome Outcome
}

// Error says why the request will be retried.
func (e *RetryError) Error() string {
	return fmt.Sprintf("retry (%s): %s", e.Outcome.Reason, e.Outcome.Message)
}

// envelope is enough of any payload to tell the three shapes apart.
type envelope struct {
	Records    []json.RawMessage `json:"Records"`
	DetailType *string           `json:"detail-type"`
	Detail     json.RawMessage   `json:"detail"`
}

// Invoke handles one Lambda invocation. Its result is an [Outcome] for a
// single request, or the SQS partial-batch response for a batch.
func (a *lambdaAdapter) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var env envelope
	_ = json.Unmarshal(raw, &env) // not an object: handled below as a request
	switch {
	case len(env.Records) > 0:
		return a.batch(ctx, raw)
	case env.DetailType != nil && len(env.Detail) > 0:
		return a.single(ctx, env.Detail)
	default:
		return a.single(ctx, raw)
	}
}

func (a *lambdaAdapter) single(ctx context.Context, body []byte) (any, error) {
	o := a.h.HandleMessage(ctx, nil, body)
	if o.Retryable() {
		return nil, &RetryError{Outcome: o}
	}
	return o, nil
}

// batch handles an SQS batch record by record and reports, as
// batchItemFailures, only the records that must be retried: rejected
// records are answered and must not come back. On a FIFO queue the first
// failure fails every record after it, to keep the order.
func (a *lambdaAdapter) batch(ctx context.Context, raw []byte) (events.SQSEventResponse, error) {
	var sqs events.SQSEvent
	if err := json.Unmarshal(raw, &sqs); err != nil {
		return events.SQSEventResponse{}, fmt.Errorf("read SQS batch: %w", err)
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	failRest := false
	for _, m := range sqs.Records {
		if m.EventSource != "" && m.EventSource != "aws:sqs" {
			return events.SQSEventResponse{}, fmt.Errorf("unsupported event source %q: records must come from SQS", m.EventSource)
		}
		fifo := strings.HasSuffix(m.EventSourceARN, ".fifo")
		if failRest || timeShort(ctx) {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			continue
		}
		o := a.h.HandleMessage(ctx, sqsHeaders(m), []byte(m.Body))
		a.log.InfoContext(ctx, "SQS record handled", "message_id", m.MessageId, "status", string(o.Status), "reason", o.Reason)
		if o.Retryable() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
			failRest = fifo
		}
	}
	return resp, nil
}

// sqsHeaders reads binary-mode CloudEvent attributes from SQS message
// attributes (ce-* names, string values); nil when there are none, so the
// body is read as structured JSON.
func sqsHeaders(m events.SQSMessage) map[string][]string {
	var h map[string][]string
	for name, v := range m.MessageAttributes {
		if v.StringValue == nil || !strings.HasPrefix(strings.ToLower(name), "ce-") && !strings.EqualFold(name, "content-type") {
			continue
		}
		if h == nil {
			h = map[string][]string{}
		}
		h[name] = []string{*v.StringValue}
	}
	return h
}

func timeShort(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Until(dl) < sqsHeadroom
}
