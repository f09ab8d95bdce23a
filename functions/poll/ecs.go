package main

import (
	"context"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/internal/ecspool"
)

// poolECS is [ECS] over a pool of per-region clients.
type poolECS struct{ pool *ecspool.Pool }

var _ ECS = poolECS{}

// ShowJob asks the client of region for the job.
func (e poolECS) ShowJob(ctx context.Context, region, projectID, jobID string) (*ecsclient.Job, error) {
	c, err := e.pool.For(region)
	if err != nil {
		return nil, err
	}
	return c.ShowJob(ctx, projectID, jobID)
}

// ShowServer asks the client of region for the server.
func (e poolECS) ShowServer(ctx context.Context, region, projectID, serverID string) (*ecsclient.Server, error) {
	c, err := e.pool.For(region)
	if err != nil {
		return nil, err
	}
	return c.ShowServer(ctx, projectID, serverID)
}

// MigrateServer asks the client of region to migrate the server.
func (e poolECS) MigrateServer(ctx context.Context, region, projectID, serverID string, target ecsclient.Target) (string, error) {
	c, err := e.pool.For(region)
	if err != nil {
		return "", err
	}
	return c.MigrateServer(ctx, projectID, serverID, target)
}

// StartServer asks the client of region to start the server.
func (e poolECS) StartServer(ctx context.Context, region, projectID, serverID string) (string, error) {
	c, err := e.pool.For(region)
	if err != nil {
		return "", err
	}
	return c.BatchStartServers(ctx, projectID, []string{serverID})
}

// ListServers asks the client of region for up to ecsclient.MaxListIDs
// servers at once.
func (e poolECS) ListServers(ctx context.Context, region, projectID string, serverIDs []string) ([]ecsclient.ServerLookup, error) {
	c, err := e.pool.For(region)
	if err != nil {
		return nil, err
	}
	return c.ListServersDetails(ctx, projectID, serverIDs)
}

// newECS returns the ECS clients of cfg as every binary builds them
// (ecspool: one request budget for the process), with a connection pool
// sized for the tick's workers. opts (a retry policy, in tests) apply to
// every client.
func newECS(cfg Config, opts ...ecsclient.Option) (poolECS, error) {
	ec := cfg.ECS
	ec.Conns = cfg.Concurrency
	pool, err := ecspool.New(ec, opts...)
	if err != nil {
		return poolECS{}, err
	}
	return poolECS{pool: pool}, nil
}
