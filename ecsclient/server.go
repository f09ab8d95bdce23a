package ecsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coldmove/coldmove/ids"
)

// Server holds the fields of an ECS server that a migration pre-flight
// needs, as [Client.ShowServer] reports them.
type Server struct {
	ID   string
	Name string
	// Status is the API status, e.g. ACTIVE, SHUTOFF, RESIZE (a cold
	// migration in progress), VERIFY_RESIZE, ERROR.
	Status string
	// VMState is OS-EXT-STS:vm_state, lower case: active, stopped, resized…
	VMState string
	// TaskState is OS-EXT-STS:task_state: "" when the API sends null (the
	// server is idle), else e.g. powering-off, resize_prep, resize_migrating.
	TaskState string
	// PowerState is OS-EXT-STS:power_state: 0 no state, 1 running, 4 shut down.
	PowerState int
	// ChargingMode is metadata.charging_mode: "0" pay-per-use, "1" prepaid
	// (yearly/monthly), "2" spot; "" when absent.
	ChargingMode string
	Locked       bool
	// DedicatedHostID is the first of os:scheduler_hints.dedicated_host_id
	// (an array on the wire); "" when the server is not on a dedicated host.
	DedicatedHostID string
	FlavorID        string
	// VCPUs and RAMMB come from the flavor, where the API sends them as
	// strings.
	VCPUs int
	RAMMB int
	// Updated is the server's updated time as the API sends it (e.g.
	// 2018-09-13T07:06:51Z, whole seconds): it changes with each change of
	// the server, so two answers with the same status, task, placement and
	// Updated describe the server in one state.
	Updated string
}

// PayPerUse reports whether the server is billed pay-per-use (charging mode
// "0"), the only billing mode cold migration to a dedicated host accepts.
// An absent charging mode is not read as pay-per-use.
func (s *Server) PayPerUse() bool { return s.ChargingMode == "0" }

// Stopped reports whether the server is shut off and idle: status SHUTOFF
// with no task in progress.
func (s *Server) Stopped() bool { return s.Status == "SHUTOFF" && s.TaskState == "" }

// OnDedicatedHost reports whether the server is placed on a dedicated host.
func (s *Server) OnDedicatedHost() bool { return s.DedicatedHostID != "" }

// On reports whether the server is placed on the dedicated host dehID, or,
// when dehID is "", on none (the public pool). Host ids are UUIDs and
// compare without regard to case. It is the one answer to "is this server
// where the request wants it?", before a migration and after one.
func (s *Server) On(dehID string) bool {
	if dehID == "" {
		return !s.OnDedicatedHost()
	}
	return strings.EqualFold(s.DedicatedHostID, dehID)
}

// Busy reports whether the server is in the middle of something: a task
// in progress (task_state not null, e.g. resize_migrating, powering-off)
// or a resize status (RESIZE, VERIFY_RESIZE: a cold migration).
func (s *Server) Busy() bool {
	return s.TaskState != "" || s.Status == "RESIZE" || s.Status == "VERIFY_RESIZE"
}

// State describes status and task for people: "SHUTOFF",
// "ACTIVE (powering-off)", "RESIZE (resize_migrating)".
func (s *Server) State() string {
	if s.TaskState == "" {
		return s.Status
	}
	return s.Status + " (" + s.TaskState + ")"
}

// Placement describes where the server is for people: "in the public
// pool" or "on dedicated host <id>".
func (s *Server) Placement() string {
	if !s.OnDedicatedHost() {
		return "in the public pool"
	}
	return "on dedicated host " + s.DedicatedHostID
}

// ShowServer returns the server's status, billing, lock and placement. A
// server that does not exist gives an error matching [ErrServerNotFound]
// (codes Ecs.0114 and Ecs.0614, or HTTP 404 from the ECS service).
//
// API: GET /v1/{project_id}/cloudservers/{server_id}
func (c *Client) ShowServer(ctx context.Context, projectID, serverID string) (*Server, error) {
	if err := firstErr(ids.Project.Check(projectID), ids.Server.Check(serverID)); err != nil {
		return nil, fmt.Errorf("ecsclient: show server: %w", err)
	}
	raw := serverJSON{want: serverID}
	rq := &call{method: http.MethodGet, path: apiPath("v1", projectID, "cloudservers", serverID), project: projectID, safe: true}
	if err := c.do(ctx, rq, &raw); err != nil {
		return nil, fmt.Errorf("ecsclient: show server %s: %w", serverID, notFoundAs(err, ErrServerNotFound))
	}
	return raw.server(), nil
}

// notFoundAs adds sentinel to err when the ECS service answered 404 and
// err does not match it already.
func notFoundAs(err, sentinel error) error {
	if serviceNotFound(err) && !errors.Is(err, sentinel) {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return err
}

type serverJSON struct {
	Server *serverFields `json:"server"`

	want string // the server asked for
}

// reset empties the answer, keeping the server asked for.
func (r *serverJSON) reset() { *r = serverJSON{want: r.want} }

// check refuses an answer about no server or about another one.
func (r *serverJSON) check() error {
	w := r.Server
	switch {
	case w == nil || w.ID == "":
		return errors.New("answer has no server")
	case !strings.EqualFold(string(w.ID), r.want):
		return fmt.Errorf("answer describes server %q", clip(string(w.ID)))
	case w.Status == "":
		return errors.New("answer has no server status")
	}
	return nil
}

// server converts the checked wire form.
func (r *serverJSON) server() *Server { return r.Server.server() }

// serverFields is a server object on the wire, as ShowServer answers it
// and each entry of a ListServersDetails answer carries it: the fields
// [Server] holds, in lenient types.
type serverFields struct {
	ID         looseString `json:"id"`
	Name       looseString `json:"name"`
	Status     looseString `json:"status"`
	VMState    looseString `json:"OS-EXT-STS:vm_state"`
	TaskState  looseString `json:"OS-EXT-STS:task_state"`
	PowerState looseInt    `json:"OS-EXT-STS:power_state"`
	Locked     looseBool   `json:"locked"`
	Metadata   struct {
		ChargingMode looseString `json:"charging_mode"`
	} `json:"metadata"`
	SchedulerHints struct {
		DedicatedHostID looseStrings `json:"dedicated_host_id"`
	} `json:"os:scheduler_hints"`
	Updated looseString `json:"updated"`
	Flavor  struct {
		ID    looseString `json:"id"`
		VCPUs looseInt    `json:"vcpus"`
		RAM   looseInt    `json:"ram"`
	} `json:"flavor"`
}

// server converts the wire form.
func (w *serverFields) server() *Server {
	return &Server{
		ID:              string(w.ID),
		Name:            string(w.Name),
		Status:          string(w.Status),
		VMState:         string(w.VMState),
		TaskState:       string(w.TaskState),
		PowerState:      int(w.PowerState),
		ChargingMode:    string(w.Metadata.ChargingMode),
		Locked:          bool(w.Locked),
		DedicatedHostID: w.SchedulerHints.DedicatedHostID.first(),
		FlavorID:        string(w.Flavor.ID),
		VCPUs:           int(w.Flavor.VCPUs),
		RAMMB:           int(w.Flavor.RAM),
		Updated:         string(w.Updated),
	}
}
