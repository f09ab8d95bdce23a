package ecspool

import (
	"fmt"
	"net/http"
	"sync"

	"golang.org/x/time/rate"

	"github.com/coldmove/coldmove/ecsclient"
)

// Config is what a pool needs: the credentials every client signs with,
// the default project and region, an endpoint overriding every region's,
// and the request budget.
type Config struct {
	Credentials ecsclient.Credentials
	// ProjectID and Region are the defaults of requests that name none.
	ProjectID, Region string
	// Endpoint, when set, is the endpoint of every region (the simulator,
	// a proxy); otherwise https://ecs.{region}.myhuaweicloud.com.
	Endpoint string
	// Rate is the budget of ECS requests per second shared by every client
	// of the pool; 0 means no limit.
	Rate float64
	// Conns is how many idle connections per host are kept for reuse: at
	// least the number of requests the process makes at once (default 2).
	Conns int
	// Transport carries the requests once the budget allowed them; nil
	// means a clone of [http.DefaultTransport] keeping Conns idle
	// connections per host.
	Transport http.RoundTripper
}

// MaxRegions bounds the clients a pool keeps: requests may name any
// region, and a client per name must not grow without end. When a new
// region would exceed it, the client used least recently (never the
// default region's) is dropped; a later request for its region builds a
// new one.
const MaxRegions = 16

// Pool hands out one ECS client per region, every one spending from the
// same request budget. It is safe for concurrent use.
type Pool struct {
	cfg     Config
	opts    []ecsclient.Option
	limiter *rate.Limiter

	mu      sync.Mutex
	tick    uint64
	clients map[string]*entry
}

type entry struct {
	client *ecsclient.Client
	used   uint64
}

// New returns a pool for cfg; opts (a retry policy, in tests) apply to
// every client it builds. The default region's client is built at once,
// so that a bad endpoint or credentials are reported at start-up.
func New(cfg Config, opts ...ecsclient.Option) (*Pool, error) {
	base := cfg.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = max(cfg.Conns, 2)
		base = t
	}
	lim := &Limited{Limiter: NewLimiter(cfg.Rate), Base: base}
	p := &Pool{
		cfg:     cfg,
		limiter: lim.Limiter,
		opts:    append([]ecsclient.Option{ecsclient.WithHTTPClient(&http.Client{Transport: lim, Timeout: defaultTimeout})}, opts...),
		clients: map[string]*entry{},
	}
	if _, err := p.For(cfg.Region); err != nil {
		return nil, err
	}
	return p, nil
}

// Limiter returns the request budget every client of the pool spends
// from, for callers that plan their calls ahead.
func (p *Pool) Limiter() *rate.Limiter { return p.limiter }

// Defaults returns the default project and region.
func (p *Pool) Defaults() (projectID, region string) { return p.cfg.ProjectID, p.cfg.Region }

// For returns the client for region ("" is the default region).
func (p *Pool) For(region string) (*ecsclient.Client, error) {
	if region == "" {
		region = p.cfg.Region
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tick++
	if e, ok := p.clients[region]; ok {
		e.used = p.tick
		return e.client, nil
	}
	opts := []ecsclient.Option{ecsclient.WithRegion(region), ecsclient.WithCredentials(p.cfg.Credentials)}
	if p.cfg.Endpoint != "" {
		opts = append(opts, ecsclient.WithEndpoint(p.cfg.Endpoint))
	}
	c, err := ecsclient.New(append(opts, p.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("ecspool: client for region %s: %w", region, err)
	}
	if len(p.clients) >= MaxRegions {
		p.evict()
	}
	p.clients[region] = &entry{client: c, used: p.tick}
	return c, nil
}

// evict drops the client used least recently, except the default's.
func (p *Pool) evict() {
	victim, oldest := "", ^uint64(0)
	for r, e := range p.clients {
		if r != p.cfg.Region && e.used < oldest {
			victim, oldest = r, e.used
		}
	}
	delete(p.clients, victim)
}

// Len returns how many clients the pool holds.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}
