package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
)

const requestSynopsis = `Publishes one placement request (a dev.coldmove.placement.requested
CloudEvent, binary mode) and prints its id. With --wait it follows the request
with a live status line to its terminal event and exits by its outcome: 0
completed, 3 rejected, 4 failed, 5 timed out. Cold migration takes a stopped
server: with --stop a running one is stopped first, and with --restart started
again after the move (only if coldmove stopped it).`

const requestExample = `  coldmove request --server 5b8c3d4e-9fa0-4b12-83d4-e5f607182903 \
      --dedicated-host 6d1c0e8a-2b4f-4c6e-9a1d-3f5b7c9e0a11 --wait
  coldmove request --server c2f3a4b5-0617-4289-ba4b-5c6d7e8f900a --public-pool \
      --stop soft --restart --wait      # a running server: stopped, moved, started again`

// requestFlags are the request command's flags.
type requestFlags struct {
	server, host, project, region, deadline, id, source, stop string
	pool, restart, wait, json                                 bool
}

func runRequest(ctx context.Context, args []string, io stdio) int {
	fs := newFlags("request --server ID (--dedicated-host ID | --public-pool) [flags]", requestSynopsis, requestExample, io, true)
	var f requestFlags
	fs.StringVar(&f.server, "server", "", "the `ID` of the server to move (a UUID)")
	fs.StringVar(&f.host, "dedicated-host", "", "move onto the dedicated host with this `ID`")
	fs.BoolVar(&f.pool, "public-pool", false, "move off any dedicated host, to the public pool")
	fs.StringVar(&f.project, "project", "", "the server's project `ID` (default: the functions' HUAWEICLOUD_SDK_PROJECT_ID)")
	fs.StringVar(&f.region, "region", "", "the server's `region` (default: the functions' COLDMOVE_REGION)")
	fs.StringVar(&f.deadline, "deadline", "", "give up at this RFC 3339 `time`, or this long from now (e.g. 30m)")
	fs.StringVar(&f.stop, "stop", "", "stop a running server first: `soft` (the guest shuts down) or hard")
	fs.BoolVar(&f.restart, "restart", false, "with --stop: start the server again after the move, if coldmove stopped it")
	fs.StringVar(&f.id, "id", "", "the request's CloudEvent `id` (default: a new UUID)")
	fs.StringVar(&f.source, "source", "urn:coldmove:cli", "the request's CloudEvent `source`")
	fs.BoolVar(&f.wait, "wait", false, "follow the request to its outcome and exit by it")
	fs.BoolVar(&f.json, "json", false, "with --wait, print the terminal event as JSON")
	if code, done := fs.parse(args); done {
		return code
	}
	now := time.Now()
	req, err := f.request(now)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove request: %v\n(see coldmove request -h)\n", err)
		return exitUsage
	}
	if f.id == "" {
		f.id = newUUID()
	}
	e, err := events.NewRequested(f.source, f.id, req, now)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove request: %v\n", readable(err))
		return exitUsage
	}
	sh, b, code, ok := openBus(ctx, io, fs)
	if !ok {
		return code
	}
	defer b.Close(context.WithoutCancel(ctx))

	var fol *follower
	if f.wait {
		// Follow before publishing, so that no answer is missed.
		if fol, err = openFollower(ctx, b, placementSubjects(sh.Bus.SubjectPrefix, ""), false); err != nil {
			fmt.Fprintf(io.err, "coldmove request: %v\n", err)
			return exitError
		}
	}
	res, err := b.PublishMode(ctx, e, bus.Binary)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove request: %v\n", err)
		return exitError
	}
	fmt.Fprintln(io.out, f.id)
	if res.Duplicate {
		fmt.Fprintf(io.err, "note: the stream already holds a request with id %s from %s; this copy was dropped\n", f.id, f.source)
	}
	if !f.wait {
		return exitOK
	}
	l, err := openLedger(ctx, b, sh)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove request: %v\n", err)
		return exitError
	}
	w := &waiter{source: f.source, id: f.id, started: now, io: io, live: isTerminal(io.err), jobs: l}
	return w.wait(ctx, fol, f.json)
}

// request builds the request the flags describe.
func (f *requestFlags) request(now time.Time) (events.Request, error) {
	r := events.Request{ServerID: f.server, ProjectID: f.project, Region: f.region}
	switch {
	case f.server == "":
		return r, errors.New("--server is required")
	case f.host != "" && f.pool:
		return r, errors.New("give --dedicated-host or --public-pool, not both")
	case f.host != "":
		r.Target = events.HostTarget(f.host)
	case f.pool:
		r.Target = events.PublicPoolTarget()
	default:
		return r, errors.New("give a target: --dedicated-host ID or --public-pool")
	}
	switch {
	case f.restart && f.stop == "":
		return r, errors.New("--restart needs --stop soft or --stop hard")
	case f.stop != "":
		r.Power = &events.Power{Stop: events.StopType(f.stop), Restart: f.restart}
	}
	if f.deadline != "" {
		t, err := parseDeadline(f.deadline, now)
		if err != nil {
			return r, err
		}
		r.Deadline = &t
	}
	return r, nil
}

// parseDeadline reads an RFC 3339 time or a duration from now.
func parseDeadline(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(d).UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--deadline %q is neither an RFC 3339 time (2026-12-01T15:04:05Z) nor a duration (30m)", s)
	}
	return t, nil
}

// readable renders a validation error one problem per line.
func readable(err error) string {
	var ve *events.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	s := "the request is not valid:"
	for _, p := range ve.Problems {
		s += fmt.Sprintf("\n  %s: %s", p.Field, p.Problem)
	}
	return s
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
