package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// jobReader reads a job record, for the live status: [ledger.Ledger]
// implements it.
type jobReader interface {
	GetJob(ctx context.Context, recordID string) (*ledger.Job, error)
}

// waiter follows one request to its terminal event.
type waiter struct {
	source, id string
	started    time.Time
	io         stdio
	// live rewrites one status line on a terminal; otherwise each event
	// is a line of its own.
	live bool
	jobs jobReader
	// quiet is how long without any answer before a hint is shown.
	quiet time.Duration
}

// status is what is known of the request so far.
type status struct {
	step  string // the type of the last event: requested, accepted, …
	jobID string
	job   string // the job record's last status and polls
}

// wait reads the events of fol until the request's terminal event, and
// returns the exit code of its outcome.
func (w *waiter) wait(ctx context.Context, fol *follower, asJSON bool) int {
	found := make(chan item, 16)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- fol.run(ctx, func(it item) bool {
			if !it.matches(w.source, w.id) {
				return true
			}
			found <- it
			return !it.terminal()
		})
	}()
	quiet := w.quiet
	if quiet == 0 {
		quiet = 15 * time.Second
	}
	hint := time.NewTimer(quiet)
	defer hint.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	st := status{step: "requested"}
	w.show(st)
	// take shows an event of the request; true with the exit code once it
	// is the terminal one.
	take := func(it item) (int, bool) {
		st.step = kind(it.Event.Type())
		if it.Data.Step != "" {
			st.step = it.Data.Step
		}
		if it.Data.JobID != "" {
			st.jobID = it.Data.JobID
		}
		hint.Stop()
		if !w.live {
			fmt.Fprintln(w.io.err, line(it, false, nil))
		}
		if it.terminal() {
			w.clear()
			return w.report(it, asJSON), true
		}
		w.show(st)
		return 0, false
	}
	for {
		select {
		case it := <-found:
			if code, end := take(it); end {
				return code
			}
		case <-tick.C:
			if st.jobID != "" {
				if j, err := w.jobs.GetJob(ctx, st.jobID); err == nil {
					st.job = j.LastStatus
					if j.Attempts > 0 {
						st.job = fmt.Sprintf("%s, polled %d×", orUnknown(j.LastStatus), j.Attempts)
					}
				}
			}
			w.show(st)
		case <-hint.C:
			w.clear()
			fmt.Fprintf(w.io.err, "no answer after %s: is the migrate function running? ('coldmove status' shows the ledger; 'coldmove watch' the stream)\n",
				quiet)
		case err := <-done:
			// The follower ends after handing the terminal event over, and
			// select picks at random among what is ready: take what it
			// handed over first.
			for len(found) > 0 {
				if code, end := take(<-found); end {
					return code
				}
			}
			w.clear()
			if errors.Is(err, context.Canceled) {
				fmt.Fprintf(w.io.err, "stopped waiting; request %s goes on ('coldmove watch --request %s' follows it)\n", w.id, w.id)
			} else {
				fmt.Fprintf(w.io.err, "coldmove request: %v\n", err)
			}
			return exitError
		}
	}
}

// show rewrites the live status line.
func (w *waiter) show(st status) {
	if !w.live {
		return
	}
	s := fmt.Sprintf("%s · %s", st.step, time.Since(w.started).Round(time.Second))
	if st.jobID != "" {
		s = fmt.Sprintf("%s · job %s", st.step, short(st.jobID))
		if st.job != "" {
			s += " " + st.job
		}
		s += " · " + time.Since(w.started).Round(time.Second).String()
	}
	fmt.Fprintf(w.io.err, "\r\033[K%s", s)
}

func (w *waiter) clear() {
	if w.live {
		fmt.Fprint(w.io.err, "\r\033[K")
	}
}

// report prints the terminal event and returns its exit code.
func (w *waiter) report(it item, asJSON bool) int {
	d := it.Data
	took := time.Since(w.started).Round(time.Second)
	if asJSON {
		b, _ := json.Marshal(it.Event)
		fmt.Fprintln(w.io.out, string(b))
	}
	switch it.Event.Type() {
	case events.TypeCompleted:
		where := "on " + target(d.Target)
		if d.Target != nil && d.Target.PublicPool {
			where = "in the public pool"
		}
		how := "moved by job " + d.JobID
		switch {
		case d.AlreadyInPlace:
			how = "it already was; nothing was moved"
		case d.JobID == "":
			how = "moved; verified from the server's state"
		}
		fmt.Fprintf(w.io.err, "completed: server %s is %s (%s, %s)\n", d.ServerID, where, how, took)
		return exitOK
	case events.TypeRejected:
		fmt.Fprintf(w.io.err, "rejected (%s): %s\n", d.Reason, d.Message)
		for _, p := range d.Problems {
			fmt.Fprintf(w.io.err, "  %s: %s\n", p.Field, p.Problem)
		}
		return exitRejected
	case events.TypeFailed:
		fmt.Fprintf(w.io.err, "failed (%s): %s\n", d.Reason, d.Message)
		return exitFailed
	default:
		fmt.Fprintf(w.io.err, "timed out: the deadline passed while the job was %s; whether the server moved is unknown\n", orUnknown(d.LastStatus))
		return exitTimedOut
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
