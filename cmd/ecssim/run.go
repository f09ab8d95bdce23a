package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

//go:embed example-seed.json
var exampleSeed []byte

// shutdownGrace is how long requests in flight get to finish on shutdown.
const shutdownGrace = 5 * time.Second

// run serves the simulator until ctx ends. It writes the endpoint and the
// environment lines to stdout, and request logs (with -log) to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ecssim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "loopback `address` to listen on")
	seedPath := fs.String("seed", "", "JSON seed `file` (default: the built-in example)")
	logRequests := fs.Bool("log", false, "log every request to stderr as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}
	data := exampleSeed
	if *seedPath != "" {
		var err error
		if data, err = os.ReadFile(*seedPath); err != nil {
			return fmt.Errorf("read seed: %w", err)
		}
	}
	cfg, err := ecstest.ParseSeed(data)
	if err != nil {
		return err
	}
	if len(cfg.Credentials) == 0 {
		cfg.Credentials = []ecstest.Credential{ecstest.GenerateCredential()}
	}
	if *logRequests {
		logger := slog.New(slog.NewJSONHandler(stderr, nil))
		cfg.OnRequest = func(r ecstest.Request) {
			logger.Info("request", "request_id", r.RequestID, "method", r.Method, "path", r.Path, "op", string(r.Op),
				"status", r.Status, "code", r.Code, "fault", r.Fault, "job_id", r.JobID)
		}
	}
	sim, err := ecstest.NewSimulator(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	url := "http://" + ln.Addr().String()
	printEnv(stdout, url, cfg.Credentials[0], sim.Projects())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// printEnv writes the endpoint and the environment coldmove reads.
func printEnv(w io.Writer, url string, cred ecstest.Credential, projects []string) {
	fmt.Fprintf(w, "# ecssim: ECS simulator listening on %s\n", url)
	fmt.Fprintf(w, "export COLDMOVE_ECS_ENDPOINT=%s\n", url)
	fmt.Fprintf(w, "export HUAWEICLOUD_SDK_AK=%s\n", cred.AccessKey.Reveal())
	fmt.Fprintf(w, "export HUAWEICLOUD_SDK_SK=%s\n", cred.SecretKey.Reveal())
	if cred.SecurityToken != "" {
		fmt.Fprintf(w, "export HUAWEICLOUD_SDK_SECURITY_TOKEN=%s\n", cred.SecurityToken.Reveal())
	}
	if len(projects) > 0 {
		fmt.Fprintf(w, "export HUAWEICLOUD_SDK_PROJECT_ID=%s\n", projects[0])
	}
}

// checkLoopback refuses listen addresses that are not loopback: the
// simulator accepts throw-away credentials and must not face a network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", addr)
}
