package ecspool

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/secret"
)

// Pool hands out one ECS client per region. It is safe for concurrent use.
type Pool struct {
	cfg  Config
	opts []ecsclient.Option

	mu      sync.Mutex
	clients map[string]*ecsclient.Client
}

// New returns a pool for cfg; opts (an HTTP client, a retry policy) apply
// to every client it builds. The default region's client is built at once,
// so that a bad endpoint or credentials are reported at start-up.
func New(cfg Config, opts ...ecsclient.Option) (*Pool, error) {
	p := &Pool{cfg: cfg, opts: opts, clients: map[string]*ecsclient.Client{}}
	if _, err := p.For(cfg.Region); err != nil {
		return nil, err
	}
	return p, nil
}

// Defaults returns the default project and region.
func (p *Pool) Defaults() (projectID, region string) { return p.cfg.ProjectID, p.cfg.Region }

// For returns the client for region ("" is the default region).
func (p *Pool) For(region string) (*ecsclient.Client, error) {
	if region == "" {
		region = p.cfg.Region
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[region]; ok {
		return c, nil
	}
	opts := []ecsclient.Option{
		ecsclient.WithRegion(region),
		ecsclient.WithCredentials(ecsclient.Credentials{
			AccessKey: secret.String(p.cfg.AccessKey), SecretKey: secret.String(p.cfg.SecretKey), SecurityToken: secret.String(p.cfg.SecurityToken),
		}),
	}
	if p.cfg.Endpoint != "" {
		opts = append(opts, ecsclient.WithEndpoint(p.cfg.Endpoint))
	}
	c, err := ecsclient.New(append(opts, p.opts...)...)
	if err != nil {
		return nil, fmt.Errorf("ecspool: client for region %s: %w", region, err)
	}
	p.clients[region] = c
	return c, nil
}

// WithTransport returns an option that sends every client's requests
// through rt (for example a rate limiter) with the default timeout.
func WithTransport(rt http.RoundTripper) ecsclient.Option {
	return ecsclient.WithHTTPClient(&http.Client{Transport: rt, Timeout: defaultTimeout})
}
