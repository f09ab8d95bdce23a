package ecstest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Server is a [Simulator] listening on a loopback port, for tests, in the
// spirit of [httptest.Server]. It accepts a generated credential
// ([Server.Credentials]), has a default project ([Server.ProjectID]), hands
// out ready clients ([Server.Client]) and shuts down when the test ends.
type Server struct {
	*Simulator

	// URL is the endpoint, http://127.0.0.1:port, with no trailing slash.
	URL string

	tb        testing.TB
	ts        *httptest.Server
	transport *http.Transport
	cred      Credential
	projectID string
	clock     Clock
}

// NewServer starts a simulator for the test tb and registers its shutdown
// with tb.Cleanup. Unless [WithClock] says otherwise, its model clock is a
// [ManualClock] that starts now: jobs progress when the test calls
// [Server.Advance].
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	cfg := Config{Clock: NewManualClock(time.Now().UTC().Truncate(time.Millisecond))}
	for _, o := range opts {
		o(&cfg)
	}
	cred := GenerateCredential()
	cfg.Credentials = append([]Credential{cred}, cfg.Credentials...)
	sim, err := NewSimulator(cfg)
	if err != nil {
		tb.Fatalf("ecstest: %v", err)
	}
	s := &Server{Simulator: sim, tb: tb, cred: cred, clock: sim.clock}
	if ids := sim.Projects(); len(ids) > 0 {
		s.projectID = ids[0]
	} else if s.projectID, err = sim.CreateProject(""); err != nil {
		tb.Fatalf("ecstest: default project: %v", err)
	}
	s.ts = httptest.NewServer(sim)
	s.URL = s.ts.URL + cfg.BasePath
	// A pool big enough for parallel clients: with net/http's default of two
	// idle connections per host, busy tests would churn through ports.
	s.transport = &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512, IdleConnTimeout: time.Minute}
	tb.Cleanup(s.Close)
	return s
}

// HTTPClient returns a plain, unsigned HTTP client for the server, for
// tests that build requests by hand. [Server.Client] uses the same
// connection pool.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: s.transport}
}

// Close shuts the server down, waiting for requests in flight. It is called
// automatically when the test ends.
func (s *Server) Close() {
	s.transport.CloseIdleConnections()
	s.ts.Close()
}

// ProjectID returns the default project's id.
func (s *Server) ProjectID() string { return s.projectID }

// Clock returns the model clock.
func (s *Server) Clock() Clock { return s.clock }

// Advance moves the model clock forward by d and returns the new time. The
// test fails if the model clock is not a [ManualClock].
func (s *Server) Advance(d time.Duration) time.Time {
	s.tb.Helper()
	mc, ok := s.clock.(*ManualClock)
	if !ok {
		s.tb.Fatalf("ecstest: Advance needs a *ManualClock model clock, have %T", s.clock)
	}
	return mc.Advance(d)
}

// AddProject creates a project with a generated id and returns the id.
func (s *Server) AddProject() string {
	s.tb.Helper()
	id, err := s.CreateProject("")
	if err != nil {
		s.tb.Fatalf("ecstest: %v", err)
	}
	return id
}

// AddDedicatedHost creates a dedicated host, in the default project unless
// spec says otherwise, and returns its id. The test fails on a bad spec.
func (s *Server) AddDedicatedHost(spec HostSpec) string {
	s.tb.Helper()
	if spec.ProjectID == "" {
		spec.ProjectID = s.projectID
	}
	id, err := s.CreateDedicatedHost(spec)
	if err != nil {
		s.tb.Fatalf("ecstest: %v", err)
	}
	return id
}

// AddServer creates a server, in the default project unless spec says
// otherwise, and returns its id. The test fails on a bad spec.
func (s *Server) AddServer(spec ServerSpec) string {
	s.tb.Helper()
	if spec.ProjectID == "" {
		spec.ProjectID = s.projectID
	}
	id, err := s.CreateServer(spec)
	if err != nil {
		s.tb.Fatalf("ecstest: %v", err)
	}
	return id
}
