package main

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/secret"
)

// Config is the migrate function's configuration, read from the
// environment (see design.md, "Configuration"): the shared groups it uses,
// and migrate's own variables.
type Config struct {
	config.Shared

	// MigrationTimeout is the deadline of a request that names none,
	// counted from when it is handled.
	MigrationTimeout time.Duration
	// HTTPAddr, in the long-running mode, is where HTTP CloudEvents are
	// also served ("" for none).
	HTTPAddr string
	// HTTPToken is the bearer token every HTTP request must carry ("" for
	// none: allowed only on a loopback address, or with HTTPInsecure).
	HTTPToken secret.String
	// HTTPInsecure allows a non-loopback HTTPAddr without a token, for a
	// mesh that authenticates in front.
	HTTPInsecure bool
}

// defaultConfig returns the defaults of every setting.
func defaultConfig() Config {
	return Config{Shared: config.DefaultShared(), MigrationTimeout: time.Hour}
}

// checkHTTPAddr checks the receiver's address and refuses one that other
// hosts reach (":8080" is every interface) without a token, unless
// HTTPInsecure says something in front authenticates.
func (c *Config) checkHTTPAddr() string {
	if c.HTTPAddr == "" {
		return ""
	}
	host, _, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return fmt.Sprintf("must be host:port, e.g. 127.0.0.1:8080 (%v)", err)
	}
	if c.HTTPToken == "" && !c.HTTPInsecure && !loopback(host) {
		return fmt.Sprintf("%s is reachable from other hosts, and anyone who reaches it could move servers with coldmove's credentials: "+
			"set COLDMOVE_HTTP_TOKEN (and put TLS in front), listen on 127.0.0.1, or set COLDMOVE_HTTP_INSECURE=true if something in front authenticates",
			c.HTTPAddr)
	}
	return ""
}

// loopback reports whether a listen host only accepts local connections.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// spec lists the variables migrate reads, in the order -h shows them.
func (c *Config) spec() config.Spec {
	own := config.Spec{Vars: []config.Var{
		{Name: "COLDMOVE_MIGRATION_TIMEOUT", Desc: "deadline of a request that names none, counted from when it is handled",
			Value: &c.MigrationTimeout, Check: config.Positive(&c.MigrationTimeout)},
		{Name: "COLDMOVE_HTTP_ADDR", Desc: "long-running only: also serve HTTP CloudEvents on this address (off when empty)",
			Value: &c.HTTPAddr, Check: c.checkHTTPAddr},
		{Name: "COLDMOVE_HTTP_TOKEN", Desc: "bearer token every HTTP request must carry (required off loopback)", Value: &c.HTTPToken,
			Check: func() string {
				if t := c.HTTPToken.Reveal(); t != strings.TrimSpace(t) {
					return "begins or ends with white space, which no request could match"
				}
				return ""
			}},
		{Name: "COLDMOVE_HTTP_INSECURE", Desc: "true: serve a non-loopback COLDMOVE_HTTP_ADDR without a token (something in front authenticates)",
			Value: &c.HTTPInsecure},
	}}
	return c.ECSVars().Add(c.NATSVars()).Add(c.StreamVars()).Add(c.LedgerVars()).Add(c.ClaimVars()).
		Add(c.ConsumerVars()).Add(own).Add(c.LogVars())
}
