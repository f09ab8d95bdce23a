package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/ecspool"
	"github.com/coldmove/coldmove/ledger"
)

// app holds what a process builds once and reuses for every request (a
// warm Lambda reuses it across invocations).
type app struct {
	cfg     Config
	log     *slog.Logger
	bus     *bus.Bus
	handler *Handler
}

// start connects to NATS, makes sure the stream and the ledger exist and
// builds the ECS clients and the handler.
func start(ctx context.Context, cfg Config, log *slog.Logger) (*app, error) {
	pool, err := ecspool.New(cfg.ECSConfig)
	if err != nil {
		return nil, err
	}
	b, err := bus.Connect(ctx, cfg.NATSConfig)
	if err != nil {
		return nil, err
	}
	st, err := b.EnsureStream(ctx)
	if err != nil {
		_ = b.Close(ctx)
		return nil, err
	}
	if st.DuplicatesTooShort() {
		log.WarnContext(ctx, "the stream's duplicate window is shorter than coldmove relies on",
			"stream", st.Name, "duplicates", st.Duplicates.String(), "want_at_least", bus.MinDuplicates.String())
	}
	l, err := ledger.Open(ctx, b.JetStream(), cfg.LedgerConfig)
	if err != nil {
		_ = b.Close(ctx)
		return nil, err
	}
	clients := func(region string) (ECS, error) { return pool.For(region) }
	h := NewHandler(HandlerConfig{ProjectID: cfg.ProjectID, Region: cfg.Region, MigrationTimeout: cfg.MigrationTimeout},
		clients, l, b, log)
	log.InfoContext(ctx, "started", "ecs", cfg.ECSConfig.String(), "nats", bus.RedactURL(cfg.URL),
		"stream", cfg.Stream, "ledger", cfg.Bucket, "owner", l.Owner())
	return &app{cfg: cfg, log: log, bus: b, handler: h}, nil
}

// serve runs the long-lived runtimes until ctx ends: the JetStream
// consumer, and the HTTP receiver when addr is set.
func (a *app) serve(ctx context.Context, addr string) error {
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listen on COLDMOVE_HTTP_ADDR %s: %w", addr, err)
		}
		srv := &http.Server{Handler: &httpReceiver{h: a.handler, log: a.log}, ReadHeaderTimeout: 10 * time.Second}
		a.log.InfoContext(ctx, "serving HTTP CloudEvents", "addr", ln.Addr().String())
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
	a.log.InfoContext(ctx, "consuming requests", "consumer", a.cfg.Consumer)
	wg.Wait()
	close(errs)
	return errors.Join(collect(errs)...)
}

func collect(ch <-chan error) []error {
	var out []error
	for err := range ch {
		out = append(out, err)
	}
	return out
}

// close drains the NATS connection: pending publishes are flushed.
func (a *app) close(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.bus.Close(ctx); err != nil {
		a.log.WarnContext(ctx, "NATS drain", "error", err)
	}
}
