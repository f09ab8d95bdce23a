package main

import (
	"context"
	"net/http"

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

// newECS returns the ECS clients of cfg, every request of every region
// spending one token of a shared budget of cfg.APIRate per second, over
// a connection pool sized for cfg.Concurrency workers. opts (a retry
// policy, in tests) apply to every client.
func newECS(cfg *Config, opts ...ecsclient.Option) (poolECS, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = max(cfg.Concurrency, 2)
	lim := &ecspool.Limited{Limiter: ecspool.NewLimiter(cfg.APIRate), Base: base}
	pool, err := ecspool.New(cfg.ECSConfig, append([]ecsclient.Option{ecspool.WithTransport(lim)}, opts...)...)
	if err != nil {
		return poolECS{}, err
	}
	return poolECS{pool: pool}, nil
}
