package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/coldmove/coldmove/ledger"
)

const statusSynopsis = `Shows the outstanding work in the ledger: every request whose migration is
being tracked (server, target, step, job, age, polls, next poll, deadline,
last status seen), and every request claimed but not submitted yet (its
deadline is when it is given up). Finished requests are not shown.`

const statusExample = `  coldmove status
  coldmove status --json | jq '.[] | select(.step == "tracking")'`

// work is one outstanding request, as status shows it.
type work struct {
	ServerID   string     `json:"server_id"`
	Target     string     `json:"target"`
	Step       string     `json:"step"`
	JobID      string     `json:"job_id,omitempty"`
	RequestID  string     `json:"request_id"`
	Source     string     `json:"request_source"`
	Since      time.Time  `json:"since"`
	Polls      int        `json:"polls"`
	NextPoll   *time.Time `json:"next_poll,omitempty"`
	Deadline   *time.Time `json:"deadline,omitempty"`
	LastStatus string     `json:"last_status,omitempty"`
}

func runStatus(ctx context.Context, args []string, io stdio) int {
	fs := newFlags("status [flags]", statusSynopsis, statusExample, io, true)
	asJSON := fs.Bool("json", false, "print the outstanding work as a JSON array")
	if code, done := fs.parse(args); done {
		return code
	}
	sh, b, code, ok := openBus(ctx, io, fs)
	if !ok {
		return code
	}
	defer b.Close(context.WithoutCancel(ctx))
	l, err := openLedger(ctx, b, sh)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove status: %v\n", err)
		return exitError
	}
	snap, err := l.Snapshot(ctx)
	if err != nil {
		fmt.Fprintf(io.err, "coldmove status: %v\n", err)
		return exitError
	}
	ws := outstanding(snap)
	if *asJSON {
		enc := json.NewEncoder(io.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ws); err != nil {
			return exitError
		}
		return exitOK
	}
	printWork(io, ws, time.Now())
	return exitOK
}

// outstanding lists the work of a snapshot: the job records, then the
// claims in progress that have none yet.
func outstanding(s *ledger.Snapshot) []work {
	ws := []work{}
	tracked := map[string]bool{}
	for _, j := range s.Jobs {
		tracked[j.RequestKey] = true
		step := "tracking"
		switch {
		case len(j.Outcome) > 0:
			step = "publishing outcome"
		case j.Pending:
			step = "not submitted yet"
		case j.Watch():
			step = "watching server"
		}
		next, deadline := j.NextPoll, j.Deadline
		ws = append(ws, work{ServerID: j.ServerID, Target: target(&j.Target), Step: step, JobID: j.JobID,
			RequestID: j.RequestID, Source: j.RequestSource, Since: j.Created, Polls: j.Attempts,
			NextPoll: &next, Deadline: &deadline, LastStatus: j.LastStatus})
	}
	for _, c := range s.Claims {
		if c.State == ledger.StateFinished || tracked[c.RequestKey] {
			continue
		}
		ws = append(ws, work{ServerID: c.ServerID, Step: string(c.State), JobID: c.JobID,
			RequestID: c.RequestID, Source: c.Source, Since: c.Created})
	}
	return ws
}

func printWork(io stdio, ws []work, now time.Time) {
	if len(ws) == 0 {
		fmt.Fprintln(io.out, "nothing outstanding: no migration is being tracked")
		return
	}
	tw := tabwriter.NewWriter(io.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVER\tTARGET\tSTEP\tJOB\tAGE\tPOLLS\tNEXT POLL\tDEADLINE\tLAST STATUS")
	for _, w := range ws {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", w.ServerID, dash(w.Target), w.Step, dash(short(w.JobID)),
			now.Sub(w.Since).Round(time.Second), w.Polls, relative(w.NextPoll, now), relative(w.Deadline, now), dash(w.LastStatus))
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// relative renders a time as "in 12s" or "3s ago".
func relative(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	d := t.Sub(now).Round(time.Second)
	if d >= 0 {
		return "in " + d.String()
	}
	return (-d).String() + " ago"
}
