package ecstest

import (
	"fmt"
	"slices"
	"time"
)

// ServerState is a snapshot of a simulated server.
type ServerState struct {
	ID, Name, ProjectID string
	// Status is e.g. SHUTOFF, ACTIVE or RESIZE.
	Status string
	// VMState is OS-EXT-STS:vm_state.
	VMState string
	// TaskState is OS-EXT-STS:task_state; "" when idle.
	TaskState string
	// PowerState is OS-EXT-STS:power_state: 1 running, 4 shut down.
	PowerState   int
	ChargingMode string
	Locked       bool
	// DedicatedHostID is the DeH the server is on; "" in the public pool.
	DedicatedHostID string
	VCPUs, RAMMB    int
	FlavorID        string
}

// HostState is a snapshot of a simulated dedicated host.
type HostState struct {
	ID, Name, ProjectID, State string
	VCPUs, MemoryMB            int
	// AvailableVCPUs and AvailableMemoryMB are what is left after placed
	// servers and inbound migrations.
	AvailableVCPUs, AvailableMemoryMB int
	// Instances are the ids of the servers on the host.
	Instances []string
}

// JobState is a snapshot of a simulated job.
type JobState struct {
	ID, ProjectID, Type string
	// Status is INIT, RUNNING, SUCCESS or FAIL.
	Status                string
	BeginTime, EndTime    time.Time
	ErrorCode, FailReason string
	// ServerIDs are the servers the job acts on.
	ServerIDs []string
	// TargetHostID is a migration's target DeH; "" for the public pool and for
	// power jobs.
	TargetHostID string
}

// Server returns a snapshot of the server with the given id, after applying
// every job transition due on the model clock.
func (s *Simulator) Server(id string) (ServerState, bool) {
	s.catchUp(s.clock.Now())
	s.mu.RLock()
	defer s.mu.RUnlock()
	sv, ok := s.servers[id]
	if !ok {
		return ServerState{}, false
	}
	return ServerState{
		ID: sv.id, Name: sv.name, ProjectID: sv.projectID, Status: sv.status, VMState: sv.vmState,
		TaskState: sv.taskState, PowerState: sv.powerState, ChargingMode: sv.chargingMode,
		Locked: sv.locked, DedicatedHostID: sv.hostID, VCPUs: sv.vcpus, RAMMB: sv.ramMB, FlavorID: sv.flavorID,
	}, true
}

// Host returns a snapshot of the dedicated host with the given id, after
// applying every job transition due on the model clock.
func (s *Simulator) Host(id string) (HostState, bool) {
	s.catchUp(s.clock.Now())
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, ok := s.hosts[id]
	if !ok {
		return HostState{}, false
	}
	return HostState{
		ID: h.id, Name: h.name, ProjectID: h.projectID, State: h.state, VCPUs: h.vcpus, MemoryMB: h.memMB,
		AvailableVCPUs: h.freeVCPUs(), AvailableMemoryMB: h.freeMemMB(), Instances: slices.Clone(h.instances),
	}, true
}

// Job returns a snapshot of the job with the given id, after applying every
// job transition due on the model clock; false once retention removed it.
func (s *Simulator) Job(id string) (JobState, bool) {
	s.catchUp(s.clock.Now())
	s.mu.RLock()
	defer s.mu.RUnlock()
	j, ok := s.jobs[id]
	if !ok {
		return JobState{}, false
	}
	st := JobState{
		ID: j.id, ProjectID: j.projectID, Type: j.jobType, Status: j.status, BeginTime: j.begin,
		EndTime: j.end, ErrorCode: j.errorCode, FailReason: j.failReason, TargetHostID: j.targetHostID,
	}
	for _, sub := range j.subs {
		st.ServerIDs = append(st.ServerIDs, sub.serverID)
	}
	if j.kind == jobMigrate {
		st.ServerIDs = []string{j.serverID}
	}
	return st, true
}

// SetServerLocked locks or unlocks a server.
func (s *Simulator) SetServerLocked(id string, locked bool) error {
	return s.updateServer(id, func(sv *server) error { sv.locked = locked; return nil })
}

// SetServerStatus puts an idle server into SHUTOFF or ACTIVE at once, as if a
// power action had finished.
func (s *Simulator) SetServerStatus(id, status string) error {
	return s.updateServer(id, func(sv *server) error {
		if sv.taskState != "" {
			return fmt.Errorf("server %s is busy (task state %s)", id, sv.taskState)
		}
		switch status {
		case StatusShutoff:
			sv.setStopped()
		case StatusActive:
			sv.setActive()
		default:
			return fmt.Errorf("server %s: status %q is not SHUTOFF or ACTIVE", id, status)
		}
		return nil
	})
}

// SetChargingMode sets a server's metadata.charging_mode ("0", "1" or "2").
func (s *Simulator) SetChargingMode(id, mode string) error {
	return s.updateServer(id, func(sv *server) error {
		switch mode {
		case ChargingPayPerUse, ChargingPrepaid, ChargingSpot:
			sv.chargingMode = mode
			return nil
		}
		return fmt.Errorf("server %s: charging mode %q is not 0, 1 or 2", id, mode)
	})
}

// FailMigrations makes every later migration of the server end in a FAIL job
// with the given error code and fail reason, after its RUNNING phase; an
// empty errorCode clears the script.
func (s *Simulator) FailMigrations(serverID, errorCode, failReason string) error {
	return s.updateServer(serverID, func(sv *server) error {
		sv.scriptedFailure = nil
		if errorCode != "" {
			sv.scriptedFailure = &scriptedFailure{errorCode: errorCode, failReason: failReason}
		}
		return nil
	})
}

// SetHostState sets a dedicated host's state: available, fault or released.
func (s *Simulator) SetHostState(id, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hosts[id]
	if !ok {
		return fmt.Errorf("ecstest: dedicated host %s: %w", id, errNotFound)
	}
	switch state {
	case HostAvailable, HostFault, HostReleased:
		h.state = state
		return nil
	}
	return fmt.Errorf("ecstest: dedicated host %s: state %q is not available, fault or released", id, state)
}

// updateServer applies f to a server under the lock and re-renders it.
func (s *Simulator) updateServer(id string, f func(*server) error) error {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catchUpLocked(now)
	sv, ok := s.servers[id]
	if !ok {
		return fmt.Errorf("ecstest: server %s: %w", id, errNotFound)
	}
	if err := f(sv); err != nil {
		return fmt.Errorf("ecstest: %w", err)
	}
	sv.updated = now
	sv.render()
	return nil
}
