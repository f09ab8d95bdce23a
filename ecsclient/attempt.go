package ecsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// One attempt of a call: send, read, classify. The retry loop in retry.go
// decides from its result whether to go again.

// attemptResult is what one attempt says about the next.
type attemptResult struct {
	err        error
	retry      bool          // safe and worth repeating
	retryAfter time.Duration // the server's Retry-After, if any
}

// attempt sends rq once and decodes a 2xx body into out. It watches the
// exchange with an httptrace so that, for an unsafe request, it can tell
// "never sent" (retryable) from "sent, answer lost" (outcome unknown).
func (c *Client) attempt(ctx context.Context, rq *call, out any) attemptResult {
	var gotConn, wrote atomic.Bool
	tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(httptrace.GotConnInfo) { gotConn.Store(true) },
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := c.newRequest(tctx, rq)
	if err != nil {
		return attemptResult{err: err}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return c.exchangeFailed(ctx, rq, err, gotConn.Load(), wrote.Load())
	}
	body, err := readBody(resp)
	if err != nil {
		if !rq.safe {
			return attemptResult{err: outcomeUnknown(&networkError{err: err})}
		}
		return attemptResult{err: &networkError{err: err}, retry: ctx.Err() == nil}
	}
	if apiErr := c.checkResponse(resp, body); apiErr != nil {
		return c.classifyAnswer(rq, apiErr, resp.Header)
	}
	if out != nil {
		if r, ok := out.(answerResetter); ok {
			r.reset() // an earlier attempt may have half-filled out
		}
		err := decodeBody(body, out)
		if ck, ok := out.(answerChecker); ok && err == nil {
			err = ck.check()
		}
		if err != nil {
			if !rq.safe {
				return attemptResult{err: outcomeUnknown(err)}
			}
			// A read that "succeeded" without a usable answer says nothing
			// about the resource: try again rather than guess.
			return attemptResult{err: &badAnswerError{err: err}, retry: ctx.Err() == nil}
		}
	}
	return attemptResult{}
}

// answerChecker is implemented by decoded answers that can tell whether
// they are usable (e.g. a job with a status, the server that was asked
// for).
type answerChecker interface {
	check() error
}

// answerResetter is implemented by decoded answers that must be emptied
// before another attempt decodes into them: json.Unmarshal leaves fields
// the new body lacks as the previous body set them.
type answerResetter interface {
	reset()
}

// exchangeFailed classifies an error without an answer. An unsafe request
// counts as unsent only if the request was never written in full; once
// written (or, when the caller's ctx ended, once a connection was in hand)
// its outcome is unknown.
func (c *Client) exchangeFailed(ctx context.Context, rq *call, err error, gotConn, wrote bool) attemptResult {
	if errors.Is(err, errSignerNoCredentials) {
		return attemptResult{err: err}
	}
	err = c.scrub(err)
	if ctxErr := ctx.Err(); ctxErr != nil {
		if !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w: %w", ctxErr, err)
		}
		if !rq.safe && (wrote || gotConn) {
			return attemptResult{err: outcomeUnknown(err)}
		}
		return attemptResult{err: err}
	}
	if !rq.safe && wrote {
		return attemptResult{err: outcomeUnknown(&networkError{err: err})}
	}
	return attemptResult{err: &networkError{err: err}, retry: true}
}

// scrub returns err, or, if its text holds a known credential (a custom
// transport could echo a header), a plain error with the text redacted.
func (c *Client) scrub(err error) error {
	if msg := err.Error(); c.redact.redact(msg) != msg {
		return errors.New(c.redact.redact(msg))
	}
	return err
}

// classifyAnswer decides what an error answer means for rq. Throttling is
// retried for every request: the gateway refused it. Other transient
// answers are retried only for safe requests; for an unsafe request a 5xx
// that is not an explicit refusal (Ecs.0603) leaves the outcome unknown.
func (c *Client) classifyAnswer(rq *call, e *APIError, h http.Header) attemptResult {
	switch {
	case errors.Is(e, ErrThrottled):
		return attemptResult{err: e, retry: true, retryAfter: retryAfter(h, c.now())}
	case rq.safe && e.transient():
		return attemptResult{err: e, retry: true, retryAfter: retryAfter(h, c.now())}
	case !rq.safe && e.StatusCode >= 500 && !errors.Is(e, ErrBusy):
		return attemptResult{err: outcomeUnknown(e)}
	}
	return attemptResult{err: e}
}

// checkResponse returns the *APIError an answer carries, or nil for a
// success: any non-2xx status, and a 2xx whose body is an error object.
func (c *Client) checkResponse(resp *http.Response, body []byte) *APIError {
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return parseErrorInSuccess(resp.StatusCode, resp.Header, body, c.redact)
	}
	return parseErrorAnswer(resp.StatusCode, resp.Header, body, c.redact)
}

// readBody reads and closes an answer's body. A 2xx body over the limit is
// an error; an error body is simply cut.
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	// A body of known length is read into one buffer of its size, not
	// grown by doubling: a list of 100 servers is a few hundred kB.
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxResponseBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponseBytes+1)); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) > maxResponseBytes {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return nil, fmt.Errorf("response body larger than %d bytes", maxResponseBytes)
		}
		b = b[:maxResponseBytes]
	}
	return b, nil
}

// bodyDecoder is implemented by answers that decode their body
// themselves (a list that tries a fast typed decode first).
type bodyDecoder interface {
	decode(body []byte) error
}

// decodeBody unmarshals a success body.
func decodeBody(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("decode response: empty body")
	}
	if d, ok := out.(bodyDecoder); ok {
		if err := d.decode(body); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}
