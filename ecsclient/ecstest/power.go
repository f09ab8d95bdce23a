package ecstest

import (
	"encoding/json"
	"fmt"
	"time"
)

// maxBatchServers is the most servers one os-stop or os-start may name.
const maxBatchServers = 1000

// powerAction is the decoded body of a batch os-stop or os-start request.
type powerAction struct {
	stop      bool
	hard      bool
	serverIDs []string
}

type actionServers struct {
	Type    *string `json:"type"`
	Servers []struct {
		ID *string `json:"id"`
	} `json:"servers"`
}

// decodeActionBody decodes {"os-stop": {"type": "SOFT"|"HARD", "servers":
// [{"id": ...}]}} or {"os-start": {"servers": [...]}}: exactly one action,
// 1 to 1000 distinct non-empty ids; anything else is 400 Ecs.0005.
func decodeActionBody(body []byte) (powerAction, *apiError) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return powerAction{}, invalidParams("the request body must be a JSON object")
	}
	if len(top) != 1 {
		return powerAction{}, invalidParams("the request body must hold exactly one action")
	}
	var a powerAction
	name, raw := soleEntry(top)
	switch name {
	case "os-stop":
		a.stop = true
	case "os-start":
	default:
		return powerAction{}, invalidParams("action %q is not supported by the simulator", name)
	}
	var opt actionServers
	if err := json.Unmarshal(raw, &opt); err != nil {
		return powerAction{}, invalidParams("the action must be an object with a servers list: %v", err)
	}
	if opt.Type != nil {
		if !a.stop {
			return powerAction{}, invalidParams(`"type" is only valid for os-stop`)
		}
		switch *opt.Type {
		case "SOFT":
		case "HARD":
			a.hard = true
		default:
			return powerAction{}, invalidParams(`"type" must be SOFT or HARD, not %q`, *opt.Type)
		}
	}
	if n := len(opt.Servers); n == 0 || n > maxBatchServers {
		return powerAction{}, invalidParams("servers must list 1 to %d ECSs, not %d", maxBatchServers, n)
	}
	seen := make(map[string]bool, len(opt.Servers))
	for i, sv := range opt.Servers {
		if sv.ID == nil || *sv.ID == "" {
			return powerAction{}, invalidParams("servers[%d].id must be a non-empty string", i)
		}
		if seen[*sv.ID] {
			return powerAction{}, invalidParams("servers[%d].id %q is listed twice", i, *sv.ID)
		}
		seen[*sv.ID] = true
		a.serverIDs = append(a.serverIDs, *sv.ID)
	}
	return a, nil
}

// soleEntry returns the key and value of a one-entry map.
func soleEntry(m map[string]json.RawMessage) (string, json.RawMessage) {
	for k, v := range m {
		return k, v
	}
	return "", nil
}

// batchPower starts an os-stop or os-start job at model time now. Unknown
// servers refuse the whole request (404 Ecs.0114); a server that cannot take
// the action (locked, or busy with another task) fails its own sub-job.
func (s *Simulator) batchPower(projectID string, a powerAction, now time.Time) (*job, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catchUpLocked(now)
	for _, id := range a.serverIDs {
		if sv, ok := s.servers[id]; !ok || sv.projectID != projectID {
			return nil, serverNotFound(id)
		}
	}
	j := &job{id: s.newHexID(), projectID: projectID, status: JobInit, begin: now, kind: jobStart, jobType: JobTypeBatchStart}
	subType, task := jobTypeStartOne, "powering-on"
	if a.stop {
		j.kind, j.jobType, subType, task = jobStop, JobTypeBatchStop, jobTypeStopOne, "powering-off"
	}
	for _, id := range a.serverIDs {
		sv := s.servers[id]
		sub := &subJob{id: s.newHexID(), serverID: id, jobType: subType, status: JobInit}
		switch {
		case sv.locked:
			sub.errorCode, sub.failReason = codeLocked, fmt.Sprintf("The ECS [%s] has been locked.", id)
		case sv.taskState != "":
			sub.errorCode, sub.failReason = codeNotStopped, fmt.Sprintf("The ECS [%s] is busy: task state %s.", id, sv.taskState)
		case a.stop && sv.status == StatusActive, !a.stop && sv.status == StatusShutoff:
			sub.applies = true
			sv.taskState, sv.updated = task, now
			sv.render()
		}
		j.subs = append(j.subs, sub)
	}
	s.jobs[j.id] = j
	j.render()
	s.schedule(j, now.Add(s.timings.Queued))
	return j, nil
}

// stepPower moves power job j to its next phase at time at; s.mu must be
// held.
func (s *Simulator) stepPower(j *job, at time.Time) {
	if j.phase == 0 {
		j.status, j.phase = JobRunning, 1
		for _, sub := range j.subs {
			sub.status, sub.begin = JobRunning, at
		}
		s.schedule(j, at.Add(s.timings.Power))
		return
	}
	failed := 0
	for _, sub := range j.subs {
		sub.end = at
		if sub.errorCode != "" {
			sub.status = JobFail
			if failed == 0 {
				j.errorCode = sub.errorCode
			}
			failed++
			continue
		}
		sub.status = JobSuccess
		if !sub.applies {
			continue
		}
		sv := s.servers[sub.serverID]
		if j.kind == jobStop {
			sv.setStopped()
		} else {
			sv.setActive()
		}
		sv.updated = at
		sv.render()
	}
	if failed > 0 {
		j.failReason = fmt.Sprintf("%d of %d sub-jobs failed", failed, len(j.subs))
		s.finish(j, at, JobFail)
		return
	}
	s.finish(j, at, JobSuccess)
}
