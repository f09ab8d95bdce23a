package ecsclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/coldmove/coldmove/ids"
)

// MaxBatchServers is the most servers one batch action accepts.
const MaxBatchServers = 1000

type serverRef struct {
	ID string `json:"id"`
}

type stopRequest struct {
	Stop struct {
		Type    string      `json:"type"`
		Servers []serverRef `json:"servers"`
	} `json:"os-stop"`
}

type startRequest struct {
	Start struct {
		Servers []serverRef `json:"servers"`
	} `json:"os-start"`
}

// BatchStopServers stops servers and returns the job id. A soft stop asks
// the guest OS to shut down; hard forces it off. Retries and
// [ErrOutcomeUnknown] follow the same rules as [Client.MigrateServer].
//
// API: POST /v1/{project_id}/cloudservers/action with {"os-stop": …}
func (c *Client) BatchStopServers(ctx context.Context, projectID string, serverIDs []string, hard bool) (jobID string, err error) {
	refs, err := batchRefs(projectID, serverIDs)
	if err != nil {
		return "", fmt.Errorf("ecsclient: stop servers: %w", err)
	}
	var body stopRequest
	body.Stop.Type = "SOFT"
	if hard {
		body.Stop.Type = "HARD"
	}
	body.Stop.Servers = refs
	id, err := c.submitJob(ctx, projectID, apiPath("v1", projectID, "cloudservers", "action"), body)
	if err != nil {
		return "", fmt.Errorf("ecsclient: stop servers %s: %w", describeBatch(serverIDs), err)
	}
	return id, nil
}

// BatchStartServers starts servers and returns the job id. Retries and
// [ErrOutcomeUnknown] follow the same rules as [Client.MigrateServer].
//
// API: POST /v1/{project_id}/cloudservers/action with {"os-start": …}
func (c *Client) BatchStartServers(ctx context.Context, projectID string, serverIDs []string) (jobID string, err error) {
	refs, err := batchRefs(projectID, serverIDs)
	if err != nil {
		return "", fmt.Errorf("ecsclient: start servers: %w", err)
	}
	var body startRequest
	body.Start.Servers = refs
	id, err := c.submitJob(ctx, projectID, apiPath("v1", projectID, "cloudservers", "action"), body)
	if err != nil {
		return "", fmt.Errorf("ecsclient: start servers %s: %w", describeBatch(serverIDs), err)
	}
	return id, nil
}

// batchRefs validates the project and 1 to MaxBatchServers distinct server
// ids.
func batchRefs(projectID string, serverIDs []string) ([]serverRef, error) {
	if err := ids.Project.Check(projectID); err != nil {
		return nil, err
	}
	if err := checkServerIDs(serverIDs, MaxBatchServers); err != nil {
		return nil, err
	}
	refs := make([]serverRef, len(serverIDs))
	for i, id := range serverIDs {
		refs[i] = serverRef{ID: id}
	}
	return refs, nil
}

// checkServerIDs accepts 1 to most server ids, each valid and none listed
// twice (ids compare without regard to case).
func checkServerIDs(serverIDs []string, most int) error {
	if len(serverIDs) == 0 || len(serverIDs) > most {
		return fmt.Errorf("%w: %d server ids, want 1 to %d", ErrInvalidID, len(serverIDs), most)
	}
	seen := make(map[string]bool, len(serverIDs))
	for _, id := range serverIDs {
		if err := ids.Server.Check(id); err != nil {
			return err
		}
		key := strings.ToLower(id)
		if seen[key] {
			return fmt.Errorf("%w: server id %q listed twice", ErrInvalidID, id)
		}
		seen[key] = true
	}
	return nil
}

// describeBatch names the servers in an error: the id itself for one, a
// count and the first id for more.
func describeBatch(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return fmt.Sprintf("%s and %d more", ids[0], len(ids)-1)
}
