package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/internal/logging"
)

const simulatorSynopsis = `Serves the ECS simulator (package ecstest: the real API paths, shapes, error
codes and AK/SK signature checks, jobs that run on a clock) on a loopback
address, with a seeded fleet: three dedicated hosts and servers stopped,
running, prepaid and locked. It prints the variables that point coldmove at it
and the ids of the fleet, then serves until Ctrl-C. The credentials it prints
are its own, generated for this run; never give it real ones.`

const simulatorExample = `  coldmove simulator --addr 127.0.0.1:8700 > sim.env   # then: . ./sim.env`

// shutdownGrace is how long requests in flight get to finish on shutdown.
const shutdownGrace = 5 * time.Second

func runSimulator(ctx context.Context, args []string, io stdio) int {
	fs := newFlags("simulator [flags]", simulatorSynopsis, simulatorExample, io, false)
	addr := fs.String("addr", "127.0.0.1:0", "loopback `address` to listen on")
	seed := fs.String("seed", "", "JSON seed `file` with the fleet and settings (default: the built-in fleet)")
	logRequests := fs.Bool("log", false, "log every request to stderr as a JSON line")
	if code, done := fs.parse(args); done {
		return code
	}
	if err := checkLoopback(*addr); err != nil {
		fmt.Fprintf(io.err, "coldmove simulator: %v\n", err)
		return exitUsage
	}
	cfg, err := loadFleet(*seed)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove simulator: %v\n", err)
		return exitUsage
	}
	if *logRequests {
		log := logging.New(io.err, slog.LevelInfo)
		cfg.OnRequest = func(r ecstest.Request) {
			log.Info("request", "api_request_id", r.RequestID, "method", r.Method, "path", r.Path, "op", string(r.Op),
				"status", r.Status, "code", r.Code, "fault", r.Fault, logging.KeyJobID, r.JobID)
		}
	}
	sim, err := serveSimulator(ctx, cfg, *addr, io.err)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove simulator: %v\n", err)
		return exitError
	}
	printEnv(io.out, sim.url, cfg.Credentials[0], cfg.Inventory)
	printFleet(io.out, cfg.Inventory)
	fmt.Fprintln(io.out, "# serving until Ctrl-C")
	if err := sim.wait(ctx); err != nil {
		fmt.Fprintf(io.err, "coldmove simulator: %v\n", err)
		return exitError
	}
	return exitOK
}

// runningSim is a simulator served over HTTP.
type runningSim struct {
	*ecstest.Simulator
	url    string
	srv    *http.Server
	served chan error
}

// serveSimulator starts the simulator of cfg on addr.
func serveSimulator(ctx context.Context, cfg ecstest.Config, addr string, errlog io.Writer) (*runningSim, error) {
	sim, err := ecstest.NewSimulator(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	r := &runningSim{Simulator: sim, url: "http://" + ln.Addr().String(), served: make(chan error, 1),
		srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}}
	go func() { r.served <- r.srv.Serve(ln) }()
	return r, nil
}

// wait serves until ctx ends, then shuts down.
func (r *runningSim) wait(ctx context.Context) error {
	select {
	case err := <-r.served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return r.stop()
}

// stop shuts the server down, letting requests in flight finish.
func (r *runningSim) stop() error {
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := r.srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-r.served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// printEnv writes the variables that point coldmove at the simulator.
func printEnv(w io.Writer, url string, cred ecstest.Credential, inv ecstest.Inventory) {
	fmt.Fprintf(w, "# coldmove simulator: the ECS API on %s\n", url)
	fmt.Fprintf(w, "export COLDMOVE_ECS_ENDPOINT=%s\n", url)
	fmt.Fprintf(w, "export COLDMOVE_REGION=cn-north-4\n")
	fmt.Fprintf(w, "export HUAWEICLOUD_SDK_AK=%s\n", cred.AccessKey.Reveal())
	fmt.Fprintf(w, "export HUAWEICLOUD_SDK_SK=%s\n", cred.SecretKey.Reveal())
	if cred.SecurityToken != "" {
		fmt.Fprintf(w, "export HUAWEICLOUD_SDK_SECURITY_TOKEN=%s\n", cred.SecurityToken.Reveal())
	}
	if len(inv.Projects) > 0 {
		fmt.Fprintf(w, "export HUAWEICLOUD_SDK_PROJECT_ID=%s\n", inv.Projects[0].ID)
	}
}

// checkLoopback refuses listen addresses that are not loopback: the
// simulator accepts throw-away credentials and must not face a network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", addr)
}
