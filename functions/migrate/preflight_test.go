package main

import (
	"testing"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
)

func TestPreflight(t *testing.T) {
	t.Parallel()
	ok := ecsclient.Server{ID: "s", Status: "SHUTOFF", ChargingMode: "0"}
	tests := map[string]struct {
		edit   func(*ecsclient.Server)
		reason events.RejectReason // "" when the server passes
		state  string
	}{
		"stopped pay-per-use":            {func(*ecsclient.Server) {}, "", ""},
		"no charging mode in the answer": {func(s *ecsclient.Server) { s.ChargingMode = "" }, "", ""},
		"prepaid":                        {func(s *ecsclient.Server) { s.ChargingMode = "1" }, events.RejectNotPayPerUse, "SHUTOFF"},
		"locked":                         {func(s *ecsclient.Server) { s.Locked = true }, events.RejectServerLocked, "SHUTOFF"},
		"stopping": {func(s *ecsclient.Server) { s.Status, s.TaskState = "ACTIVE", "powering-off" },
			events.RejectServerNotStopped, "ACTIVE (powering-off)"},
		"shut off but busy": {func(s *ecsclient.Server) { s.TaskState = "resize_prep" }, events.RejectServerNotStopped, "SHUTOFF (resize_prep)"},
		"migrating":         {func(s *ecsclient.Server) { s.Status, s.TaskState = "RESIZE", "resize_migrating" }, events.RejectServerNotStopped, "RESIZE (resize_migrating)"},
		"error":             {func(s *ecsclient.Server) { s.Status = "ERROR" }, events.RejectServerNotStopped, "ERROR"},
	}
	for name, tc := range tests {
		s := ok
		tc.edit(&s)
		rej, passed := preflight(&s)
		if passed != (tc.reason == "") || rej.Reason != tc.reason || rej.ServerStatus != tc.state {
			t.Errorf("%s: preflight = %+v, %v", name, rej, passed)
		}
	}
}
