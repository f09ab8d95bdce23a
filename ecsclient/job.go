package ecsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coldmove/coldmove/ids"
)

// JobStatus is the status of an asynchronous ECS job. Values the API adds
// later are kept verbatim, never mapped to a known one.
type JobStatus string

// The job statuses the API documents.
const (
	JobInit           JobStatus = "INIT"
	JobRunning        JobStatus = "RUNNING"
	JobSuccess        JobStatus = "SUCCESS"
	JobFail           JobStatus = "FAIL"
	JobPendingPayment JobStatus = "PENDING_PAYMENT" // prepaid orders only
)

// Terminal reports whether the job has finished: SUCCESS or FAIL. Unknown
// statuses are not terminal, so a poller keeps polling rather than guess.
func (s JobStatus) Terminal() bool { return s == JobSuccess || s == JobFail }

// Known reports whether s is one of the documented statuses.
func (s JobStatus) Known() bool {
	switch s {
	case JobInit, JobRunning, JobSuccess, JobFail, JobPendingPayment:
		return true
	}
	return false
}

// Job is an asynchronous ECS job as [Client.ShowJob] reports it.
type Job struct {
	ID     string
	Type   string // job_type, e.g. "createServer"
	Status JobStatus
	// BeginTime and EndTime are in UTC with the API's milliseconds; zero
	// when absent or in a form the client cannot read.
	BeginTime, EndTime time.Time
	// ErrorCode and FailReason explain a FAIL ("" when null).
	ErrorCode, FailReason string
	// ServerID is entities.server_id, when the job names a server.
	ServerID string
	SubJobs  []SubJob
}

// SubJob is one entry of a job's entities.sub_jobs.
type SubJob struct {
	ID                    string
	Type                  string
	Status                JobStatus
	BeginTime, EndTime    time.Time
	ErrorCode, FailReason string
	// ErrorMessage is entities.errorcode_message.
	ErrorMessage string
	// ServerID is entities.server_id.
	ServerID string
}

// ShowJob returns the status of an asynchronous job. An unknown job, or a
// finished one the API has already removed (about a day after it ends),
// gives an error matching [ErrJobNotFound]: code Common.0011, or HTTP 404
// from the ECS service (a 404 from the API Gateway, or one without an error
// code, means a wrong route and is not read as a missing job).
//
// API: GET /v1/{project_id}/jobs/{job_id}
func (c *Client) ShowJob(ctx context.Context, projectID, jobID string) (*Job, error) {
	if err := firstErr(ids.Project.Check(projectID), ids.Job.Check(jobID)); err != nil {
		return nil, fmt.Errorf("ecsclient: show job: %w", err)
	}
	raw := jobJSON{want: jobID}
	rq := &call{method: http.MethodGet, path: apiPath("v1", projectID, "jobs", jobID), project: projectID, safe: true}
	if err := c.do(ctx, rq, &raw); err != nil {
		return nil, fmt.Errorf("ecsclient: show job %s: %w", jobID, notFoundAs(err, ErrJobNotFound))
	}
	return raw.job(), nil
}

// serviceNotFound reports a 404 answered by the ECS service itself.
func serviceNotFound(err error) bool {
	ae, ok := errors.AsType[*APIError](err)
	return ok && ae.StatusCode == http.StatusNotFound && ae.Code != "" && !ae.fromGateway()
}

type jobJSON struct {
	Status     looseString `json:"status"`
	JobID      looseString `json:"job_id"`
	JobType    looseString `json:"job_type"`
	BeginTime  looseString `json:"begin_time"`
	EndTime    looseString `json:"end_time"`
	ErrorCode  looseString `json:"error_code"`
	FailReason looseString `json:"fail_reason"`
	Entities   struct {
		ServerID looseString  `json:"server_id"`
		SubJobs  []subJobJSON `json:"sub_jobs"`
	} `json:"entities"`

	want string // the job asked for
}

type subJobJSON struct {
	Status     looseString `json:"status"`
	JobID      looseString `json:"job_id"`
	JobType    looseString `json:"job_type"`
	BeginTime  looseString `json:"begin_time"`
	EndTime    looseString `json:"end_time"`
	ErrorCode  looseString `json:"error_code"`
	FailReason looseString `json:"fail_reason"`
	Entities   struct {
		ServerID         looseString `json:"server_id"`
		ErrorCodeMessage looseString `json:"errorcode_message"`
	} `json:"entities"`
}

// reset empties the answer, keeping the job asked for.
func (j *jobJSON) reset() { *j = jobJSON{want: j.want} }

// check refuses an answer a poller could only guess from: no status, or a
// different job.
func (j *jobJSON) check() error {
	switch {
	case j.Status == "":
		return errors.New("answer has no job status")
	case j.JobID != "" && !strings.EqualFold(string(j.JobID), j.want):
		return fmt.Errorf("answer describes job %q", clip(string(j.JobID)))
	}
	return nil
}

// job converts the checked wire form.
func (j *jobJSON) job() *Job {
	id := string(j.JobID)
	if id == "" {
		id = j.want
	}
	job := &Job{
		ID:         id,
		Type:       string(j.JobType),
		Status:     JobStatus(j.Status),
		BeginTime:  apiTime(j.BeginTime),
		EndTime:    apiTime(j.EndTime),
		ErrorCode:  string(j.ErrorCode),
		FailReason: string(j.FailReason),
		ServerID:   string(j.Entities.ServerID),
	}
	for _, s := range j.Entities.SubJobs {
		job.SubJobs = append(job.SubJobs, SubJob{
			ID:           string(s.JobID),
			Type:         string(s.JobType),
			Status:       JobStatus(s.Status),
			BeginTime:    apiTime(s.BeginTime),
			EndTime:      apiTime(s.EndTime),
			ErrorCode:    string(s.ErrorCode),
			FailReason:   string(s.FailReason),
			ErrorMessage: string(s.Entities.ErrorCodeMessage),
			ServerID:     string(s.Entities.ServerID),
		})
	}
	return job
}

// apiTime is parseAPITime without the ok: the job's status matters more
// than a time in an unexpected form.
func apiTime(s looseString) time.Time {
	t, _ := parseAPITime(string(s))
	return t
}
