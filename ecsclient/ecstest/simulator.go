package ecstest

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coldmove/coldmove/secret"
)

// DefaultRetention is how long finished jobs stay visible, as the real API
// documents ("about one day").
const DefaultRetention = 24 * time.Hour

// DefaultRequestLogSize is how many requests the log keeps by default.
const DefaultRequestLogSize = 10000

// JobTimings are the durations of job phases, measured on the model clock.
// A zero duration makes its phase pass at once.
type JobTimings struct {
	// Queued is how long a job stays INIT.
	Queued time.Duration
	// Migrating is the first RUNNING phase of a migration (resize_migrating).
	Migrating time.Duration
	// Finishing is the second RUNNING phase of a migration (resize_finish).
	Finishing time.Duration
	// Power is the RUNNING phase of an os-stop or os-start job.
	Power time.Duration
}

// DefaultJobTimings returns the timings used when none are configured: a
// migration takes 52 seconds, a stop or start 12.
func DefaultJobTimings() JobTimings {
	return JobTimings{Queued: 2 * time.Second, Migrating: 40 * time.Second, Finishing: 10 * time.Second, Power: 10 * time.Second}
}

// RateLimit is the gateway's per-project request budget.
type RateLimit struct {
	// PerSecond is the sustained rate; 0 means no limit.
	PerSecond float64 `json:"per_second,omitempty"`
	// Burst is the bucket size; 0 means max(1, PerSecond).
	Burst int `json:"burst,omitempty"`
}

// Config configures a [Simulator]. The zero value is usable: wall clocks,
// default timings and retention, no credentials (add some) and no inventory.
type Config struct {
	// Clock drives jobs, job times and retention; nil means [WallClock].
	Clock Clock
	// GatewayClock drives the signature skew check and the rate limit; nil
	// means [WallClock], which is what clients sign with.
	GatewayClock Clock
	// Seed seeds the PRNG behind generated ids and random faults.
	Seed uint64
	// Timings of job phases; nil means [DefaultJobTimings].
	Timings *JobTimings
	// Retention of finished jobs; 0 means [DefaultRetention], negative keeps
	// them forever.
	Retention time.Duration
	// MaxClockSkew tolerated for X-Sdk-Date; 0 means [DefaultMaxClockSkew].
	MaxClockSkew time.Duration
	// Credentials accepted for SDK-HMAC-SHA256 signatures.
	Credentials []Credential
	// Tokens accepted in X-Auth-Token.
	Tokens []secret.String
	// RateLimit per project; the zero value means unlimited.
	RateLimit RateLimit
	// RequestLogSize is how many requests the log keeps; 0 means
	// [DefaultRequestLogSize], negative turns the log off (counters stay).
	RequestLogSize int
	// BasePath, when set (e.g. "/ecs"), is a path prefix every API path must
	// carry, like a proxy's; requests outside it get 404 APIGW.0101. It
	// catches clients that drop their endpoint's path.
	BasePath string
	// Inventory to create at start.
	Inventory Inventory
	// OnRequest, when set, is called after every request with its log entry,
	// e.g. for a command to log it. It must be safe for concurrent use and
	// quick: it runs on the request's goroutine.
	OnRequest func(Request)
}

// Simulator is the simulated ECS: the model, the gateway in front of it, the
// fault script and the request log. It is an [http.Handler] and is safe for
// concurrent use. Create one with [NewSimulator], or use [NewServer] in tests.
type Simulator struct {
	clock     Clock
	gateway   Clock
	timings   JobTimings
	retention time.Duration

	auth    *authenticator
	faults  *faultTable
	limiter *rateLimiter
	log     *requestLog
	hook    func(Request)
	base    string

	reqPrefix string
	reqSeq    atomic.Uint64

	mu           sync.RWMutex
	rng          *rand.Rand
	projects     map[string]*project
	projectOrder []string
	servers      map[string]*server
	hosts        map[string]*host
	jobs         map[string]*job
	events       eventHeap
	eventSeq     uint64
	nextDue      atomic.Int64 // unix nanoseconds of the earliest event
}

var _ http.Handler = (*Simulator)(nil)

// NewSimulator returns a simulator configured by cfg with its inventory
// created, or an error naming what is wrong with the configuration.
func NewSimulator(cfg Config) (*Simulator, error) {
	s := &Simulator{
		clock:     cfg.Clock,
		gateway:   cfg.GatewayClock,
		timings:   DefaultJobTimings(),
		retention: cfg.Retention,
		auth:      newAuthenticator(cfg.MaxClockSkew),
		rng:       rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)),
		projects:  map[string]*project{},
		servers:   map[string]*server{},
		hosts:     map[string]*host{},
		jobs:      map[string]*job{},
		hook:      cfg.OnRequest,
		base:      cfg.BasePath,
	}
	if s.base != "" && (!strings.HasPrefix(s.base, "/") || strings.HasSuffix(s.base, "/")) {
		return nil, fmt.Errorf("ecstest: base path %q must start with / and not end with /", s.base)
	}
	if s.clock == nil {
		s.clock = WallClock{}
	}
	if s.gateway == nil {
		s.gateway = WallClock{}
	}
	if cfg.Timings != nil {
		if err := cfg.Timings.validate(); err != nil {
			return nil, err
		}
		s.timings = *cfg.Timings
	}
	if s.retention == 0 {
		s.retention = DefaultRetention
	}
	if cfg.RateLimit.PerSecond < 0 || cfg.RateLimit.Burst < 0 {
		return nil, errors.New("ecstest: rate limit must not be negative")
	}
	s.limiter = newRateLimiter(cfg.RateLimit)
	s.faults = newFaultTable(cfg.Seed)
	size := cfg.RequestLogSize
	if size == 0 {
		size = DefaultRequestLogSize
	}
	s.log = newRequestLog(size)
	s.reqPrefix = fmt.Sprintf("%016x", s.rng.Uint64())
	s.nextDue.Store(math.MaxInt64)
	for i, c := range cfg.Credentials {
		if err := s.AddCredential(c); err != nil {
			return nil, fmt.Errorf("ecstest: credential %d: %w", i, err)
		}
	}
	for i, tok := range cfg.Tokens {
		if err := s.AddToken(tok); err != nil {
			return nil, fmt.Errorf("ecstest: token %d: %w", i, err)
		}
	}
	if err := s.seed(cfg.Inventory); err != nil {
		return nil, err
	}
	return s, nil
}

func (t JobTimings) validate() error {
	if t.Queued < 0 || t.Migrating < 0 || t.Finishing < 0 || t.Power < 0 {
		return fmt.Errorf("ecstest: job timings must not be negative: %+v", t)
	}
	return nil
}

// AddCredential makes the simulator accept signatures made with c.
func (s *Simulator) AddCredential(c Credential) error {
	if c.AccessKey == "" || c.SecretKey == "" {
		return errors.New("access key and secret key must not be empty")
	}
	s.auth.addCredential(c)
	return nil
}

// AddToken makes the simulator accept token in X-Auth-Token.
func (s *Simulator) AddToken(token secret.String) error {
	if token == "" {
		return errors.New("token must not be empty")
	}
	s.auth.addToken(token)
	return nil
}

// Now returns the model clock's time.
func (s *Simulator) Now() time.Time { return s.clock.Now() }

// seed creates the inventory.
func (s *Simulator) seed(inv Inventory) error {
	for i, p := range inv.Projects {
		id, err := s.CreateProject(p.ID)
		if err != nil {
			return fmt.Errorf("ecstest: project %d: %w", i, err)
		}
		for j, h := range p.DedicatedHosts {
			h.ProjectID = id
			if _, err := s.CreateDedicatedHost(h); err != nil {
				return fmt.Errorf("ecstest: project %s: dedicated host %d: %w", id, j, err)
			}
		}
		for j, sv := range p.Servers {
			sv.ProjectID = id
			if _, err := s.CreateServer(sv); err != nil {
				return fmt.Errorf("ecstest: project %s: server %d: %w", id, j, err)
			}
		}
	}
	return nil
}

// catchUp applies every job transition due at or before now. Its fast path,
// taken when nothing is due, is one atomic load.
func (s *Simulator) catchUp(now time.Time) {
	if now.UnixNano() < s.nextDue.Load() {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catchUpLocked(now)
}

// catchUpLocked is catchUp with s.mu held for writing.
func (s *Simulator) catchUpLocked(now time.Time) {
	for len(s.events) > 0 && !s.events[0].at.After(now) {
		e := heap.Pop(&s.events).(event)
		s.step(e)
	}
	s.updateNextDue()
}

// schedule queues a transition of job j at time at; s.mu must be held.
func (s *Simulator) schedule(j *job, at time.Time) {
	s.eventSeq++
	heap.Push(&s.events, event{at: at, seq: s.eventSeq, jobID: j.id})
	s.updateNextDue()
}

func (s *Simulator) updateNextDue() {
	if len(s.events) == 0 {
		s.nextDue.Store(math.MaxInt64)
		return
	}
	s.nextDue.Store(s.events[0].at.UnixNano())
}
