package platform_test

import (
	"testing"
	"time"

	"github.com/coldmove/coldmove/internal/platform"
)

// Detect and DrainTimeout change the process environment's reading: not
// parallel.
func TestRuntime(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	if rt := platform.Detect(); rt != platform.LongRunning || rt.DrainTimeout() != 5*time.Second {
		t.Errorf("without the runtime API: %s, drain %s", rt, rt.DrainTimeout())
	}
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")
	rt := platform.Detect()
	if rt != platform.Lambda {
		t.Fatalf("with the runtime API: %s", rt)
	}
	// Lambda sends SIGKILL about 500 ms after SIGTERM: draining must end
	// before.
	if d := rt.DrainTimeout(); d >= 500*time.Millisecond {
		t.Errorf("Lambda drain timeout %s, want under 500ms", d)
	}
}
