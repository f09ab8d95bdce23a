package ecstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// migrateTarget is the decoded body of a MigrateServer request.
type migrateTarget struct {
	dedicatedHostID string // "" means the public pool
}

// decodeMigrateBody decodes {"migrate": null} or
// {"migrate": {"dedicated_host_id": "..."}} as the API validates it: the
// "migrate" key is required, dedicated_host_id is an optional non-empty
// string, and anything else is 400 Ecs.0005.
func decodeMigrateBody(body []byte) (migrateTarget, *apiError) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return migrateTarget{}, invalidParams("the request body must be a JSON object")
	}
	raw, ok := top["migrate"]
	if !ok {
		return migrateTarget{}, invalidParams(`"migrate" is required`)
	}
	if bytes.Equal(raw, []byte("null")) {
		return migrateTarget{}, nil
	}
	var opt map[string]json.RawMessage
	if err := json.Unmarshal(raw, &opt); err != nil {
		return migrateTarget{}, invalidParams(`"migrate" must be null or an object`)
	}
	rawID, ok := opt["dedicated_host_id"]
	if !ok || bytes.Equal(rawID, []byte("null")) {
		return migrateTarget{}, nil
	}
	var id string
	if err := json.Unmarshal(rawID, &id); err != nil {
		return migrateTarget{}, invalidParams(`"migrate.dedicated_host_id" must be a string`)
	}
	if id == "" {
		return migrateTarget{}, invalidParams(`"migrate.dedicated_host_id" must not be empty`)
	}
	return migrateTarget{dedicatedHostID: id}, nil
}

func invalidParams(format string, args ...any) *apiError {
	return ecsError(http.StatusBadRequest, codeInvalidParams, "Invalid parameters: "+format, args...)
}

func serverNotFound(id string) *apiError {
	return ecsError(http.StatusNotFound, codeServerNotFound, "Instance[%s] could not be found.", id)
}

// migrate starts a cold migration of a server in a project at model time now
// and returns the job, or the API's refusal.
func (s *Simulator) migrate(projectID, serverID string, target migrateTarget, now time.Time) (*job, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catchUpLocked(now)
	sv, ok := s.servers[serverID]
	if !ok || sv.projectID != projectID {
		return nil, serverNotFound(serverID)
	}
	if sv.locked {
		return nil, ecsError(http.StatusBadRequest, codeLocked, "The ECS [%s] has been locked.", serverID)
	}
	if sv.status != StatusShutoff || sv.taskState != "" {
		return nil, ecsError(http.StatusBadRequest, codeNotStopped,
			"The ECS status does not meet requirements: status %s, task state %s; only a stopped ECS can be cold migrated.",
			sv.status, cmpNull(sv.taskState))
	}
	if sv.chargingMode != ChargingPayPerUse {
		return nil, invalidParams("only pay-per-use ECSs can be cold migrated; ECS [%s] has charging mode %s", serverID, sv.chargingMode)
	}
	if target.dedicatedHostID == sv.hostID {
		if sv.hostID == "" {
			return nil, invalidParams("ECS [%s] is not on a dedicated host; migrating to the public pool needs a DeH source", serverID)
		}
		return nil, ecsError(http.StatusBadRequest, codeSameHost, "Cold migration to the same DeH [%s] is not supported.", sv.hostID)
	}
	if id := target.dedicatedHostID; id != "" {
		h, ok := s.hosts[id]
		if !ok || h.projectID != projectID {
			return nil, invalidParams("dedicated host [%s] does not exist", id)
		}
		if h.rejectWhenFull && !h.fits(sv) {
			return nil, ecsError(http.StatusBadRequest, codeNoCapacity, "Insufficient resources for this flavor: %s.", numaShortage(h, sv))
		}
	}
	j := &job{
		id: s.newHexID(), projectID: projectID, jobType: JobTypeMigrate, kind: jobMigrate,
		status: JobInit, begin: now, serverID: serverID, sourceHostID: sv.hostID,
		targetHostID: target.dedicatedHostID,
	}
	s.jobs[j.id] = j
	sv.status, sv.taskState, sv.updated = StatusResize, "resize_prep", now
	sv.render()
	j.render()
	s.schedule(j, now.Add(s.timings.Queued))
	return j, nil
}

func cmpNull(s string) string {
	if s == "" {
		return "null"
	}
	return s
}

// numaShortage describes why a server does not fit a host.
func numaShortage(h *host, sv *server) string {
	return fmt.Sprintf("no single NUMA node of dedicated host [%s] can hold flavor %s (%d vCPUs, %d MB); free: %d vCPUs, %d MB",
		h.id, sv.flavorID, sv.vcpus, sv.ramMB, h.freeVCPUs(), h.freeMemMB())
}

// stepMigration moves migration job j to its next phase at time at; s.mu
// must be held.
func (s *Simulator) stepMigration(j *job, at time.Time) {
	sv := s.servers[j.serverID]
	switch j.phase {
	case 0: // INIT -> RUNNING, claiming room on the target
		if h := s.hosts[j.targetHostID]; h != nil {
			switch {
			case h.state != HostAvailable:
				s.failMigration(j, sv, at, codeNoCapacity, fmt.Sprintf("No valid host was found: dedicated host [%s] is %s.", h.id, h.state))
				return
			case !h.fits(sv):
				s.failMigration(j, sv, at, codeNoCapacity, "No valid host was found: "+numaShortage(h, sv)+".")
				return
			}
			h.reserve(sv)
			j.reserved = true
		}
		j.status, j.phase = JobRunning, 1
		sv.taskState = "resize_migrating"
		d := s.timings.Migrating
		if sv.migrating > 0 {
			d = sv.migrating
		}
		s.schedule(j, at.Add(d))
	case 1: // migrated: finishing, or a scripted failure
		if f := sv.scriptedFailure; f != nil {
			s.failMigration(j, sv, at, f.errorCode, f.failReason)
			return
		}
		j.phase = 2
		sv.taskState = "resize_finish"
		s.schedule(j, at.Add(s.timings.Finishing))
	default: // done: the server is on its new host, stopped
		if src := s.hosts[j.sourceHostID]; src != nil {
			src.remove(sv)
		}
		if dst := s.hosts[j.targetHostID]; dst != nil {
			dst.instances = append(dst.instances, sv.id) // room reserved in phase 0
			sv.physicalHost = dst.name
		} else {
			sv.physicalHost = s.poolHostName()
		}
		sv.hostID = j.targetHostID
		sv.setStopped()
		s.finish(j, at, JobSuccess)
	}
	sv.updated = at
	sv.render()
}

// failMigration ends migration job j in FAIL, giving back reserved room and
// leaving the server stopped where it was.
func (s *Simulator) failMigration(j *job, sv *server, at time.Time, code, reason string) {
	if j.reserved {
		s.hosts[j.targetHostID].release(sv)
		j.reserved = false
	}
	j.errorCode, j.failReason = code, reason
	sv.setStopped()
	sv.updated = at
	sv.render()
	s.finish(j, at, JobFail)
}

// setStopped makes the server idle and SHUTOFF.
func (sv *server) setStopped() {
	sv.status, sv.vmState, sv.taskState, sv.powerState = StatusShutoff, "stopped", "", powerShutdown
}

// setActive makes the server idle and ACTIVE.
func (sv *server) setActive() {
	sv.status, sv.vmState, sv.taskState, sv.powerState = StatusActive, "active", "", powerRunning
}
