// Command coldmove is the operator's CLI for coldmove: it sends placement
// requests and follows them to their outcome, watches the event stream as
// a timeline, shows the outstanding work in the ledger, serves the ECS
// simulator, and runs the demo.
//
// Usage:
//
//	coldmove request --server ID (--dedicated-host ID | --public-pool) [--wait]
//	coldmove watch [--server ID] [--request ID] [--json]
//	coldmove status [--json]
//	coldmove simulator [--addr 127.0.0.1:0]
//	coldmove demo
//
// It reads the same environment as the functions (NATS_*, COLDMOVE_*);
// flags override it. `coldmove <command> -h` explains each command.
// Exit codes: 0 completed (or done), 3 rejected, 4 failed, 5 timed out, 2
// a usage or configuration error, 1 any other error.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, as design.md fixes them.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitRejected = 3
	exitFailed   = 4
	exitTimedOut = 5
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio{out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}

// stdio is where a command writes: its result to out, everything for
// people (progress, errors) to err.
type stdio struct {
	out, err io.Writer
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, io stdio) int
}

func commands() []command {
	return []command{
		{"request", "send a placement request; --wait follows it to its outcome", runRequest},
		{"watch", "follow the event stream as a timeline (or JSON lines)", runWatch},
		{"status", "show the outstanding work in the ledger", runStatus},
		{"simulator", "serve the ECS simulator on loopback, with a seeded fleet", runSimulator},
		{"demo", "run the whole system in one process and tell its stories", runDemo},
	}
}

const usageHead = `coldmove moves Huawei Cloud ECS servers onto, between and off dedicated hosts
by cold migration, driven by CloudEvents on NATS.

Usage: coldmove <command> [flags]

Commands:
`

const usageTail = `
Every command reads the environment the functions read (NATS_URL, NATS_CREDS,
COLDMOVE_SUBJECT_PREFIX, COLDMOVE_STREAM, COLDMOVE_LEDGER_BUCKET, …); flags
override it. Run 'coldmove <command> -h' for a command's flags and an example.

Exit codes: 0 done (a request completed), 3 rejected, 4 failed, 5 timed out,
2 usage or configuration error, 1 any other error.
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

// run dispatches to a command and returns the exit code.
func run(ctx context.Context, args []string, io stdio) int {
	if len(args) == 0 {
		usage(io.err)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(io.out)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], io)
		}
	}
	fmt.Fprintf(io.err, "coldmove: unknown command %q\n\n", args[0])
	usage(io.err)
	return exitUsage
}
