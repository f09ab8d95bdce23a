package ecsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultUserAgent is the User-Agent sent unless [WithUserAgent] says
// otherwise.
const DefaultUserAgent = "coldmove-ecsclient/1"

// maxResponseBytes bounds the body read from any answer.
const maxResponseBytes = 4 << 20

// Client calls the ECS API. Build it with [New]; it is safe for concurrent
// use and should be reused (it holds the connection pool).
type Client struct {
	endpoint  *url.URL // absolute, ends with "/"
	hc        *http.Client
	userAgent string
	retry     RetryPolicy
	redact    *redactor
	auth      string // redacted description of the authentication

	// Hooks for tests: the clock the retry loop compares with the ctx
	// deadline, the wait between attempts, and the jitter source in [0,1).
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func() float64
}

// New returns a client configured by opts. It needs exactly one of
// [WithCredentials] and [WithToken], and one of [WithRegion] and
// [WithEndpoint] (the endpoint wins when both are given). Every problem
// with the options is reported at once.
func New(opts ...Option) (*Client, error) {
	var s settings
	var errs []error
	for _, o := range opts {
		if o == nil {
			errs = append(errs, errors.New("nil option"))
			continue
		}
		if err := o(&s); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case s.creds == nil && s.token == nil:
		errs = append(errs, errors.New("no authentication: use WithCredentials or WithToken"))
	case s.creds != nil && s.token != nil:
		errs = append(errs, errors.New("both WithCredentials and WithToken given: choose one"))
	}
	raw := s.endpoint
	if raw == "" && s.region != "" {
		raw = "https://ecs." + s.region + ".myhuaweicloud.com"
	}
	var endpoint *url.URL
	if raw == "" {
		errs = append(errs, errors.New("no endpoint: use WithRegion or WithEndpoint"))
	} else if u, err := parseEndpoint(raw); err != nil {
		errs = append(errs, err)
	} else {
		endpoint = u
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("ecsclient: new client: %w", errors.Join(errs...))
	}

	c := &Client{
		endpoint:  endpoint,
		userAgent: DefaultUserAgent,
		retry:     DefaultRetryPolicy(),
		now:       time.Now,
		sleep:     sleepCtx,
		jitter:    rand.Float64,
	}
	if s.userAgent != "" {
		c.userAgent = s.userAgent
	}
	if s.retry != nil {
		c.retry = *s.retry
	}
	base, timeout := http.RoundTripper(nil), 30*time.Second
	if s.hc != nil {
		base, timeout = s.hc.Transport, s.hc.Timeout
	}
	var rt http.RoundTripper
	if s.creds != nil {
		// The signer reads the client's clock, so X-Sdk-Date follows it.
		rt = &Signer{Credentials: *s.creds, Base: base, now: func() time.Time { return c.now() }}
		c.redact = newRedactor(*s.creds, "")
		c.auth = "AK/SK " + maskAccessKey(s.creds.AccessKey)
	} else {
		rt = &TokenAuth{Token: *s.token, Base: base}
		c.redact = newRedactor(Credentials{}, *s.token)
		c.auth = "token"
	}
	c.hc = &http.Client{
		Transport:     rt,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Endpoint returns the base URL requests are resolved against (with a
// trailing slash).
func (c *Client) Endpoint() string { return c.endpoint.String() }

// String describes the client without revealing credentials.
func (c Client) String() string {
	ep := "<nil>"
	if c.endpoint != nil {
		ep = c.endpoint.String()
	}
	return fmt.Sprintf("ecsclient.Client{Endpoint: %s, Auth: %s}", ep, c.auth)
}

// GoString returns the same redacted description as [Client.String].
func (c Client) GoString() string { return c.String() }

// Format implements [fmt.Formatter] so that every verb, including %+v and
// %#v, prints the redacted description.
func (c Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements [slog.LogValuer] with the redacted description.
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// call is one logical API request, possibly sent several times.
type call struct {
	method  string
	path    string // relative to the endpoint, escaped, no leading "/"
	project string // X-Project-Id
	body    []byte // exact bytes to send; nil for none
	// safe marks a request that may be repeated freely (a GET). Others are
	// repeated only when provably not processed.
	safe bool
}

// apiPath joins escaped path segments into a relative path.
func apiPath(segs ...string) string {
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// newRequest builds the HTTP request for one attempt of rq. The path is
// resolved relative to the endpoint, so an endpoint path prefix is kept.
func (c *Client) newRequest(ctx context.Context, rq *call) (*http.Request, error) {
	if strings.HasPrefix(rq.path, "/") {
		return nil, fmt.Errorf("path %q must be relative to the endpoint", rq.path)
	}
	rel, err := url.Parse(rq.path)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, c.endpoint.ResolveReference(rel).String(), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.userAgent)
	if rq.body != nil {
		req.Header.Set("Content-Type", "application/json;charset=UTF-8")
	}
	if rq.project != "" {
		req.Header.Set(headerProjectID, rq.project)
	}
	return req, nil
}

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
		if err := decodeBody(body, out); err != nil {
			if !rq.safe {
				err = outcomeUnknown(err)
			}
			return attemptResult{err: err}
		}
	}
	return attemptResult{}
}

// exchangeFailed classifies an error without an answer. An unsafe request
// counts as unsent only if the request was never written in full; once
// written (or, when the caller's ctx ended, once a connection was in hand)
// its outcome is unknown.
func (c *Client) exchangeFailed(ctx context.Context, rq *call, err error, gotConn, wrote bool) attemptResult {
	if errors.Is(err, errSignerNoCredentials) || errors.Is(err, errNoToken) {
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
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxResponseBytes {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return nil, fmt.Errorf("response body larger than %d bytes", maxResponseBytes)
		}
		b = b[:maxResponseBytes]
	}
	return b, nil
}

// decodeBody unmarshals a success body.
func decodeBody(body []byte, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("decode response: empty body")
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode response: %w", err)
	}
	return nil
}

// encodeBody encodes v as the official SDK does: json.Encoder without HTML
// escaping, so the bytes end with "\n".
func encodeBody(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
