package ecsclient

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/coldmove/coldmove/ids"
)

// Option configures a [Client] in [New]. An option that gets a bad value
// makes New fail with an error naming the problem.
type Option func(*settings) error

// settings collects the options before New checks them together.
type settings struct {
	region    string
	endpoint  string
	creds     *Credentials
	hc        *http.Client
	retry     *RetryPolicy
	userAgent string
}

// WithRegion sets the endpoint to https://ecs.{region}.myhuaweicloud.com,
// e.g. for "cn-north-4". [WithEndpoint] wins over it.
func WithRegion(region string) Option {
	return func(s *settings) error {
		if err := ids.Region.Check(region); err != nil {
			return err
		}
		s.region = region
		return nil
	}
}

// WithEndpoint sets an explicit endpoint: the simulator, a proxy, or another
// cloud of the same API family. It may carry a path prefix, which every
// request keeps. It must be https, except on a loopback host (127.0.0.1,
// ::1, localhost), and must not carry user info, a query or a fragment.
func WithEndpoint(rawURL string) Option {
	return func(s *settings) error {
		if _, err := parseEndpoint(rawURL); err != nil {
			return err
		}
		s.endpoint = rawURL
		return nil
	}
}

// WithCredentials makes the client sign requests with AK/SK
// (SDK-HMAC-SHA256); see [Signer].
func WithCredentials(c Credentials) Option {
	return func(s *settings) error {
		if !c.Valid() {
			return errors.New("credentials: access key and secret key are both required")
		}
		s.creds = &c
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose Transport carries the requests
// and whose Timeout bounds each attempt. The client is not modified: New
// wraps hc.Transport with the signer in a client of its own, which follows
// no redirects and keeps no cookies. The default has a 30 s timeout and
// [http.DefaultTransport].
func WithHTTPClient(hc *http.Client) Option {
	return func(s *settings) error {
		if hc == nil {
			return errors.New("http client: nil")
		}
		s.hc = hc
		return nil
	}
}

// WithRetryPolicy replaces [DefaultRetryPolicy].
func WithRetryPolicy(p RetryPolicy) Option {
	return func(s *settings) error {
		if err := p.validate(); err != nil {
			return err
		}
		s.retry = &p
		return nil
	}
}

// WithUserAgent sets the User-Agent header (signed with the request).
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		if ua == "" || strings.ContainsAny(ua, "\r\n") {
			return errors.New("user agent: empty or contains a line break")
		}
		s.userAgent = ua
		return nil
	}
}

// CheckEndpoint reports whether rawURL is an endpoint [WithEndpoint]
// accepts, and if not, why.
func CheckEndpoint(rawURL string) error {
	_, err := parseEndpoint(rawURL)
	return err
}

// parseEndpoint checks an endpoint URL and returns it with a trailing slash,
// so relative API paths resolve beneath any path prefix.
func parseEndpoint(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("endpoint: %w", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("endpoint %q: scheme must be https (or http on loopback)", clip(u.Redacted()))
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("endpoint %q: no host", clip(u.Redacted()))
	case u.User != nil:
		return nil, errors.New("endpoint: must not contain user info")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("endpoint %q: must not have a query or fragment", clip(u.Redacted()))
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		return nil, fmt.Errorf("endpoint %q: plain http is allowed only on loopback; use https", clip(u.Redacted()))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
