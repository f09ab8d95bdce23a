package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/lambdatest"
)

// invokeSummary invokes the function with payload and decodes the
// summary it returns.
func invokeSummary(t *testing.T, emu *lambdatest.Emulator, payload []byte) Summary {
	t.Helper()
	body, err := emu.Invoke(t.Context(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Summary
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(body, &s); err != nil || s.ErrorMessage != "" {
		t.Fatalf("invoke %q: %s (%v)\n%s", payload, body, err, emu.Output())
	}
	return s.Summary
}

func TestLambda_ticksThroughTheRuntimeAPIAndDrainsOnSIGTERM(t *testing.T) {
	t.Parallel()
	// Jobs finish at once on the simulator; the function decides on the
	// wall clock, which the records' times follow.
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{}))
	r := e.submit(submission{})
	emu := lambdatest.Start(t, pollBinary(t), 30*time.Second, e.environ()...)

	scheduled, err := os.ReadFile("testdata/scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	got := invokeSummary(t, emu, scheduled)
	if got.Jobs != 1 || got.Due != 1 || got.Completed != 1 || got.Errors != 0 {
		t.Fatalf("summary %+v, want the job completed", got)
	}
	out := e.only()
	if out.Event.Type() != events.TypeCompleted || out.Event.ID() != events.OutcomeID(events.TypeCompleted, r.JobID, r.Key) {
		t.Errorf("published %s %s", out.Event.Type(), out.Event.ID())
	}
	e.checkFinished(r, out)

	// A Scheduler's verbatim input, and an empty object: a tick each.
	for _, payload := range []string{`{"from":"scheduler"}`, `{}`} {
		if got := invokeSummary(t, emu, []byte(payload)); got.Jobs != 0 || got.Errors != 0 {
			t.Errorf("invoke %s: %+v", payload, got)
		}
	}

	// SIGTERM (Lambda's shutdown) drains NATS and ends the process.
	if err := emu.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-emu.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("the emulator did not exit after SIGTERM:\n%s", emu.Output())
	}
	output := emu.Output() // complete now that the processes have exited
	if !strings.Contains(output, `"message":"NATS drained"`) {
		t.Errorf("no drain on SIGTERM:\n%s", output)
	}
	// One JSON line per tick, with the Lambda request id and the trigger.
	var kinds []string
	for _, line := range strings.Split(output, "\n") {
		if !strings.Contains(line, `"message":"tick"`) {
			continue
		}
		var l struct {
			RequestID string `json:"requestId"`
			Trigger   struct {
				Kind, ID string
			} `json:"trigger"`
			Summary *Summary `json:"summary"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.RequestID == "" || l.Summary == nil {
			t.Errorf("tick log line %s (%v)", line, err)
		}
		kinds = append(kinds, l.Trigger.Kind)
	}
	if want := []string{"scheduled-event", "input", "input"}; !slices.Equal(kinds, want) {
		t.Errorf("tick log lines with triggers %q, want %q:\n%s", kinds, want, output)
	}
}
