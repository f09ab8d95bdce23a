package main

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"golang.org/x/time/rate"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ledger"
)

// ECS looks jobs and servers up in the ECS API of a region. [poolECS]
// implements it over per-region clients.
type ECS interface {
	// ShowJob returns the job's status; an unknown or purged job gives an
	// error matching [ecsclient.ErrJobNotFound].
	ShowJob(ctx context.Context, region, projectID, jobID string) (*ecsclient.Job, error)
	// ShowServer returns the server's status and placement; a server that
	// does not exist gives an error matching [ecsclient.ErrServerNotFound].
	ShowServer(ctx context.Context, region, projectID, serverID string) (*ecsclient.Server, error)
	// MigrateServer and StartServer make the later calls of a request
	// with power steps: the move after the stop, the start after the move.
	MigrateServer(ctx context.Context, region, projectID, serverID string, target ecsclient.Target) (string, error)
	StartServer(ctx context.Context, region, projectID, serverID string) (string, error)
	// ListServers reads up to ecsclient.MaxListIDs servers of a project in
	// one call, one lookup per id ([ecsclient.Client.ListServersDetails]).
	ListServers(ctx context.Context, region, projectID string, serverIDs []string) ([]ecsclient.ServerLookup, error)
}

// Publisher publishes an outcome event and waits for JetStream's
// acknowledgement. [bus.Bus] implements it.
type Publisher interface {
	Publish(ctx context.Context, e event.Event) (bus.PublishResult, error)
}

// Ledger is the part of the ledger a tick uses. [ledger.Ledger]
// implements it.
type Ledger interface {
	ListDueEach(ctx context.Context, each func([]ledger.JobRef)) (ledger.Schedule, error)
	Lease(ctx context.Context, ref ledger.JobRef, d time.Duration) (*ledger.Job, error)
	LeaseEarly(ctx context.Context, ref ledger.JobRef, d time.Duration) (*ledger.Job, error)
	Reschedule(ctx context.Context, j *ledger.Job, next time.Time) error
	SetOutcome(ctx context.Context, j *ledger.Job, outcome []byte) error
	FinishRequest(ctx context.Context, requestKey string, outcome []byte) error
	Remove(ctx context.Context, j *ledger.Job) error
	// The settling of pending records: see closePending.
	Claim(ctx context.Context, requestKey string) (*ledger.Claim, error)
	CloseRequest(ctx context.Context, requestKey string, from ledger.ClaimState, outcome []byte) error
	CloseUnclaimed(ctx context.Context, j *ledger.Job, outcome []byte) error
	MarkOutcomePublished(ctx context.Context, requestKey string, outcome []byte) error
	Discard(ctx context.Context, j *ledger.Job) error
	// Update moves a request with power steps from call to call.
	Update(ctx context.Context, j *ledger.Job) error
}

var (
	_ Publisher = (*bus.Bus)(nil)
	_ Ledger    = (*ledger.Ledger)(nil)
)

// Policy bounds what one tick does.
type Policy struct {
	// Concurrency is how many jobs are worked at once.
	Concurrency int
	// Headroom is the time kept at the end of a tick's budget for
	// publishing and recording the outcomes of jobs in flight: no job is
	// taken later, and ECS calls end by then. It is cut to a quarter of a
	// short budget.
	Headroom time.Duration
	// Budget bounds a tick whose context has no deadline.
	Budget time.Duration
	// LeaseMargin is added to the rest of the budget to make a job's
	// lease: a job whose poller died is due again that long after the
	// tick's deadline.
	LeaseMargin time.Duration
	// Schedule says when unfinished jobs are polled again.
	Schedule Schedule
	// Bulk turns on bulk observation: every tick reads the outstanding
	// servers with ListServersDetails and asks about a job only when its
	// server changed (see observe).
	Bulk bool
	// Limiter is the budget of ECS requests the process's clients spend
	// from (ecspool.Pool.Limiter); a tick takes only the work it pays for
	// before the tick's budget ends. Nil: no limit.
	Limiter *rate.Limiter
}

// DefaultPolicy returns the policy of a tick with concurrency workers.
func DefaultPolicy(concurrency int) Policy {
	return Policy{
		Concurrency: max(concurrency, 1),
		Headroom:    5 * time.Second,
		Budget:      time.Minute,
		LeaseMargin: 30 * time.Second,
		Schedule:    DefaultSchedule(),
		Bulk:        true,
	}
}

// Poller works the ledger's due jobs to their outcomes, one [Poller.Tick]
// at a time or several at once. It is safe for concurrent use; the project
// back-off it keeps after throttling lasts across ticks.
type Poller struct {
	ecs    ECS
	pub    Publisher
	led    Ledger
	policy Policy
	log    *slog.Logger

	// now is the clock of decisions (job deadlines, poll times, event
	// times); it must be the ledger's clock. wall measures the tick's
	// budget against its context's deadline.
	now, wall func() time.Time

	throttle *backoff
	// listHold holds back listing the servers of a project whose list
	// call failed other than transiently.
	listHold *backoff

	// crash, when set (by the crash tests only), is called at each step
	// boundary (crash.go).
	crash func(point string)
}

// Option adjusts a [Poller].
type Option func(*Poller)

// WithClock sets the clock of decisions: job deadlines, next poll times,
// event times and the project back-off. Give the ledger the same clock.
// The default is [time.Now].
func WithClock(now func() time.Time) Option { return func(p *Poller) { p.now = now } }

// WithLogger sets the logger of per-job decisions; the default discards
// them.
func WithLogger(l *slog.Logger) Option { return func(p *Poller) { p.log = l } }

// withWall sets the clock the tick's budget is measured with, for tests.
func withWall(wall func() time.Time) Option { return func(p *Poller) { p.wall = wall } }

// NewPoller returns a poller that looks jobs up through ecs, publishes
// outcomes through pub and keeps its records in led.
func NewPoller(ecs ECS, pub Publisher, led Ledger, policy Policy, opts ...Option) *Poller {
	p := &Poller{
		ecs: ecs, pub: pub, led: led, policy: policy,
		log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		now: time.Now, wall: time.Now,
	}
	for _, o := range opts {
		o(p)
	}
	p.policy.Concurrency = max(p.policy.Concurrency, 1)
	p.throttle, p.listHold = newBackoff(), newBackoff()
	return p
}
