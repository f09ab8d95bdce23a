package ecstest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// project is a tenant's project.
type project struct {
	id string
}

// server is the model of one ECS.
type server struct {
	id, name, projectID string
	status, vmState     string
	taskState           string // "" means idle (JSON null)
	powerState          int
	chargingMode        string
	locked              bool
	hostID              string // "" means the public pool
	vcpus, ramMB        int
	flavorID, zone      string
	created, updated    time.Time
	physicalHost        string // hypervisor host name, changes on migration
	scriptedFailure     *scriptedFailure
	migrating           time.Duration // > 0: this server's Migrating phase
	detail              []byte        // rendered server object, replaced on change
	body                []byte        // rendered ShowServer answer, replaced on change
}

// host is the model of one dedicated host.
type host struct {
	id, name, projectID, state, zone string
	vcpus, memMB                     int
	usedVCPUs, usedMemMB             int // placed servers plus inbound reservations
	instances                        []string
	rejectWhenFull                   bool
}

// scriptedFailure is a migration outcome a test has imposed on a server.
type scriptedFailure struct {
	errorCode, failReason string
}

// Power states reported in OS-EXT-STS:power_state.
const (
	powerRunning  = 1
	powerShutdown = 4
)

// errNotFound is wrapped by inspection and mutation helpers for unknown ids.
var errNotFound = errors.New("not found")

// CreateProject creates a project with the given id, or a generated one when
// id is empty, and returns the id.
func (s *Simulator) CreateProject(id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" {
		id = s.newHexID()
	}
	if _, dup := s.projects[id]; dup {
		return "", fmt.Errorf("project %s already exists", id)
	}
	s.projects[id] = &project{id: id}
	s.projectOrder = append(s.projectOrder, id)
	return id, nil
}

// Projects returns the ids of the projects, in the order they were created.
func (s *Simulator) Projects() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.projectOrder)
}

// CreateDedicatedHost creates a dedicated host and returns its id. Its
// ProjectID must name an existing project.
func (s *Simulator) CreateDedicatedHost(spec HostSpec) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.projects[spec.ProjectID]; !ok {
		return "", fmt.Errorf("dedicated host: project %q: %w", spec.ProjectID, errNotFound)
	}
	if spec.VCPUs < 0 || spec.MemoryMB < 0 {
		return "", fmt.Errorf("dedicated host %s: capacity must not be negative", spec.ID)
	}
	h := &host{
		id: spec.ID, name: spec.Name, projectID: spec.ProjectID, state: spec.State,
		zone: spec.AvailabilityZone, vcpus: spec.VCPUs, memMB: spec.MemoryMB,
		rejectWhenFull: spec.RejectWhenFull,
	}
	if h.id == "" {
		h.id = s.newUUID()
	}
	if _, dup := s.hosts[h.id]; dup {
		return "", fmt.Errorf("dedicated host %s already exists", h.id)
	}
	switch h.state {
	case "":
		h.state = HostAvailable
	case HostAvailable, HostFault, HostReleased:
	default:
		return "", fmt.Errorf("dedicated host %s: state %q is not available, fault or released", h.id, h.state)
	}
	h.name = cmp.Or(h.name, "deh-"+h.id[:min(8, len(h.id))])
	h.zone = cmp.Or(h.zone, DefaultZone)
	if h.vcpus == 0 {
		h.vcpus = DefaultHostVCPUs
	}
	if h.memMB == 0 {
		h.memMB = DefaultHostMemMB
	}
	s.hosts[h.id] = h
	return h.id, nil
}

// CreateServer creates a server and returns its id. Its ProjectID must name an
// existing project and its DedicatedHostID, when set, a host of that project
// with room for it.
func (s *Simulator) CreateServer(spec ServerSpec) (string, error) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.projects[spec.ProjectID]; !ok {
		return "", fmt.Errorf("server: project %q: %w", spec.ProjectID, errNotFound)
	}
	sv := &server{
		id: spec.ID, name: spec.Name, projectID: spec.ProjectID, status: spec.Status,
		chargingMode: spec.ChargingMode, locked: spec.Locked, hostID: spec.DedicatedHostID,
		vcpus: spec.VCPUs, ramMB: spec.RAMMB, flavorID: spec.FlavorID, zone: spec.AvailabilityZone,
		migrating: spec.Migrating,
		created:   now, updated: now,
	}
	if sv.id == "" {
		sv.id = s.newUUID()
	}
	if _, dup := s.servers[sv.id]; dup {
		return "", fmt.Errorf("server %s already exists", sv.id)
	}
	switch sv.status {
	case "", StatusShutoff:
		sv.status, sv.vmState, sv.powerState = StatusShutoff, "stopped", powerShutdown
	case StatusActive:
		sv.vmState, sv.powerState = "active", powerRunning
	default:
		return "", fmt.Errorf("server %s: status %q is not SHUTOFF or ACTIVE", sv.id, sv.status)
	}
	switch sv.chargingMode {
	case "":
		sv.chargingMode = ChargingPayPerUse
	case ChargingPayPerUse, ChargingPrepaid, ChargingSpot:
	default:
		return "", fmt.Errorf("server %s: charging mode %q is not 0, 1 or 2", sv.id, sv.chargingMode)
	}
	if sv.vcpus < 0 || sv.ramMB < 0 {
		return "", fmt.Errorf("server %s: flavor size must not be negative", sv.id)
	}
	if sv.vcpus == 0 {
		sv.vcpus = DefaultServerVCPUs
	}
	if sv.ramMB == 0 {
		sv.ramMB = DefaultServerRAMMB
	}
	sv.flavorID = cmp.Or(sv.flavorID, fmt.Sprintf("sim.%dc.%dm", sv.vcpus, sv.ramMB))
	sv.name = cmp.Or(sv.name, "ecs-"+sv.id[:min(8, len(sv.id))])
	sv.zone = cmp.Or(sv.zone, DefaultZone)
	if sv.hostID != "" {
		h, ok := s.hosts[sv.hostID]
		if !ok || h.projectID != sv.projectID {
			return "", fmt.Errorf("server %s: dedicated host %q: %w", sv.id, sv.hostID, errNotFound)
		}
		if !h.fits(sv) {
			return "", fmt.Errorf("server %s: dedicated host %s has %d vCPUs and %d MB free, the server needs %d and %d",
				sv.id, h.id, h.freeVCPUs(), h.freeMemMB(), sv.vcpus, sv.ramMB)
		}
		h.place(sv)
	} else {
		sv.physicalHost = s.poolHostName()
	}
	s.servers[sv.id] = sv
	sv.render()
	return sv.id, nil
}

// poolHostName returns the name of a public-pool hypervisor; s.mu must be
// held.
func (s *Simulator) poolHostName() string {
	return fmt.Sprintf("pool-%04d", s.rng.IntN(10000))
}

func (h *host) freeVCPUs() int { return h.vcpus - h.usedVCPUs }
func (h *host) freeMemMB() int { return h.memMB - h.usedMemMB }

// fits reports whether sv fits into the host's free capacity.
func (h *host) fits(sv *server) bool {
	return sv.vcpus <= h.freeVCPUs() && sv.ramMB <= h.freeMemMB()
}

// reserve takes sv's size from the host's free capacity.
func (h *host) reserve(sv *server) {
	h.usedVCPUs += sv.vcpus
	h.usedMemMB += sv.ramMB
}

// release gives sv's size back to the host's free capacity.
func (h *host) release(sv *server) {
	h.usedVCPUs -= sv.vcpus
	h.usedMemMB -= sv.ramMB
}

// place reserves room for sv and records it as an instance of the host.
func (h *host) place(sv *server) {
	h.reserve(sv)
	h.instances = append(h.instances, sv.id)
	sv.physicalHost = h.name
}

// remove releases sv's room and forgets it as an instance.
func (h *host) remove(sv *server) {
	h.release(sv)
	h.instances = slices.DeleteFunc(h.instances, func(id string) bool { return id == sv.id })
}
