package events_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ids"
)

func TestRequest_Validate(t *testing.T) {
	t.Parallel()
	future := now.Add(time.Hour)
	past := now.Add(-time.Second)
	tests := map[string]struct {
		req  events.Request
		want map[string]string
	}{
		"minimal host":        {events.Request{ServerID: serverID, Target: events.HostTarget(hostID)}, nil},
		"minimal public pool": {events.Request{ServerID: serverID, Target: events.PublicPoolTarget()}, nil},
		"everything": {events.Request{ServerID: serverID, Target: events.HostTarget(hostID),
			ProjectID: projectID, Region: "ap-southeast-1", Deadline: &future}, nil},
		"empty": {events.Request{}, map[string]string{
			"server_id": "is required",
			"target":    `is required: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`,
		}},
		"all wrong": {events.Request{ServerID: "x", Target: &events.Target{DedicatedHostID: hostID, PublicPool: true},
			ProjectID: "zz", Region: "North-4", Deadline: &past}, map[string]string{
			"server_id":  "must be " + ids.Server.Rule(),
			"target":     "names both a dedicated host and the public pool; give exactly one",
			"project_id": "must be " + ids.Project.Rule(),
			"region":     "must be " + ids.Region.Rule(),
			"deadline":   "must be in the future",
		}},
		"deadline exactly now": {events.Request{ServerID: serverID, Target: events.PublicPoolTarget(), Deadline: &now},
			map[string]string{"deadline": "must be in the future"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.req.ValidateAt(now)
			var got map[string]string
			if err != nil {
				var ve *events.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("err %T is not a *ValidationError", err)
				}
				got = ve.Fields()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTarget_String(t *testing.T) {
	t.Parallel()
	var none *events.Target
	for want, tg := range map[string]*events.Target{
		"dedicated host " + hostID: events.HostTarget(hostID),
		"public pool":              events.PublicPoolTarget(),
		"no target":                none,
		"invalid target":           {},
	} {
		if got := tg.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

func TestReasons_closedSets(t *testing.T) {
	t.Parallel()
	for _, r := range []events.RejectReason{events.RejectUnauthorized, events.RejectDeadlineExceeded} {
		if !r.Valid() {
			t.Errorf("reject reason %q is not listed", r)
		}
	}
	if events.RejectUnauthorized != "unauthorized" || events.RejectDeadlineExceeded != "deadline_exceeded" {
		t.Errorf("reason codes %q, %q differ from the contract", events.RejectUnauthorized, events.RejectDeadlineExceeded)
	}
	seen := map[string]bool{}
	for _, r := range events.RejectReasons() {
		if !r.Valid() || seen[string(r)] {
			t.Errorf("reject reason %q invalid or repeated", r)
		}
		seen[string(r)] = true
	}
	for _, r := range events.FailReasons() {
		if !r.Valid() {
			t.Errorf("fail reason %q invalid", r)
		}
	}
	if events.RejectReason("nope").Valid() || events.FailReason("nope").Valid() {
		t.Error("an unknown reason is valid")
	}
}
