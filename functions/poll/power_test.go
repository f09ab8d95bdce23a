package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/ledger"
)

// powered says how to submit a request with power steps.
type powered struct {
	status   string // the server's status: ACTIVE (stopped first) or SHUTOFF
	restart  bool
	lockStop bool // the server is locked when the stop is sent: the stop fails
	deadline time.Duration
	// watch: the stop's answer was lost (the claim is submitted with its
	// job unknown), so the record follows the server; with noCall the
	// stop was never sent (a takeover of a claim that was submitting).
	watch, noCall bool
}

// submitPowered does what migrate does for a request with power steps:
// claim, lock, pre-flight, and the first call — the stop of a running
// server (announced with progressed/stop_submitted), or the move of a
// stopped one — recorded in the request's one power record. r.JobID is
// the first call's job; "" when its answer was lost (pw.watch).
func (e *env) submitPowered(pw powered) request {
	e.t.Helper()
	ctx := context.Background()
	n := e.seq.Add(1)
	srv := e.sim.AddServer(ecstest.ServerSpec{Status: pw.status})
	host := e.sim.AddDedicatedHost(ecstest.HostSpec{})
	if pw.deadline == 0 {
		pw.deadline = time.Hour
	}
	r := request{Source: "urn:coldmove:test", ID: fmt.Sprintf("power-%d", n), ServerID: srv,
		Target: ledger.Target{DedicatedHostID: host}, Deadline: e.clock.Now().Add(pw.deadline)}
	r.Key = events.RequestKey(r.Source, r.ID)
	res, err := e.migrate.ClaimRequest(ctx, ledger.RequestRef{Source: r.Source, ID: r.ID, ServerID: srv, Deadline: r.Deadline})
	if err != nil {
		e.t.Fatal(err)
	}
	c := res.Claim
	if _, err := e.migrate.AcquireLock(ctx, c); err != nil {
		e.t.Fatal(err)
	}
	call := ledger.CallMigrate
	if pw.status == ecstest.StatusActive {
		call = ledger.CallStop
	}
	if err := e.migrate.MarkCalling(ctx, c, call); err != nil {
		e.t.Fatal(err)
	}
	origin := events.Origin{RequestID: r.ID, RequestSource: r.Source, ServerID: srv, ProjectID: e.sim.ProjectID(),
		Region: testRegion, Target: &r.Target}
	var announce []byte
	if call == ledger.CallStop {
		if pw.lockStop {
			if err := e.sim.SetServerLocked(srv, true); err != nil {
				e.t.Fatal(err)
			}
		}
		if !pw.noCall {
			r.JobID, err = e.sim.Client().BatchStopServers(ctx, e.sim.ProjectID(), []string{srv}, false)
			if err != nil {
				e.t.Fatal(err)
			}
		}
		if pw.watch {
			r.JobID = ""
			if err := e.migrate.MarkSubmittedUnknown(ctx, c); err != nil {
				e.t.Fatal(err)
			}
			return e.recordPowered(r, pw, call)
		}
		ev, err := events.NewProgressed(origin, events.StepStopSubmitted, r.JobID, e.clock.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		announce = mustStructured(e.t, ev)
	} else {
		r.JobID, err = e.sim.Client().MigrateServer(ctx, e.sim.ProjectID(), srv, ecsTarget(r.Target))
		if err != nil {
			e.t.Fatal(err)
		}
		ev, err := events.NewAccepted(origin, r.JobID, r.Deadline, e.clock.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		announce = mustStructured(e.t, ev)
	}
	if err := e.migrate.MarkSubmitted(ctx, c, r.JobID, announce); err != nil {
		e.t.Fatal(err)
	}
	return e.recordPowered(r, pw, call)
}

// recordPowered writes the power record of r, as migrate does once its
// first call is submitted.
func (e *env) recordPowered(r request, pw powered, call ledger.Call) request {
	e.t.Helper()
	ps := &ledger.PowerState{Stop: events.StopSoft, Restart: pw.restart, Call: call}
	if call == ledger.CallStop {
		ps.StopJobID = r.JobID
	} else {
		ps.MoveJobID = r.JobID
	}
	if _, err := e.migrate.RecordJob(context.Background(), ledger.Job{JobID: r.JobID, RequestID: r.ID, RequestSource: r.Source,
		ProjectID: e.sim.ProjectID(), Region: testRegion, ServerID: r.ServerID, Target: r.Target, Deadline: r.Deadline, Power: ps}); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// runToEnd ticks, letting the simulator's jobs run between ticks, until
// the request's terminal event is on the stream, and returns every event
// published for it.
func (e *env) runToEnd(p *Poller, r request, between func(round int)) []published {
	e.t.Helper()
	for round := range 40 {
		if between != nil {
			between(round)
		}
		mustTick(e.t, context.Background(), p)
		var mine []published
		for _, o := range e.outcomes() {
			if data[events.Correlation](e.t, o.Event).RequestID == r.ID {
				mine = append(mine, o)
			}
		}
		if n := len(mine); n > 0 && events.IsTerminal(mine[n-1].Event.Type()) {
			return mine
		}
		e.clock.Advance(20 * time.Second)
	}
	e.t.Fatalf("request %s did not end in 40 rounds", r.ID)
	return nil
}

// kinds renders events as type[/step or reason].
func kinds(tb testing.TB, evs []published) []string {
	var out []string
	for _, o := range evs {
		k := o.Event.Type()[len("dev.coldmove.placement."):]
		d := data[struct {
			Step   string `json:"step"`
			Reason string `json:"reason"`
		}](tb, o.Event)
		if d.Step != "" {
			k += "/" + d.Step
		}
		if d.Reason != "" {
			k += "/" + d.Reason
		}
		out = append(out, k)
	}
	return out
}

func TestPower_paths(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		pw      powered
		between func(e *env, r request, round int)
		want    []string
		power   events.PowerOutcome
		calls   [3]int // stops, migrations, starts
		status  string // the server at the end
		onHost  bool
		verify  bool // placement_verified
	}{
		"already stopped": {
			pw:    powered{status: ecstest.StatusShutoff, restart: true},
			want:  []string{"completed"},
			calls: [3]int{0, 1, 0}, status: "SHUTOFF", onHost: true,
		},
		"stopped by us, moved, started again": {
			pw:    powered{status: ecstest.StatusActive, restart: true},
			want:  []string{"progressed/stopped", "accepted", "progressed/start_submitted", "progressed/started", "completed"},
			power: events.PowerOutcome{Stopped: true, Restarted: true},
			calls: [3]int{1, 1, 1}, status: "ACTIVE", onHost: true,
		},
		"stopped by us, no restart asked": {
			pw:    powered{status: ecstest.StatusActive},
			want:  []string{"progressed/stopped", "accepted", "completed"},
			power: events.PowerOutcome{Stopped: true},
			calls: [3]int{1, 1, 0}, status: "SHUTOFF", onHost: true,
		},
		"the stop fails": {
			pw:    powered{status: ecstest.StatusActive, restart: true, lockStop: true},
			want:  []string{"failed/stop_failed"},
			calls: [3]int{1, 0, 0}, status: "ACTIVE",
		},
		"the move fails, the server is started again": {
			pw: powered{status: ecstest.StatusActive, restart: true},
			between: func(e *env, r request, round int) {
				if round == 0 {
					if err := e.sim.FailMigrations(r.ServerID, "Ecs.0319", "no NUMA node has room"); err != nil {
						e.t.Fatal(err)
					}
				}
			},
			want:  []string{"progressed/stopped", "accepted", "progressed/start_submitted", "progressed/started", "failed/job_failed"},
			power: events.PowerOutcome{Stopped: true, Restarted: true},
			calls: [3]int{1, 1, 1}, status: "ACTIVE",
		},
		"the move succeeds, the start fails": {
			pw: powered{status: ecstest.StatusActive, restart: true},
			between: func(e *env, r request, round int) {
				// Locked once the move is done: the start's sub-job fails.
				if s, err := e.sim.Client().ShowServer(context.Background(), e.sim.ProjectID(), r.ServerID); err == nil &&
					s.On(r.Target.DedicatedHostID) && !s.Busy() {
					_ = e.sim.SetServerLocked(r.ServerID, true)
				}
			},
			want:  []string{"progressed/stopped", "accepted", "progressed/start_submitted", "failed/restart_failed"},
			power: events.PowerOutcome{Stopped: true},
			calls: [3]int{1, 1, 1}, status: "SHUTOFF", onHost: true, verify: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			r := e.submitPowered(tc.pw)
			p, _ := e.poller("poll-1")
			evs := e.runToEnd(p, r, func(round int) {
				if tc.between != nil {
					tc.between(e, r, round)
				}
			})
			if diff := cmp.Diff(tc.want, kinds(t, evs)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			last := evs[len(evs)-1]
			got := data[struct {
				Power             *events.PowerOutcome `json:"power"`
				PlacementVerified bool                 `json:"placement_verified"`
			}](t, last.Event)
			if got.Power == nil {
				t.Fatalf("the terminal event carries no power: %s", last.Event.Data())
			}
			want := tc.power
			if tc.calls[0] == 1 { // the stop's job, done or failed
				want.StopJobID = r.JobID
			}
			gotPower := *got.Power
			if want.Restarted || gotPower.StartJobID != "" && tc.calls[2] == 1 {
				want.StartJobID = gotPower.StartJobID
			}
			if diff := cmp.Diff(want, gotPower); diff != "" || (tc.calls[2] == 1) != (gotPower.StartJobID != "") {
				t.Errorf("power (-want +got):\n%s start job %q", diff, gotPower.StartJobID)
			}
			if got.PlacementVerified != tc.verify {
				t.Errorf("placement_verified = %v", got.PlacementVerified)
			}
			calls := [3]int{e.sim.Calls(ecstest.OpBatchStopServers), e.sim.MigrateCalls(r.ServerID), e.sim.Calls(ecstest.OpBatchStartServers)}
			if calls != tc.calls {
				t.Errorf("calls (stop, migrate, start) = %v, want %v", calls, tc.calls)
			}
			s, err := e.sim.Client().ShowServer(t.Context(), e.sim.ProjectID(), r.ServerID)
			if err != nil || s.Status != tc.status || s.On(r.Target.DedicatedHostID) != tc.onHost {
				t.Errorf("server %s %s, want %s on the target %v (%v)", s.State(), s.Placement(), tc.status, tc.onHost, err)
			}
			e.checkFinished(r, last)
			if snap := e.Snapshot(); len(snap.Jobs) != 0 {
				t.Errorf("records left: %+v", snap.Jobs)
			}
		})
	}
}

// The deadline covers the whole request: in the move, it ends timedout,
// and a server coldmove stopped is started again (the request ends with
// the start's job id to follow, restarted false until verified).
func TestPower_deadlineInTheMove(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: time.Second, Migrating: time.Hour, Power: 10 * time.Second}))
	r := e.submitPowered(powered{status: ecstest.StatusActive, restart: true, deadline: 5 * time.Minute})
	p, _ := e.poller("poll-1")
	evs := e.runToEnd(p, r, nil)
	if diff := cmp.Diff([]string{"progressed/stopped", "accepted", "progressed/start_submitted", "timedout"}, kinds(t, evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	last := evs[len(evs)-1]
	to := data[events.TimedOut](t, last.Event)
	if to.Power == nil || !to.Power.Stopped || to.Power.Restarted || to.Power.StartJobID == "" {
		t.Errorf("power %+v", to.Power)
	}
	if n := e.sim.Calls(ecstest.OpBatchStartServers); n != 1 {
		t.Errorf("starts = %d", n)
	}
	e.checkFinished(r, last)
}

// A stop that does not finish by the deadline ends stop_failed; nothing
// is migrated.
func TestPower_deadlineInTheStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: time.Second, Power: time.Hour}))
	r := e.submitPowered(powered{status: ecstest.StatusActive, restart: true, deadline: 3 * time.Minute})
	p, _ := e.poller("poll-1")
	evs := e.runToEnd(p, r, nil)
	if diff := cmp.Diff([]string{"failed/stop_failed"}, kinds(t, evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if e.sim.MigrateCalls(r.ServerID) != 0 || e.sim.Calls(ecstest.OpBatchStartServers) != 0 {
		t.Error("a move or a start was sent")
	}
}

// A follow-on call whose answer is lost is never sent again: the request
// follows the server instead, and still ends where the server is.
func TestPower_lostAnswerOfTheMove(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.submitPowered(powered{status: ecstest.StatusActive, restart: true})
	p, _ := e.poller("poll-1")
	lost := false
	evs := e.runToEnd(p, r, func(int) {
		if !lost {
			if s, err := e.sim.Client().ShowServer(context.Background(), e.sim.ProjectID(), r.ServerID); err == nil && s.Status == "SHUTOFF" && !s.Busy() {
				e.sim.InjectNext(ecstest.OpMigrateServer, 1, ecstest.ResponseLost())
				lost = true
			}
		}
	})
	if diff := cmp.Diff([]string{"progressed/stopped", "progressed/start_submitted", "progressed/started", "completed"}, kinds(t, evs)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := e.sim.MigrateCalls(r.ServerID); n != 1 {
		t.Errorf("migrate calls = %d, want 1", n)
	}
	e.checkFinished(r, evs[len(evs)-1])
}
