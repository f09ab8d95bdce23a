package ecspool

import (
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"
)

// defaultTimeout bounds one attempt of one ECS call.
const defaultTimeout = 30 * time.Second

// Limited is an [http.RoundTripper] that spends one token of a shared
// budget per request before sending it, waiting (under the request's
// context) when the budget is spent. It keeps the functions below the API
// gateway's quota instead of discovering the quota by being throttled.
type Limited struct {
	Limiter *rate.Limiter
	// Base carries the request; nil means http.DefaultTransport.
	Base http.RoundTripper
}

// RoundTrip waits for a token, then sends the request.
func (l *Limited) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := l.Limiter.Wait(req.Context()); err != nil {
		return nil, fmt.Errorf("ecspool: request budget: %w", err)
	}
	base := l.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(req)
}

// NewLimiter returns a limiter allowing perSecond requests a second, with a
// burst of one second's worth (at least 1). perSecond <= 0 means no limit.
func NewLimiter(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 1)
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
}
