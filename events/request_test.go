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
	late := map[string]string{"deadline": "must be in the future"}
	tests := map[string]struct {
		req  events.Request
		want map[string]string // from Validate, which judges no time
		at   map[string]string // from ValidateAt(now), besides want
	}{
		"minimal host":        {req: events.Request{ServerID: serverID, Target: events.HostTarget(hostID)}},
		"minimal public pool": {req: events.Request{ServerID: serverID, Target: events.PublicPoolTarget()}},
		"everything": {req: events.Request{ServerID: serverID, Target: events.HostTarget(hostID),
			ProjectID: projectID, Region: "ap-southeast-1", Deadline: &future}},
		"empty": {req: events.Request{}, want: map[string]string{
			"server_id": "is required",
			"target":    `is required: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`,
		}},
		"all wrong": {req: events.Request{ServerID: "x", Target: &events.Target{DedicatedHostID: hostID, PublicPool: true},
			ProjectID: "zz", Region: "North-4", Deadline: &past}, want: map[string]string{
			"server_id":  "must be " + ids.Server.Rule(),
			"target":     "names both a dedicated host and the public pool; give exactly one",
			"project_id": "must be " + ids.Project.Rule(),
			"region":     "must be " + ids.Region.Rule(),
		}, at: late},
		"deadline passed":      {req: events.Request{ServerID: serverID, Target: events.PublicPoolTarget(), Deadline: &past}, at: late},
		"deadline exactly now": {req: events.Request{ServerID: serverID, Target: events.PublicPoolTarget(), Deadline: &now}, at: late},
	}
	fields := func(t *testing.T, err error) map[string]string {
		t.Helper()
		if err == nil {
			return nil
		}
		var ve *events.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err %T is not a *ValidationError", err)
		}
		return ve.Fields()
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, fields(t, tc.req.Validate())); diff != "" {
				t.Errorf("Validate problems (-want +got):\n%s", diff)
			}
			var wantAt map[string]string
			for _, m := range []map[string]string{tc.want, tc.at} {
				for k, v := range m {
					if wantAt == nil {
						wantAt = map[string]string{}
					}
					wantAt[k] = v
				}
			}
			if diff := cmp.Diff(wantAt, fields(t, tc.req.ValidateAt(now))); diff != "" {
				t.Errorf("ValidateAt problems (-want +got):\n%s", diff)
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
