package ecstest

import (
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimiter is the gateway's per-project token bucket.
type rateLimiter struct {
	limit RateLimit
	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

func newRateLimiter(l RateLimit) *rateLimiter {
	if l.PerSecond > 0 && l.Burst == 0 {
		l.Burst = max(1, int(l.PerSecond))
	}
	return &rateLimiter{limit: l, byKey: map[string]*rate.Limiter{}}
}

// allow reports whether project may make one more request at gateway time
// now, or returns the 429 APIGW.0308 answer.
func (r *rateLimiter) allow(projectID string, now time.Time) *apiError {
	if r.limit.PerSecond <= 0 {
		return nil
	}
	r.mu.Lock()
	l, ok := r.byKey[projectID]
	if !ok {
		l = rate.NewLimiter(rate.Limit(r.limit.PerSecond), r.limit.Burst)
		r.byKey[projectID] = l
	}
	r.mu.Unlock()
	if l.AllowN(now, 1) {
		return nil
	}
	return throttled(r.limit.PerSecond)
}

// throttled returns the gateway's throttling answer.
func throttled(perSecond float64) *apiError {
	return gatewayError(http.StatusTooManyRequests, codeThrottled,
		"The throttling threshold has been reached: policy user over ratelimit,limit:%g,time:1 second", perSecond)
}
