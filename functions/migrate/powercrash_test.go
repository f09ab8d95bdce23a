package main

import (
	"fmt"
	"testing"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/stacktest"
)

// The crash harness of migrate (crash_test.go) for requests with power
// steps (design.md, Power): migrate makes their first call, the stop of a
// running server (or the move of a stopped one), under the migrate call's
// rules, and hands the request on to poll in one power record. The stop
// passes the boundaries the migrate call does (submitting, sent, answered:
// the claim names the call as a stop; recorded: the claim is submitted and
// the power record written; publishing, published: progressed/
// stop_submitted). A request crashed at any of them and delivered again
// ends, as poll's harness (functions/poll, powercrash_test.go) starts from:
//
//   - job: the power record follows the stop's job, the claim holds it
//     with progressed/stop_submitted, on the stream once;
//   - watch: the power record follows the server with no job (the stop's
//     answer lost, or a takeover of a claim that was submitting: the stop
//     may never have been sent); nothing announced;
//   - finished: rejected before anything was stopped.
//
// No move and no start is ever sent by migrate, and at most one stop.

// powerCrashCases are the kinds of requests with power steps the harness
// crashes.
var powerCrashCases = []crashCase{
	{
		name: "stop submitted",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive}), events.HostTarget(w.host)
		},
		power: map[string]any{"stop": "soft", "restart": true},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent, crashAnswered,
			crashRecorded, crashPublishing, crashPublished},
		want: func(point string) migrateEnd {
			switch point {
			case crashSubmitting: // never sent; its redelivery cannot know
				return migrateEnd{kind: "watch"}
			case crashSent, crashAnswered:
				return migrateEnd{kind: "watch", stopped: true}
			}
			return migrateEnd{kind: "job", stopped: true}
		},
	},
	{
		name: "the stop's answer lost",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive}), events.HostTarget(w.host)
		},
		power:  map[string]any{"stop": "hard"},
		lost:   true,
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent, crashAnswered, crashRecorded},
		want: func(point string) migrateEnd {
			return migrateEnd{kind: "watch", stopped: point != crashSubmitting}
		},
	},
	{
		name: "already stopped",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{}), events.HostTarget(w.host)
		},
		power: map[string]any{"stop": "soft", "restart": true},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashSubmitting, crashSent, crashAnswered,
			crashRecorded, crashPublishing, crashPublished},
		want: func(point string) migrateEnd {
			switch point {
			case crashSubmitting:
				return migrateEnd{kind: "watch"}
			case crashSent, crashAnswered:
				return migrateEnd{kind: "watch", migrated: true}
			}
			return migrateEnd{kind: "job", migrated: true}
		},
	},
	{
		name: "running and locked",
		setup: func(w *crashWorld) (string, *events.Target) {
			return w.Sim.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive, Locked: true}), events.HostTarget(w.host)
		},
		power:  map[string]any{"stop": "soft", "restart": true},
		passes: []string{crashPending, crashClaimed, crashLocked, crashPreflight, crashFinished, crashPublishing, crashPublished},
		want: func(string) migrateEnd {
			return finished(events.TypeRejected, events.RejectServerLocked)
		},
	},
}

// TestCrash_migratePower crashes requests with power steps at every
// boundary and delivers them again, as TestCrash_migrate does the others:
// for each seed and boundary, a batch (each kind once; more in the long
// form, COLDMOVE_SOAK=1) on one stack whose simulator fails pre-flight
// reads at random.
func TestCrash_migratePower(t *testing.T) {
	t.Parallel()
	perCase := stacktest.Scale(1, 4)
	for _, seed := range stacktest.Seeds(t, 1, 12) {
		for _, point := range crashPoints {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, point), func(t *testing.T) {
				t.Parallel()
				runMigrateCrash(t, seed, point, perCase, powerCrashCases)
			})
		}
	}
}
