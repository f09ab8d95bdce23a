package ecspool_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/internal/ecspool"
)

func config(sim *ecstest.Server) ecspool.Config {
	c := sim.Credentials()
	return ecspool.Config{
		AccessKey: c.AccessKey.Reveal(), SecretKey: c.SecretKey.Reveal(), SecurityToken: c.SecurityToken.Reveal(),
		ProjectID: sim.ProjectID(), Region: "cn-north-4", Endpoint: sim.URL,
	}
}

// countingTransport counts the requests that reach the network.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestPool_clientsPerRegionThroughTheLimiter(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t)
	id := sim.AddServer(ecstest.ServerSpec{})
	var count countingTransport
	lim := &ecspool.Limited{Limiter: ecspool.NewLimiter(1000), Base: &count}
	pool, err := ecspool.New(config(sim), ecspool.WithTransport(lim))
	if err != nil {
		t.Fatal(err)
	}
	def, err := pool.For("")
	if err != nil {
		t.Fatal(err)
	}
	same, _ := pool.For("cn-north-4")
	other, _ := pool.For("ap-southeast-1")
	if def != same || def == other {
		t.Errorf("For: default %p, cn-north-4 %p, ap-southeast-1 %p", def, same, other)
	}
	for _, c := range []*ecsclient.Client{def, other} {
		srv, err := c.ShowServer(t.Context(), sim.ProjectID(), id)
		if err != nil || srv.ID != id {
			t.Fatalf("ShowServer = %+v, %v", srv, err)
		}
	}
	if got := count.n.Load(); got != 2 {
		t.Errorf("requests through the limiter = %d, want 2", got)
	}
	if p, r := pool.Defaults(); p != sim.ProjectID() || r != "cn-north-4" {
		t.Errorf("Defaults() = %s, %s", p, r)
	}
}

func TestNew_badEndpoint(t *testing.T) {
	t.Parallel()
	_, err := ecspool.New(ecspool.Config{AccessKey: "ak", SecretKey: "sk-secret", ProjectID: strings.Repeat("a", 32),
		Region: "cn-north-4", Endpoint: "http://example.com"})
	if err == nil || strings.Contains(err.Error(), "sk-secret") {
		t.Errorf("New with a plain-http remote endpoint: err = %v", err)
	}
}

func TestConfig_String(t *testing.T) {
	t.Parallel()
	c := ecspool.Config{AccessKey: "AKEXAMPLE", SecretKey: "sk-secret", SecurityToken: "tok-secret", ProjectID: "p", Region: "cn-north-4"}
	for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		if strings.Contains(s, "secret") || strings.Contains(s, "AKEXAMPLE") {
			t.Errorf("formatting leaks: %s", s)
		}
	}
}
