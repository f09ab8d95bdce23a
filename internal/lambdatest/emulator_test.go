package lambdatest_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/coldmove/coldmove/internal/lambdatest"
)

func TestEmulator_invoke(t *testing.T) {
	t.Parallel()
	bin := lambdatest.Build(t, "./testdata/echo")
	emu := lambdatest.Start(t, bin, 10*time.Second)

	body, err := emu.Invoke(t.Context(), []byte(`{"hello":"world"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Payload     map[string]string `json:"payload"`
		RequestID   string            `json:"request_id"`
		HasDeadline bool              `json:"has_deadline"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if got.Payload["hello"] != "world" || got.RequestID == "" || !got.HasDeadline {
		t.Errorf("result = %+v", got)
	}

	body, err = emu.Invoke(t.Context(), []byte(`"fail"`))
	if err != nil {
		t.Fatal(err)
	}
	var fail struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &fail); err != nil || fail.ErrorMessage != "asked to fail" {
		t.Errorf("error result = %s (%v)", body, err)
	}
}
