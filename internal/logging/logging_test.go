package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/internal/logging"
)

func TestNew_contextAttributes(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logging.New(&buf, slog.LevelInfo)
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-9"})
	ctx = logging.With(ctx, slog.String(logging.KeyEventID, "ce-1"))
	ctx = logging.With(ctx, slog.String(logging.KeyServerID, "srv-1"), slog.String(logging.KeyJobID, "job-1"))
	log.InfoContext(ctx, "submitted", "attempt", 1)
	log.DebugContext(ctx, "not shown")

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	delete(got, "timestamp")
	want := map[string]any{"level": "INFO", "message": "submitted", "attempt": 1.0,
		"requestId": "req-9", "ce_id": "ce-1", "server_id": "srv-1", "job_id": "job-1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
