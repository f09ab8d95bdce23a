package main

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ledger"
)

// ECS is what the handler needs of the ECS API.
type ECS interface {
	ShowServer(ctx context.Context, projectID, serverID string) (*ecsclient.Server, error)
	MigrateServer(ctx context.Context, projectID, serverID string, target ecsclient.Target) (string, error)
	BatchStopServers(ctx context.Context, projectID string, serverIDs []string, hard bool) (string, error)
}

// Clients returns the ECS client for a region ("" is the default).
type Clients func(region string) (ECS, error)

// Ledger is what the handler needs of the ledger: request claims, server
// locks and job records.
type Ledger interface {
	Claim(ctx context.Context, requestKey string) (*ledger.Claim, error)
	ClaimRequest(ctx context.Context, r ledger.RequestRef) (ledger.ClaimResult, error)
	MarkCalling(ctx context.Context, c *ledger.Claim, call ledger.Call) error
	MarkSubmitted(ctx context.Context, c *ledger.Claim, jobID string, accepted []byte) error
	MarkSubmittedUnknown(ctx context.Context, c *ledger.Claim) error
	FinishClaim(ctx context.Context, c *ledger.Claim, outcome []byte) error
	MarkOutcomePublished(ctx context.Context, requestKey string, outcome []byte) error
	RecordRejection(ctx context.Context, source, id string, outcome []byte) (*ledger.Claim, error)
	MarkAcceptedPublished(ctx context.Context, requestKey, jobID string) error
	ReleaseUnsent(ctx context.Context, c *ledger.Claim, lastErr string) error
	AcquireLock(ctx context.Context, c *ledger.Claim) (*ledger.Lock, error)
	ReleaseLock(ctx context.Context, lk *ledger.Lock) error
	ReleaseLeftLock(ctx context.Context, c *ledger.Claim) error
	RecordJob(ctx context.Context, j ledger.Job) (*ledger.Job, error)
	RecordPending(ctx context.Context, j ledger.Job) (*ledger.Job, error)
	DropPending(ctx context.Context, requestKey string) error
}

// Publisher publishes outcome events and waits for JetStream's
// acknowledgement.
type Publisher interface {
	Publish(ctx context.Context, e event.Event) (bus.PublishResult, error)
}

var (
	_ Ledger    = (*ledger.Ledger)(nil)
	_ Publisher = (*bus.Bus)(nil)
	_ ECS       = (*ecsclient.Client)(nil)
)
