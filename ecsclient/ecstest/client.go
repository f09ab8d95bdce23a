package ecstest

import (
	"time"

	"github.com/coldmove/coldmove/ecsclient"
)

// Credentials returns the generated credential the server accepts, in the
// form [ecsclient.WithCredentials] takes.
func (s *Server) Credentials() ecsclient.Credentials {
	return ecsclient.Credentials(s.cred)
}

// Client returns an [ecsclient.Client] for the server: endpoint [Server.URL],
// signing with [Server.Credentials], over [Server.HTTPClient]'s pool, and
// retrying with millisecond backoff so that fault tests run fast. opts are
// applied after these and override them (e.g. [ecsclient.WithRetryPolicy]).
// The test fails if the client cannot be built.
func (s *Server) Client(opts ...ecsclient.Option) *ecsclient.Client {
	s.tb.Helper()
	base := []ecsclient.Option{
		ecsclient.WithEndpoint(s.URL),
		ecsclient.WithCredentials(s.Credentials()),
		ecsclient.WithHTTPClient(s.HTTPClient()),
		ecsclient.WithRetryPolicy(ecsclient.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}),
	}
	c, err := ecsclient.New(append(base, opts...)...)
	if err != nil {
		s.tb.Fatalf("ecstest: client: %v", err)
	}
	return c
}
