package events

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/coldmove/coldmove/ids"
)

// Request is the data of a [TypeRequested] event: move ServerID to Target.
type Request struct {
	// ServerID is the ECS server (a UUID) to move. Required.
	ServerID string `json:"server_id"`
	// Target is where to move it. Required and explicit.
	Target *Target `json:"target"`
	// ProjectID is the project (32 hex characters) owning the server; empty
	// means the configured default.
	ProjectID string `json:"project_id,omitempty"`
	// Region is the region (for example cn-north-4); empty means the
	// configured default.
	Region string `json:"region,omitempty"`
	// Deadline is when tracking gives up with [TypeTimedOut]; nil means now
	// plus the configured migration timeout.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Power, when set, stops a running server before the move and may
	// start it again after (opt-in).
	Power *Power `json:"power,omitempty"`
}

// Validate reports every problem with the request at once, as a
// *[ValidationError]. It judges nothing against a clock: whether the
// deadline has passed is for [Request.ValidateAt] (or, on a decoded
// request, [Placement.CheckDeadline]) to say.
func (r *Request) Validate() error {
	var ps problems
	r.check(&ps)
	return ps.err()
}

// ValidateAt is [Request.Validate] and, besides, requires the deadline,
// when there is one, to be after now.
func (r *Request) ValidateAt(now time.Time) error {
	var ps problems
	r.check(&ps)
	r.checkDeadline(&ps, now)
	return ps.err()
}

// check records the problems of the request that do not depend on time.
func (r *Request) check(ps *problems) {
	if r.ServerID == "" {
		ps.add("server_id", "is required")
	} else {
		ps.id("server_id", ids.Server, r.ServerID)
	}
	r.Target.check(ps, "target")
	if r.ProjectID != "" {
		ps.id("project_id", ids.Project, r.ProjectID)
	}
	if r.Region != "" {
		ps.id("region", ids.Region, r.Region)
	}
	r.Power.check(ps)
}

// checkDeadline is the one deadline rule: a deadline, when given, must be
// after now.
func (r *Request) checkDeadline(ps *problems, now time.Time) {
	if r.Deadline != nil && !r.Deadline.After(now) {
		ps.add("deadline", "must be in the future")
	}
}

// parseRequest reads a request payload, reporting every problem at once
// but the deadline's (which is judged against a clock, later): problems of
// shape (a repeated key, a number where a string belongs, a null target)
// and of value (not a UUID). A field with a problem of shape is not judged
// again for its value. Unknown fields are ignored, but a repeated key or
// too deep nesting anywhere in data is a problem.
func parseRequest(data []byte) (Request, problems) {
	r, shape, tainted, object := readRequest(data)
	if !object {
		return r, shape // nothing was read to judge
	}
	var value problems
	r.check(&value)
	for _, p := range value {
		root, _, _ := strings.Cut(p.Field, ".")
		if !shape.covers(p.Field) && !tainted[root] {
			shape = append(shape, p)
		}
	}
	return r, shape
}

// readRequest reads what it can of a request payload: the fields that are
// present, of the right JSON type, and not ambiguous. It returns the
// problems of shape, and the top-level members it left unread because they
// are ambiguous (their key is repeated, or a problem lies inside them).
// object is false when data is absent or not a JSON object.
func readRequest(data []byte) (r Request, shape problems, tainted map[string]bool, object bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		shape.add("data", "is required: a JSON object with server_id and target")
		return r, shape, nil, false
	}
	keys, err := checkKeys(data, "data", maxDepth)
	var fields map[string]json.RawMessage
	if err != nil || json.Unmarshal(data, &fields) != nil || fields == nil {
		shape.add("data", "must be a JSON object")
		return r, shape, nil, false
	}
	shape = append(shape, keys.problems...)
	tainted = keys.tainted
	for name := range tainted {
		delete(fields, name)
	}
	r.ServerID = stringField(&shape, fields, "server_id")
	r.ProjectID = stringField(&shape, fields, "project_id")
	r.Region = stringField(&shape, fields, "region")
	if raw, ok := fields["deadline"]; ok && !isNull(raw) {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			shape.add("deadline", "must be an RFC 3339 time string")
		} else if t, err := time.Parse(time.RFC3339Nano, s); err != nil {
			shape.add("deadline", "must be an RFC 3339 time, for example 2026-01-02T15:04:05Z")
		} else {
			r.Deadline = &t
		}
	}
	if raw, ok := fields["target"]; ok {
		if isNull(raw) {
			shape.add("target", `must not be null: give {"dedicated_host_id": "<uuid>"} or {"public_pool": true}`)
		} else {
			r.Target = parseTarget(&shape, raw)
		}
	}
	if raw, ok := fields["power"]; ok && !isNull(raw) {
		r.Power = parsePower(&shape, raw)
	}
	return r, shape, tainted, true
}

// parsePower reads a power object, recording problems of shape.
func parsePower(ps *problems, raw json.RawMessage) *Power {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		ps.add("power", `must be a JSON object such as {"stop": "soft", "restart": true}`)
		return nil
	}
	var p Power
	if v, present := fields["stop"]; present && !isNull(v) {
		var s string
		if json.Unmarshal(v, &s) != nil {
			ps.add("power.stop", `must be the string "soft" or "hard"`)
		}
		p.Stop = StopType(s)
	}
	if v, present := fields["restart"]; present && !isNull(v) {
		if json.Unmarshal(v, &p.Restart) != nil {
			ps.add("power.restart", "must be a boolean")
		}
	}
	return &p
}

// parseTarget reads a target object, recording problems of shape.
func parseTarget(ps *problems, raw json.RawMessage) *Target {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		ps.add("target", "must be a JSON object")
		return nil
	}
	var t Target
	if v, present := fields["dedicated_host_id"]; present && !isNull(v) {
		if json.Unmarshal(v, &t.DedicatedHostID) != nil {
			ps.add("target.dedicated_host_id", "must be a string (a UUID)")
		} else if t.DedicatedHostID == "" {
			ps.add("target.dedicated_host_id", "must be a UUID, not empty")
		}
	}
	if v, present := fields["public_pool"]; present && !isNull(v) {
		if json.Unmarshal(v, &t.PublicPool) != nil {
			ps.add("target.public_pool", "must be the boolean true")
		} else if !t.PublicPool {
			ps.add("target.public_pool", "must be true when given; to name a host use dedicated_host_id")
		}
	}
	return &t
}

func stringField(ps *problems, fields map[string]json.RawMessage, name string) string {
	raw, ok := fields[name]
	if !ok || isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		ps.add(name, "must be a string")
	}
	return s
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
