package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/coldmove/coldmove/events"
)

// ANSI colours of the timeline, used only on a terminal.
const (
	colReset   = "\033[0m"
	colDim     = "\033[2m"
	colRed     = "\033[31m"
	colGreen   = "\033[32m"
	colYellow  = "\033[33m"
	colBlue    = "\033[34m"
	colMagenta = "\033[35m"
	colCyan    = "\033[36m"
)

// isTerminal reports whether w is a character device (a terminal), where
// colours and a live status line belong.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// kind is the short name of an event type: the last token of its subject.
func kind(eventType string) string {
	return strings.TrimPrefix(eventType, "dev.coldmove.placement.")
}

// colourOf is the colour of an event type on the timeline.
func colourOf(eventType string) string {
	switch eventType {
	case events.TypeRequested:
		return colDim
	case events.TypeAccepted:
		return colCyan
	case events.TypeCompleted:
		return colGreen
	case events.TypeFailed:
		return colRed
	case events.TypeRejected:
		return colYellow
	case events.TypeTimedOut:
		return colMagenta
	}
	return colBlue
}

// short shortens an id for a column: its first 8 characters.
func short(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:8]
}

// target describes a target for people, naming a dedicated host by its
// name in names when it has one.
func target(t *events.Target, names ...map[string]string) string {
	switch {
	case t == nil:
		return "?"
	case t.PublicPool:
		return "public pool"
	}
	for _, m := range names {
		if n := m[t.DedicatedHostID]; n != "" {
			return n
		}
	}
	return "DeH " + short(t.DedicatedHostID)
}

// line renders one event as a timeline line: time, server, type and the
// one or two fields that matter for it. names maps ids to names (may be
// nil).
func line(it item, colour bool, names map[string]string) string {
	e, d := it.Event, it.Data
	server := d.ServerID
	if server == "" {
		server = e.Subject()
	}
	who := short(server)
	if n := names[server]; n != "" {
		who = n
	}
	var what string
	switch e.Type() {
	case events.TypeRequested:
		what = "→ " + target(d.Target, names)
	case events.TypeAccepted:
		what = "job " + short(d.JobID) + " → " + target(d.Target, names)
	case events.TypeRejected:
		what = d.Reason
		if d.ServerStatus != "" {
			what += " (" + d.ServerStatus + ")"
		}
		if len(d.Problems) > 0 {
			what += ": " + problems(d.Problems)
		}
	case events.TypeCompleted:
		what = "on " + target(d.Target, names)
		if d.Target != nil && d.Target.PublicPool {
			what = "in the public pool"
		}
		if d.AlreadyInPlace {
			what += " (already in place)"
		} else if d.JobID != "" {
			what += ", job " + short(d.JobID)
		}
	case events.TypeFailed:
		what = d.Reason
		if d.ErrorCode != "" || d.FailReason != "" {
			what += ": " + strings.TrimPrefix(d.ErrorCode+" "+d.FailReason, " ")
		}
	case events.TypeTimedOut:
		what = "last seen " + d.LastStatus
	default:
		what = d.Step
		if d.JobID != "" {
			what += ", job " + short(d.JobID)
		}
	}
	t := e.Time().Local().Format(time.TimeOnly)
	k := fmt.Sprintf("%-10s", kind(e.Type()))
	if colour {
		k = colourOf(e.Type()) + k + colReset
		t = colDim + t + colReset
	}
	return fmt.Sprintf("%s  %-12s %s %s", t, who, k, what)
}

// problems renders field problems on one line.
func problems(ps []events.Problem) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Field + " " + p.Problem
	}
	return strings.Join(parts, "; ")
}
