package events

import "github.com/coldmove/coldmove/ids"

// Target is where a server should go: a dedicated host, or the public pool.
// Exactly one of the two must be set; coldmove never reads an empty target
// as "public pool".
type Target struct {
	// DedicatedHostID is the id (a UUID) of the DeH to move onto.
	DedicatedHostID string `json:"dedicated_host_id,omitempty"`
	// PublicPool, when true, moves the server off any DeH.
	PublicPool bool `json:"public_pool,omitempty"`
}

// HostTarget returns the target "dedicated host id".
func HostTarget(id string) *Target { return &Target{DedicatedHostID: id} }

// PublicPoolTarget returns the target "the public pool".
func PublicPoolTarget() *Target { return &Target{PublicPool: true} }

// String describes the target for people: "dedicated host <id>" or
// "public pool".
func (t *Target) String() string {
	switch {
	case t == nil:
		return "no target"
	case t.PublicPool && t.DedicatedHostID == "":
		return "public pool"
	case !t.PublicPool && t.DedicatedHostID != "":
		return "dedicated host " + t.DedicatedHostID
	default:
		return "invalid target"
	}
}

// Validate reports every problem with the target at once, as a
// *[ValidationError], or nil.
func (t *Target) Validate() error {
	var ps problems
	t.check(&ps, "target")
	return ps.err()
}

func (t *Target) check(ps *problems, field string) {
	switch {
	case t == nil:
		ps.add(field, `is required: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`)
	case t.DedicatedHostID != "" && t.PublicPool:
		ps.add(field, "names both a dedicated host and the public pool; give exactly one")
	case t.DedicatedHostID == "" && !t.PublicPool:
		ps.add(field, `is empty: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`)
	case t.DedicatedHostID != "":
		ps.id(field+".dedicated_host_id", ids.DedicatedHost, t.DedicatedHostID)
	}
}
