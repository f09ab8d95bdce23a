package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/coldmove/coldmove/ids"
)

const watchSynopsis = `Follows the event stream: every placement event once (through an ephemeral
JetStream consumer, so a request delivered five times shows its outcome once),
as a timeline a person reads at a glance — time, server, type and what matters
— coloured on a terminal, or as JSON lines (the structured CloudEvents). It
starts with new events; --all replays the stream first. Ctrl-C stops it.`

const watchExample = `  coldmove watch --server 5b8c3d4e-9fa0-4b12-83d4-e5f607182903
  coldmove watch --json | jq .type`

func runWatch(ctx context.Context, args []string, io stdio) int {
	fs := newFlags("watch [flags]", watchSynopsis, watchExample, io, true)
	server := fs.String("server", "", "show only this server's events (its `ID`)")
	request := fs.String("request", "", "show only the events of the request with this CloudEvent `id`")
	asJSON := fs.Bool("json", false, "print each event as one line of structured CloudEvent JSON")
	all := fs.Bool("all", false, "replay the events the stream holds first")
	if code, done := fs.parse(args); done {
		return code
	}
	if *server != "" && !ids.Server.Valid(*server) {
		fmt.Fprintf(io.err, "coldmove watch: --server %q must be %s\n", *server, ids.Server.Rule())
		return exitUsage
	}
	sh, b, code, ok := openBus(ctx, io, fs)
	if !ok {
		return code
	}
	defer b.Close(context.WithoutCancel(ctx))
	fol, err := openFollower(ctx, b, placementSubjects(sh.Bus.SubjectPrefix, *server), *all)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove watch: %v\n", err)
		return exitError
	}
	colour := isTerminal(io.out)
	err = fol.run(ctx, func(it item) bool {
		if *request != "" && it.Data.RequestID != *request && it.Event.ID() != *request {
			return true
		}
		if *asJSON {
			b, _ := json.Marshal(it.Event)
			fmt.Fprintln(io.out, string(b))
			return true
		}
		fmt.Fprintln(io.out, line(it, colour, nil))
		return true
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(io.err, "coldmove watch: %v\n", err)
		return exitError
	}
	return exitOK
}
