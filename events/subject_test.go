package events_test

import (
	"strings"
	"testing"

	"github.com/coldmove/coldmove/events"
)

func TestSubjects(t *testing.T) {
	t.Parallel()
	tests := map[string]struct{ got, want string }{
		"request":             {events.RequestSubject("coldmove", serverID), "coldmove.placement.requested." + serverID},
		"request filter":      {events.RequestFilter("coldmove"), "coldmove.placement.requested.*"},
		"stream subjects":     {events.StreamSubjects("prod.coldmove"), "prod.coldmove.>"},
		"accepted":            {events.OutcomeSubject("coldmove", events.TypeAccepted, serverID), "coldmove.placement.accepted." + serverID},
		"rejected":            {events.OutcomeSubject("coldmove", events.TypeRejected, serverID), "coldmove.placement.rejected." + serverID},
		"completed":           {events.OutcomeSubject("coldmove", events.TypeCompleted, serverID), "coldmove.placement.completed." + serverID},
		"failed":              {events.OutcomeSubject("coldmove", events.TypeFailed, serverID), "coldmove.placement.failed." + serverID},
		"timedout":            {events.OutcomeSubject("coldmove", events.TypeTimedOut, serverID), "coldmove.placement.timedout." + serverID},
		"prefixed":            {events.OutcomeSubject("a.b", events.TypeFailed, "x"), "a.b.placement.failed.x"},
		"wildcard id":         {events.RequestSubject("coldmove", "*"), "coldmove.placement.requested._invalid"},
		"full wildcard id":    {events.OutcomeSubject("coldmove", events.TypeRejected, ">"), "coldmove.placement.rejected._invalid"},
		"dotted id":           {events.OutcomeSubject("coldmove", events.TypeRejected, "a.b"), "coldmove.placement.rejected._invalid"},
		"space in id":         {events.OutcomeSubject("coldmove", events.TypeRejected, "a b"), "coldmove.placement.rejected._invalid"},
		"empty id":            {events.OutcomeSubject("coldmove", events.TypeRejected, ""), "coldmove.placement.rejected._invalid"},
		"control char":        {events.OutcomeSubject("coldmove", events.TypeRejected, "a\r\nb"), "coldmove.placement.rejected._invalid"},
		"non-ASCII":           {events.OutcomeSubject("coldmove", events.TypeRejected, "sérveur"), "coldmove.placement.rejected._invalid"},
		"too long":            {events.OutcomeSubject("coldmove", events.TypeRejected, strings.Repeat("a", 129)), "coldmove.placement.rejected._invalid"},
		"not a coldmove type": {events.OutcomeSubject("coldmove", "com.example", serverID), "coldmove.placement._invalid." + serverID},
	}
	for name, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", name, tc.got, tc.want)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"coldmove", "prod.coldmove", "a-b_c"} {
		if err := events.ValidatePrefix(ok); err != nil {
			t.Errorf("ValidatePrefix(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "a.", ".a", "a..b", "a.*", ">", "a b", "coldmove.>"} {
		if err := events.ValidatePrefix(bad); err == nil {
			t.Errorf("ValidatePrefix(%q) = nil, want an error", bad)
		}
	}
}
