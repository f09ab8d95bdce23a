package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/internal/config"
	"github.com/coldmove/coldmove/ledger"
)

// flags is a command's flag set with the help every command has: a
// synopsis, an example and the flags.
type flags struct {
	*flag.FlagSet
	natsURL string
}

func newFlags(name, synopsis, example string, io stdio, withNATS bool) *flags {
	fs := &flags{FlagSet: flag.NewFlagSet("coldmove "+name, flag.ContinueOnError)}
	fs.SetOutput(io.err)
	fs.Usage = func() {
		fmt.Fprintf(io.out, "Usage: coldmove %s\n\n%s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(io.out)
		fs.PrintDefaults()
		fs.SetOutput(io.err)
		fmt.Fprintf(io.out, "\nExample:\n%s\n", example)
	}
	if withNATS {
		fs.StringVar(&fs.natsURL, "nats", "", "NATS `URL` (overrides NATS_URL)")
	}
	return fs
}

// parse parses args; done is true, with the exit code, when the command
// should stop there: 0 after -h (which never fails), 2 for bad flags.
func (fs *flags) parse(args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, true
		}
		return exitUsage, true
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected arguments %q (see -h)\n", fs.Name(), fs.Args())
		return exitUsage, true
	}
	return 0, false
}

// loadShared reads what the CLI shares with the functions from the
// environment: NATS, the subjects and the stream, the ledger bucket and
// the log level; the --nats flag overrides NATS_URL. A problem is written
// to io.err and reported as exit code 2.
func loadShared(io stdio, fs *flags) (*config.Shared, int, bool) {
	sh := config.DefaultShared()
	spec := sh.NATSVars().Add(sh.StreamVars()).Add(sh.LedgerVars()).Add(sh.LogVars())
	err := config.Load(spec)
	if fs.natsURL != "" {
		sh.Bus.URL = fs.natsURL
	}
	if err != nil {
		fmt.Fprintf(io.err, "coldmove: %v\n(set the variables, or fix them; 'coldmove %s -h' lists the flags)\n", err, strings.TrimPrefix(fs.Name(), "coldmove "))
		return nil, exitUsage, true
	}
	return &sh, 0, false
}

// openBus reads the shared configuration and connects, as every command
// that talks to NATS starts: ok false means the command ends with code,
// what went wrong already said on io.err. The caller closes the bus.
func openBus(ctx context.Context, io stdio, fs *flags) (sh *config.Shared, b *bus.Bus, code int, ok bool) {
	sh, code, done := loadShared(io, fs)
	if done {
		return nil, nil, code, false
	}
	b, err := connect(ctx, sh)
	if err != nil {
		fmt.Fprintf(io.err, "%s: %v\n", fs.Name(), err)
		return nil, nil, exitError, false
	}
	return sh, b, 0, true
}

// connect opens NATS as the configuration says, saying what to do when it
// cannot, and makes sure the stream exists (created as the functions
// create it when they have not run yet; an existing one is left alone).
func connect(ctx context.Context, sh *config.Shared) (*bus.Bus, error) {
	b, err := bus.Connect(ctx, sh.Bus)
	if err != nil {
		return nil, fmt.Errorf("%w\n(is a NATS server with JetStream running there? set NATS_URL or --nats; 'coldmove demo' runs one of its own)", err)
	}
	if _, err := b.EnsureStream(ctx); err != nil {
		_ = b.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return b, nil
}

// openLedger opens the ledger bucket for reading.
func openLedger(ctx context.Context, b *bus.Bus, sh *config.Shared) (*ledger.Ledger, error) {
	l, err := ledger.Open(ctx, b.JetStream(), sh.Ledger)
	if err != nil {
		return nil, fmt.Errorf("open the ledger bucket %s: %w", sh.Ledger.Bucket, err)
	}
	return l, nil
}
