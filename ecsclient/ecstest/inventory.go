package ecstest

import "time"

// Server statuses a seeded server may start in.
const (
	StatusActive  = "ACTIVE"
	StatusShutoff = "SHUTOFF"
	StatusResize  = "RESIZE"
)

// Charging modes, as metadata.charging_mode reports them.
const (
	ChargingPayPerUse = "0"
	ChargingPrepaid   = "1"
	ChargingSpot      = "2"
)

// Host states of a dedicated host.
const (
	HostAvailable = "available"
	HostFault     = "fault"
	HostReleased  = "released"
)

// Defaults for fields a spec leaves empty.
const (
	DefaultServerVCPUs = 2
	DefaultServerRAMMB = 4096
	DefaultHostVCPUs   = 64
	DefaultHostMemMB   = 262144
	DefaultZone        = "sim-az1"
)

// Inventory is what a [Simulator] starts with.
type Inventory struct {
	// Projects to create, each with its dedicated hosts and servers.
	Projects []ProjectSpec `json:"projects"`
}

// ProjectSpec describes a project to create.
type ProjectSpec struct {
	// ID is the project id; empty means a generated 32-hex id.
	ID string `json:"id,omitempty"`
	// Name is informational.
	Name string `json:"name,omitempty"`
	// DedicatedHosts are created before Servers, so servers can be placed on
	// them.
	DedicatedHosts []HostSpec `json:"dedicated_hosts,omitempty"`
	// Servers to create in the project.
	Servers []ServerSpec `json:"servers,omitempty"`
}

// HostSpec describes a dedicated host (DeH) to create. Zero fields take the
// defaults above.
type HostSpec struct {
	// ID is the DeH id; empty means a generated UUID.
	ID string `json:"id,omitempty"`
	// ProjectID is the owning project; empty means the default project. In a
	// seed file the enclosing project sets it.
	ProjectID string `json:"-"`
	// Name is informational.
	Name string `json:"name,omitempty"`
	// VCPUs and MemoryMB are the host's total capacity.
	VCPUs    int `json:"vcpus,omitempty"`
	MemoryMB int `json:"memory_mb,omitempty"`
	// State is available (default), fault or released; migrations to a host
	// that is not available fail.
	State string `json:"state,omitempty"`
	// RejectWhenFull makes a migration to this host without room fail at once
	// with 400 Ecs.0319, instead of with a FAIL job (the default).
	RejectWhenFull bool `json:"reject_when_full,omitempty"`
	// AvailabilityZone is informational; default sim-az1.
	AvailabilityZone string `json:"availability_zone,omitempty"`
}

// ServerSpec describes a server (ECS) to create. Zero fields take sensible
// defaults: stopped, pay-per-use, unlocked, in the public pool, 2 vCPUs and
// 4096 MB.
type ServerSpec struct {
	// ID is the server id; empty means a generated UUID.
	ID string `json:"id,omitempty"`
	// ProjectID is the owning project; empty means the default project. In a
	// seed file the enclosing project sets it.
	ProjectID string `json:"-"`
	// Name is informational; default "ecs-" plus the start of the id.
	Name string `json:"name,omitempty"`
	// Status is SHUTOFF (default) or ACTIVE.
	Status string `json:"status,omitempty"`
	// ChargingMode is "0" pay-per-use (default), "1" prepaid or "2" spot.
	ChargingMode string `json:"charging_mode,omitempty"`
	// Locked servers refuse migration with Ecs.0605.
	Locked bool `json:"locked,omitempty"`
	// DedicatedHostID places the server on a DeH of the same project; empty
	// means the public pool.
	DedicatedHostID string `json:"dedicated_host_id,omitempty"`
	// VCPUs and RAMMB are the flavor's size.
	VCPUs int `json:"vcpus,omitempty"`
	RAMMB int `json:"ram_mb,omitempty"`
	// FlavorID is informational; default derived from the size.
	FlavorID string `json:"flavor_id,omitempty"`
	// AvailabilityZone is informational; default sim-az1.
	AvailabilityZone string `json:"availability_zone,omitempty"`
	// Migrating, when positive, is how long this server's migrations stay
	// in their first RUNNING phase, instead of JobTimings.Migrating: to
	// give each server of a test its own migration time.
	Migrating time.Duration `json:"-"`
}
