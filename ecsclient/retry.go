package ecsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy bounds how a [Client] repeats a request. Between attempts it
// waits a jittered exponential backoff: before attempt n+1 it waits a
// random time in [d/2, d), where d = min(BaseDelay·2^(n-1), MaxDelay), or
// the server's Retry-After when that is longer. It never waits past the
// ctx deadline: when the next attempt could not start in time, it returns
// the last error at once.
//
// What is repeated: a GET on any transient failure (see [IsTransient]); a
// state-changing POST only when it provably was not processed, that is a
// throttling answer or a connection that failed before the request was
// written.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, including the first;
	// 1 disables retries.
	MaxAttempts int
	// BaseDelay is the backoff before the second attempt.
	BaseDelay time.Duration
	// MaxDelay caps each wait. A Retry-After longer than MaxDelay ends the
	// retries: the caller is better placed to wait that long.
	MaxDelay time.Duration
}

// DefaultRetryPolicy returns the policy [New] uses: 4 attempts, backoff from
// 250 ms, waits capped at 5 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 250 * time.Millisecond, MaxDelay: 5 * time.Second}
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 1:
		return fmt.Errorf("retry policy: MaxAttempts %d: want at least 1", p.MaxAttempts)
	case p.BaseDelay < 0 || p.MaxDelay < 0:
		return errors.New("retry policy: negative delay")
	case p.BaseDelay > p.MaxDelay:
		return fmt.Errorf("retry policy: BaseDelay %v exceeds MaxDelay %v", p.BaseDelay, p.MaxDelay)
	}
	return nil
}

// backoff is the wait after the n-th failed attempt (n ≥ 1) for a jitter
// value r in [0, 1).
func (p RetryPolicy) backoff(n int, r float64) time.Duration {
	d := p.MaxDelay
	if n-1 < 32 {
		if b := p.BaseDelay << (n - 1); b > 0 && b < p.MaxDelay {
			d = b
		}
	}
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}

// do runs rq under the retry policy and decodes a success into out.
func (c *Client) do(ctx context.Context, rq *call, out any) error {
	for n := 1; ; n++ {
		res := c.attempt(ctx, rq, out)
		if res.err == nil {
			return nil
		}
		if !res.retry || n >= c.retry.MaxAttempts {
			return afterAttempts(n, res.err)
		}
		wait := c.retry.backoff(n, c.jitter())
		if res.retryAfter > c.retry.MaxDelay {
			return afterAttempts(n, fmt.Errorf("server asks to retry after %v: %w", res.retryAfter, res.err))
		}
		wait = max(wait, res.retryAfter)
		if dl, ok := ctx.Deadline(); ok && !c.now().Add(wait).Before(dl) {
			return afterAttempts(n, fmt.Errorf("no time left before the deadline for another attempt: %w", res.err))
		}
		if err := c.sleep(ctx, wait); err != nil {
			return afterAttempts(n, fmt.Errorf("%w while waiting to retry: %w", err, res.err))
		}
	}
}

func afterAttempts(n int, err error) error {
	if n == 1 {
		return err
	}
	return fmt.Errorf("after %d attempts: %w", n, err)
}

// sleepCtx waits for d or until ctx ends, whichever is first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); zero when
// absent or unreadable.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
