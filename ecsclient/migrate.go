package ecsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/coldmove/coldmove/ids"
)

// Target is where a cold migration sends a server. The zero value is the
// public resource pool; a DedicatedHostID names a dedicated host (DeH).
type Target struct {
	DedicatedHostID string
}

// IsPublicPool reports whether t is the public resource pool.
func (t Target) IsPublicPool() bool { return t.DedicatedHostID == "" }

// String returns "public pool" or "dedicated host <id>".
func (t Target) String() string {
	if t.IsPublicPool() {
		return "public pool"
	}
	return "dedicated host " + t.DedicatedHostID
}

// migrateRequest is the body: {"migrate": null} for the public pool (the
// key is required, the value null), {"migrate": {"dedicated_host_id": …}}
// for a dedicated host.
type migrateRequest struct {
	Migrate *migrateOption `json:"migrate"`
}

type migrateOption struct {
	DedicatedHostID string `json:"dedicated_host_id"`
}

// jobResponse is the answer of every asynchronous action.
type jobResponse struct {
	JobID looseString `json:"job_id"`
}

// MigrateServer starts a cold migration of a stopped server to target and
// returns the id of the job to follow with [Client.ShowJob].
//
// The request is sent again only when it provably was not processed: a
// throttling answer, or a connection that failed before the request was
// written. When the outcome cannot be known (the connection broke or timed
// out after sending, a 5xx answer other than Ecs.0603, or a 2xx answer
// without a usable job_id) the error matches [ErrOutcomeUnknown]: look at
// the server before submitting again. Refusals match the sentinels, e.g.
// [ErrNotStopped], [ErrLocked], [ErrSameHost], [ErrServerNotFound].
//
// API: POST /v1/{project_id}/cloudservers/{server_id}/migrate
func (c *Client) MigrateServer(ctx context.Context, projectID, serverID string, target Target) (jobID string, err error) {
	if err := firstErr(ids.Project.Check(projectID), ids.Server.Check(serverID)); err != nil {
		return "", fmt.Errorf("ecsclient: migrate server: %w", err)
	}
	body := migrateRequest{}
	if !target.IsPublicPool() {
		if err := ids.DedicatedHost.Check(target.DedicatedHostID); err != nil {
			return "", fmt.Errorf("ecsclient: migrate server %s: %w", serverID, err)
		}
		body.Migrate = &migrateOption{DedicatedHostID: target.DedicatedHostID}
	}
	path := apiPath("v1", projectID, "cloudservers", serverID, "migrate")
	id, err := c.submitJob(ctx, projectID, path, body)
	if err != nil {
		return "", fmt.Errorf("ecsclient: migrate server %s to %s: %w", serverID, target, notFoundAs(err, ErrServerNotFound))
	}
	return id, nil
}

// submitJob POSTs body to path and returns the job id of the answer. A 2xx
// answer without a valid job id is an outcome-unknown error: the service
// may have started something that cannot now be followed.
func (c *Client) submitJob(ctx context.Context, projectID, path string, body any) (string, error) {
	b, err := encodeBody(body)
	if err != nil {
		return "", err
	}
	var resp jobResponse
	if err := c.do(ctx, &call{method: http.MethodPost, path: path, project: projectID, body: b}, &resp); err != nil {
		return "", err
	}
	id := string(resp.JobID)
	if id == "" {
		return "", outcomeUnknown(errors.New("success answer without a job_id"))
	}
	if err := ids.Job.Check(id); err != nil {
		return "", outcomeUnknown(fmt.Errorf("success answer with an unusable job_id: %v", err))
	}
	return id, nil
}
