package events_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
)

func TestDecode_power(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		power    any
		want     *events.Power
		problems map[string]string
	}{
		"stop soft, restart": {power: map[string]any{"stop": "soft", "restart": true}, want: &events.Power{Stop: events.StopSoft, Restart: true}},
		"stop hard":          {power: map[string]any{"stop": "hard"}, want: &events.Power{Stop: events.StopHard}},
		"null":               {power: nil},
		"unknown stop":       {power: map[string]any{"stop": "gentle"}, problems: map[string]string{"power.stop": `must be "soft" or "hard"`}},
		"restart alone":      {power: map[string]any{"restart": true}, problems: map[string]string{"power.stop": `is required in power: "soft" or "hard"`}},
		"not an object":      {power: "soft", problems: map[string]string{"power": `must be a JSON object such as {"stop": "soft", "restart": true}`}},
		"restart a string":   {power: map[string]any{"stop": "soft", "restart": "yes"}, problems: map[string]string{"power.restart": "must be a boolean"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, _ := json.Marshal(map[string]any{"server_id": serverID, "target": events.HostTarget(hostID), "power": tc.power})
			body, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "p-1", "source": "/t",
				"type": events.TypeRequested, "data": json.RawMessage(data)})
			p, err := events.Decode(nil, body)
			if tc.problems != nil {
				var de *events.DecodeError
				if !errors.As(err, &de) || !errors.Is(err, events.ErrInvalidPayload) {
					t.Fatalf("err = %v, want invalid payload", err)
				}
				if diff := cmp.Diff(tc.problems, (&events.ValidationError{Problems: de.Problems}).Fields()); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, p.Power); diff != "" {
				t.Errorf("power (-want +got):\n%s", diff)
			}
		})
	}
}
