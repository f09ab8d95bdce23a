package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// verdictKind is what a poll decided about a job.
type verdictKind int

const (
	// keepPolling: the job runs (or the server is still moving); poll again
	// on the schedule.
	keepPolling verdictKind = iota + 1
	// retry: the answer said nothing about the job (a transient failure);
	// poll again soon.
	retry
	// throttled: the API throttled the project; back it off.
	throttled
	// completed, failed, timedOut: a terminal outcome.
	completed
	failed
	timedOut
)

// verdict is the decision of one poll.
type verdict struct {
	kind verdictKind
	// status is what was seen, kept as the job's LastStatus: the job
	// status, or the server's for a watch job.
	status string
	// failure explains a failed verdict.
	failure events.Failure
	// err is the failure behind retry and throttled.
	err error
}

// decide asks ECS about the job and decides what follows. sg is what this
// tick's list said about the job's server: where it describes the server,
// it stands in for ShowServer.
func (p *Poller) decide(ctx context.Context, j *ledger.Job, sg sight) verdict {
	if j.JobID == "" {
		return p.decideWatch(ctx, j, sg)
	}
	job, err := p.ecs.ShowJob(ctx, j.Region, j.ProjectID, j.JobID)
	switch {
	case errors.Is(err, ecsclient.ErrJobNotFound):
		return p.decideVanished(ctx, j, sg)
	case err != nil:
		return trouble(err, j.LastStatus)
	}
	status := string(job.Status)
	switch job.Status {
	case ecsclient.JobSuccess:
		return p.verify(ctx, j, sg)
	case ecsclient.JobFail:
		return verdict{kind: failed, status: status, failure: jobFailure(job)}
	}
	if !p.now().Before(j.Deadline) {
		return verdict{kind: timedOut, status: status}
	}
	return verdict{kind: keepPolling, status: status}
}

// trouble is the verdict on an ECS call that failed without saying
// anything about the job: throttled, or to be retried.
func trouble(err error, lastStatus string) verdict {
	if errors.Is(err, ecsclient.ErrThrottled) {
		return verdict{kind: throttled, status: lastStatus, err: err}
	}
	return verdict{kind: retry, status: lastStatus, err: err}
}

// verify looks at the server of a job that reported SUCCESS: on the
// target with no task running, the move is complete; elsewhere, it is a
// placement mismatch; busy, it is looked at again.
func (p *Poller) verify(ctx context.Context, j *ledger.Job, sg sight) verdict {
	const status = string(ecsclient.JobSuccess)
	srv, err := p.server(ctx, j, sg)
	switch {
	case errors.Is(err, ecsclient.ErrServerNotFound):
		return verdict{kind: failed, status: status, failure: serverGone(j)}
	case err != nil:
		return trouble(err, status)
	}
	switch {
	case srv.Busy():
		if !p.now().Before(j.Deadline) {
			return verdict{kind: timedOut, status: status + "; server " + srv.State()}
		}
		return verdict{kind: keepPolling, status: status + "; server " + srv.State()}
	case srv.On(j.Target.DedicatedHostID):
		return verdict{kind: completed, status: status}
	}
	return verdict{kind: failed, status: status, failure: events.Failure{
		Reason: events.FailPlacementMismatch,
		Message: fmt.Sprintf("job %s reported SUCCESS but server %s is %s, not on %s",
			j.JobID, j.ServerID, srv.Placement(), j.Target.String()),
		ObservedHostID: srv.DedicatedHostID,
	}}
}

// decideVanished decides about a job ECS does not know (any more): the
// server settled on the target means the job succeeded before it was
// purged; a server that is gone fails the request; anything else is not
// conclusive and fails it as job_not_found.
func (p *Poller) decideVanished(ctx context.Context, j *ledger.Job, sg sight) verdict {
	const status = "job not found"
	srv, err := p.server(ctx, j, sg)
	switch {
	case errors.Is(err, ecsclient.ErrServerNotFound):
		return verdict{kind: failed, status: status, failure: serverGone(j)}
	case err != nil:
		return trouble(err, j.LastStatus)
	case !srv.Busy() && srv.On(j.Target.DedicatedHostID):
		return verdict{kind: completed, status: status}
	}
	return verdict{kind: failed, status: status, failure: events.Failure{
		Reason: events.FailJobNotFound,
		Message: fmt.Sprintf("ECS no longer knows job %s (finished jobs are purged after about a day; last seen %s) and server %s is %s, %s, not settled on %s",
			j.JobID, orNever(j.LastStatus), j.ServerID, srv.State(), srv.Placement(), j.Target.String()),
		ObservedHostID: srv.DedicatedHostID,
	}}
}

// decideWatch follows the server of a request whose migrate call has no
// known job id: settled on the target it is complete; moving, or not
// (yet) moved, it is watched until the deadline.
func (p *Poller) decideWatch(ctx context.Context, j *ledger.Job, sg sight) verdict {
	srv, err := p.server(ctx, j, sg)
	switch {
	case errors.Is(err, ecsclient.ErrServerNotFound):
		return verdict{kind: failed, status: "server not found", failure: serverGone(j)}
	case err != nil:
		return trouble(err, j.LastStatus)
	}
	status := "server " + srv.State() + " " + srv.Placement()
	switch {
	case !srv.Busy() && srv.On(j.Target.DedicatedHostID):
		return verdict{kind: completed, status: status}
	case !p.now().Before(j.Deadline):
		return verdict{kind: timedOut, status: status}
	}
	return verdict{kind: keepPolling, status: status}
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}

// serverGone is the failure of a request whose server was deleted.
func serverGone(j *ledger.Job) events.Failure {
	return events.Failure{
		Reason:  events.FailServerNotFound,
		Message: fmt.Sprintf("server %s no longer exists in project %s", j.ServerID, j.ProjectID),
	}
}

// jobFailure is the failure of a job that ended in FAIL, with the
// sub-jobs that did not succeed.
func jobFailure(job *ecsclient.Job) events.Failure {
	f := events.Failure{
		Reason:     events.FailJobFailed,
		ErrorCode:  job.ErrorCode,
		FailReason: job.FailReason,
	}
	for _, s := range job.SubJobs {
		if s.Status == ecsclient.JobSuccess {
			continue
		}
		f.SubJobs = append(f.SubJobs, events.SubJobFailure{
			JobID: s.ID, JobType: s.Type, Status: string(s.Status),
			ErrorCode: s.ErrorCode, FailReason: s.FailReason, Message: s.ErrorMessage,
		})
	}
	f.Message = fmt.Sprintf("job %s ended in FAIL", job.ID)
	switch {
	case job.ErrorCode != "" && job.FailReason != "":
		f.Message += ": " + job.ErrorCode + ": " + job.FailReason
	case job.FailReason != "":
		f.Message += ": " + job.FailReason
	case job.ErrorCode != "":
		f.Message += ": " + job.ErrorCode
	}
	return f
}

// server returns the job's server: as this tick's list answer describes
// it, or else as ShowServer does. A list answer that the server is missing
// is not taken for it: only ShowServer fails a request for a server gone.
func (p *Poller) server(ctx context.Context, j *ledger.Job, sg sight) (*ecsclient.Server, error) {
	if sg.Presence == ecsclient.ServerFound {
		return sg.Server, nil
	}
	return p.ecs.ShowServer(ctx, j.Region, j.ProjectID, j.ServerID)
}
