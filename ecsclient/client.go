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
	"net/url"
	"strings"
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
	auth      string // "AK/SK " and the masked access key

	// Hooks for tests: the clock the retry loop compares with the ctx
	// deadline, the wait between attempts, and the jitter source in [0,1).
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func() float64
}

// New returns a client configured by opts. It needs [WithCredentials], and
// one of [WithRegion] and [WithEndpoint] (the endpoint wins when both are
// given). Every problem with the options is reported at once.
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
	if s.creds == nil {
		errs = append(errs, errors.New("no credentials: use WithCredentials"))
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
	c.redact = newRedactor(*s.creds)
	c.auth = "AK/SK " + s.creds.AccessKey.Masked()
	c.hc = &http.Client{
		// The signer reads the client's clock, so X-Sdk-Date follows it.
		Transport:     &Signer{Credentials: *s.creds, Base: base, now: func() time.Time { return c.now() }},
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Endpoint returns the base URL requests are resolved against (with a
// trailing slash).
func (c *Client) Endpoint() string { return c.endpoint.String() }

// String describes the client by its endpoint and masked access key.
// Client's unexported fields would print raw, so every printed form is this.
func (c Client) String() string {
	ep := "<nil>"
	if c.endpoint != nil {
		ep = c.endpoint.String()
	}
	return "ecsclient.Client{Endpoint: " + ep + ", Auth: " + c.auth + "}"
}

// GoString is [Client.String].
func (c Client) GoString() string { return c.String() }

// Format implements [fmt.Formatter]: every verb prints [Client.String].
func (c Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String()) }

// LogValue implements [slog.LogValuer] with [Client.String].
func (c Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// call is one logical API request, possibly sent several times.
type call struct {
	method  string
	path    string // relative to the endpoint, escaped, no leading "/"
	query   url.Values
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
	if rel.RawQuery != "" {
		return nil, fmt.Errorf("path %q must not carry a query: use call.query", rq.path)
	}
	// Encoded as the SDK does (url.Values.Encode, so "," is sent as %2C);
	// the signer signs the decoded values.
	rel.RawQuery = rq.query.Encode()
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
