package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/internal/platform"
	"github.com/coldmove/coldmove/ledger"
)

// app holds what a process builds once and reuses for every request (a
// warm Lambda reuses it across invocations).
type app struct {
	cfg     Config
	log     *slog.Logger
	bus     *bus.Bus
	ledger  *ledger.Ledger
	handler *Handler
	lambda  *lambdaAdapter
}

var _ platform.Service[json.RawMessage, any] = (*app)(nil)

// start connects to NATS, makes sure the stream and the ledger exist and
// builds the ECS clients and the handler.
func start(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	cfg.ECS.Conns = cfg.Bus.Concurrency
	pool, err := ecspool.New(cfg.ECS)
	if err != nil {
		return nil, err
	}
	b, l, err := platform.Open(ctx, cfg.Bus, cfg.Ledger, log)
	if err != nil {
		return nil, err
	}
	clients := func(region string) (ECS, error) { return pool.For(region) }
	h := NewHandler(HandlerConfig{ProjectID: cfg.ECS.ProjectID, Region: cfg.ECS.Region, MigrationTimeout: cfg.MigrationTimeout,
		AccessKey: cfg.ECS.Credentials.AccessKey.Masked()},
		clients, l, b, log)
	log.InfoContext(ctx, "connected", "region", cfg.ECS.Region, "project_id", cfg.ECS.ProjectID, "endpoint", cfg.ECS.Endpoint)
	return &app{cfg: cfg, log: log, bus: b, ledger: l, handler: h, lambda: &lambdaAdapter{h: h, log: log}}, nil
}

// Bus returns the NATS connection, drained when the process stops.
func (a *app) Bus() *bus.Bus { return a.bus }

// Invoke handles one Lambda invocation (see [lambdaAdapter.Invoke]).
func (a *app) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	return a.lambda.Invoke(ctx, raw)
}

// Serve runs the long-lived runtimes until ctx ends: the JetStream
// consumer, and the HTTP receiver when COLDMOVE_HTTP_ADDR is set.
func (a *app) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if addr := a.cfg.HTTPAddr; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on COLDMOVE_HTTP_ADDR %s: %w", addr, err)
		}
		rc := newHTTPReceiver(a.handler, a.log, a.health, a.cfg.HTTPToken, defaultHTTPLimits())
		srv := rc.server()
		ln = rc.listen(ln)
		a.log.InfoContext(ctx, "serving HTTP CloudEvents", "addr", ln.Addr().String(), "authenticated", a.cfg.HTTPToken != "")
		if a.cfg.HTTPToken == "" && a.cfg.HTTPInsecure {
			a.log.WarnContext(ctx, "the HTTP receiver accepts requests without a token (COLDMOVE_HTTP_INSECURE=true): whatever is in front must authenticate callers",
				"addr", ln.Addr().String())
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("http: %w", err)
				cancel()
			}
		}()
		go func() {
			defer wg.Done()
			<-ctx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer scancel()
			_ = srv.Shutdown(sctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := consume(ctx, a.bus, a.handler, a.log); err != nil {
			errs <- fmt.Errorf("consumer: %w", err)
			cancel()
		}
	}()
	a.log.InfoContext(ctx, "consuming requests", "consumer", a.cfg.Bus.Consumer)
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

// health reports whether NATS and the ledger are reachable.
func (a *app) health(ctx context.Context) error {
	if !a.bus.Connected() {
		return errors.New("NATS is not connected")
	}
	return a.ledger.Ping(ctx)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}
