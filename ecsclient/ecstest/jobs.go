package ecstest

import (
	"container/heap"
	"encoding/json"
	"time"
)

// Job statuses, as ShowJob reports them.
const (
	JobInit    = "INIT"
	JobRunning = "RUNNING"
	JobSuccess = "SUCCESS"
	JobFail    = "FAIL"
)

// Job types. The public documentation names no job_type for a cold
// migration; "migrateServer" is the simulator's choice.
const (
	JobTypeMigrate    = "migrateServer"
	JobTypeBatchStop  = "batchStopServers"
	JobTypeBatchStart = "batchStartServers"
	jobTypeStopOne    = "stopServer"
	jobTypeStartOne   = "startServer"
)

type jobKind int

const (
	jobMigrate jobKind = iota
	jobStop
	jobStart
)

// job is the model of one asynchronous job.
type job struct {
	id, projectID, jobType string
	kind                   jobKind
	status                 string
	phase                  int
	begin, end             time.Time
	errorCode, failReason  string

	// migrations
	serverID, sourceHostID, targetHostID string
	reserved                             bool // room taken on the target

	// power actions
	subs []*subJob

	body []byte // rendered ShowJob answer, replaced on change
}

// subJob is one server's part of a power job.
type subJob struct {
	id, serverID, jobType, status string
	begin, end                    time.Time
	errorCode, failReason         string
	applies                       bool // the action changes the server
}

func (j *job) finished() bool { return j.status == JobSuccess || j.status == JobFail }

// finish ends job j at time at and schedules its removal after retention.
func (s *Simulator) finish(j *job, at time.Time, status string) {
	j.status, j.end = status, at
	if s.retention >= 0 {
		s.schedule(j, at.Add(s.retention))
	}
}

// step applies the transition of event e; s.mu must be held.
func (s *Simulator) step(e event) {
	j, ok := s.jobs[e.jobID]
	if !ok {
		return
	}
	if j.finished() {
		delete(s.jobs, j.id) // retention expired
		return
	}
	switch j.kind {
	case jobMigrate:
		s.stepMigration(j, e.at)
	default:
		s.stepPower(j, e.at)
	}
	j.render()
}

// event is a due job transition.
type event struct {
	at    time.Time
	seq   uint64
	jobID string
}

// eventHeap orders events by time, then by the order they were scheduled.
type eventHeap []event

var _ heap.Interface = (*eventHeap)(nil)

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, k int) bool {
	if !h[i].at.Equal(h[k].at) {
		return h[i].at.Before(h[k].at)
	}
	return h[i].seq < h[k].seq
}
func (h eventHeap) Swap(i, k int) { h[i], h[k] = h[k], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// jobTimeLayout is the job time format: UTC with milliseconds.
const jobTimeLayout = "2006-01-02T15:04:05.000Z"

func jobTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(jobTimeLayout)
}

// nullable returns nil for "" so that it encodes as JSON null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type jobWire struct {
	Status     string      `json:"status"`
	Entities   jobEntities `json:"entities"`
	JobID      string      `json:"job_id"`
	JobType    string      `json:"job_type"`
	BeginTime  string      `json:"begin_time"`
	EndTime    string      `json:"end_time"`
	ErrorCode  *string     `json:"error_code"`
	FailReason *string     `json:"fail_reason"`
}

type jobEntities struct {
	ServerID     string       `json:"server_id,omitempty"`
	SubJobsTotal *int         `json:"sub_jobs_total,omitempty"`
	SubJobs      []subJobWire `json:"sub_jobs,omitempty"`
}

type subJobWire struct {
	Status     string         `json:"status"`
	Entities   subJobEntities `json:"entities"`
	JobID      string         `json:"job_id"`
	JobType    string         `json:"job_type"`
	BeginTime  string         `json:"begin_time"`
	EndTime    string         `json:"end_time"`
	ErrorCode  *string        `json:"error_code"`
	FailReason *string        `json:"fail_reason"`
}

type subJobEntities struct {
	ServerID         string  `json:"server_id"`
	ErrorcodeMessage *string `json:"errorcode_message,omitempty"`
}

// render re-encodes the job's ShowJob answer.
func (j *job) render() {
	w := jobWire{
		Status: j.status, JobID: j.id, JobType: j.jobType, BeginTime: jobTime(j.begin),
		EndTime: jobTime(j.end), ErrorCode: nullable(j.errorCode), FailReason: nullable(j.failReason),
	}
	if j.kind == jobMigrate {
		w.Entities.ServerID = j.serverID
	} else {
		n := len(j.subs)
		w.Entities.SubJobsTotal = &n
		for _, sub := range j.subs {
			sw := subJobWire{
				Status: sub.status, JobID: sub.id, JobType: sub.jobType, BeginTime: jobTime(sub.begin),
				EndTime: jobTime(sub.end), ErrorCode: nullable(sub.errorCode), FailReason: nullable(sub.failReason),
				Entities: subJobEntities{ServerID: sub.serverID},
			}
			if sub.errorCode != "" {
				sw.Entities.ErrorcodeMessage = nullable(sub.errorCode + ": " + sub.failReason)
			}
			w.Entities.SubJobs = append(w.Entities.SubJobs, sw)
		}
	}
	j.body, _ = json.Marshal(w) // plain strings and numbers: encoding cannot fail
}
