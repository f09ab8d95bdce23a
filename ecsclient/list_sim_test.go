package ecsclient_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// unknownServer is a well-formed server id the simulator never creates.
const unknownServer = "0c1d2e3f-4a5b-4c6d-8e7f-a0b1c2d3e4f5"

// lookupView is what these tests compare of a ServerLookup.
type lookupView struct {
	ID       string
	Presence ecsclient.Presence
	State    string // Server.State(), "" without a server
	Busy     bool
	OnHost   string // the dedicated host the server is on
}

func viewOf(ls []ecsclient.ServerLookup) []lookupView {
	out := make([]lookupView, len(ls))
	for i, l := range ls {
		out[i] = lookupView{ID: l.ID, Presence: l.Presence}
		if l.Server != nil {
			out[i].State, out[i].Busy, out[i].OnHost = l.Server.State(), l.Server.Busy(), l.Server.DedicatedHostID
		}
	}
	return out
}

func TestSimulator_listServersDetails(t *testing.T) {
	t.Parallel()
	sim := ecstest.NewServer(t, ecstest.WithJobTimings(ecstest.JobTimings{Queued: time.Second, Migrating: time.Minute, Finishing: time.Minute}))
	project := sim.ProjectID()
	from := sim.AddDedicatedHost(ecstest.HostSpec{})
	to := sim.AddDedicatedHost(ecstest.HostSpec{})
	onHost := sim.AddServer(ecstest.ServerSpec{DedicatedHostID: from})
	moving := sim.AddServer(ecstest.ServerSpec{DedicatedHostID: from})
	running := sim.AddServer(ecstest.ServerSpec{Status: ecstest.StatusActive})
	elsewhere := sim.AddServer(ecstest.ServerSpec{ProjectID: sim.AddProject()})
	c := sim.Client()
	if _, err := c.MigrateServer(t.Context(), project, moving, ecsclient.Target{DedicatedHostID: to}); err != nil {
		t.Fatal(err)
	}
	sim.Advance(2 * time.Second)

	found := func(id, state, host string, busy bool) lookupView {
		return lookupView{ID: id, Presence: ecsclient.ServerFound, State: state, Busy: busy, OnHost: host}
	}
	missing := func(id string) lookupView { return lookupView{ID: id, Presence: ecsclient.ServerMissing} }
	tests := map[string]struct {
		ids  []string
		want []lookupView
	}{
		"found":                    {[]string{onHost}, []lookupView{found(onHost, "SHUTOFF", from, false)}},
		"moving while it migrates": {[]string{moving}, []lookupView{found(moving, "RESIZE (resize_migrating)", from, true)}},
		"unknown id":               {[]string{unknownServer}, []lookupView{missing(unknownServer)}},
		"another project's server": {[]string{elsewhere}, []lookupView{missing(elsewhere)}},
		"mixed, in the order asked": {
			[]string{running, unknownServer, moving, onHost},
			[]lookupView{found(running, "ACTIVE", "", false), missing(unknownServer), found(moving, "RESIZE (resize_migrating)", from, true), found(onHost, "SHUTOFF", from, false)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := c.ListServersDetails(t.Context(), project, tc.ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, viewOf(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			// The one model of a server: a found entry equals ShowServer's.
			for _, l := range got {
				if l.Presence != ecsclient.ServerFound {
					continue
				}
				shown, err := c.ShowServer(t.Context(), project, l.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(shown, l.Server); diff != "" {
					t.Errorf("list and ShowServer differ (-show +list):\n%s", diff)
				}
			}
		})
	}
}

// fakeIDs returns n well-formed server ids, every third one created in the
// simulator's default project.
func fakeIDs(sim *ecstest.Server, n int) (ids []string, created map[string]bool) {
	created = map[string]bool{}
	for i := range n {
		if i%3 == 0 {
			id := sim.AddServer(ecstest.ServerSpec{})
			created[id] = true
			ids = append(ids, id)
			continue
		}
		ids = append(ids, fmt.Sprintf("%08x-1111-4222-8333-444444444444", i))
	}
	return ids, created
}

func TestSimulator_listServersDetailsLimits(t *testing.T) {
	t.Parallel()

	t.Run("100 ids in one request", func(t *testing.T) {
		t.Parallel()
		sim := ecstest.NewServer(t)
		ids, created := fakeIDs(sim, ecsclient.MaxListIDs)
		got, err := sim.Client().ListServersDetails(t.Context(), sim.ProjectID(), ids)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range got {
			want := ecsclient.ServerMissing
			if created[ids[i]] {
				want = ecsclient.ServerFound
			}
			if l.ID != ids[i] || l.Presence != want {
				t.Errorf("entry %d = %s %v, want %s %v", i, l.ID, l.Presence, ids[i], want)
			}
		}
		if n, most := sim.Calls(ecstest.OpListServersDetails), sim.MaxListIDsSeen(); n != 1 || most != 100 {
			t.Errorf("%d list calls asking for at most %d ids, want 1 asking for 100", n, most)
		}
	})

	refused := map[string]func(*ecstest.Server) (string, []string){
		"101 ids": func(sim *ecstest.Server) (string, []string) {
			ids, _ := fakeIDs(sim, ecsclient.MaxListIDs+1)
			return sim.ProjectID(), ids
		},
		"a malformed id": func(sim *ecstest.Server) (string, []string) {
			return sim.ProjectID(), []string{sim.AddServer(ecstest.ServerSpec{}), "not-a-uuid"}
		},
		"a repeated id": func(sim *ecstest.Server) (string, []string) {
			id := sim.AddServer(ecstest.ServerSpec{})
			return sim.ProjectID(), []string{id, id}
		},
		"no ids": func(sim *ecstest.Server) (string, []string) { return sim.ProjectID(), nil },
		"a malformed project": func(sim *ecstest.Server) (string, []string) {
			return "not-a-project", []string{sim.AddServer(ecstest.ServerSpec{})}
		},
	}
	for name, args := range refused {
		t.Run(name+" is refused before any request", func(t *testing.T) {
			t.Parallel()
			sim := ecstest.NewServer(t)
			project, ids := args(sim)
			_, err := sim.Client().ListServersDetails(t.Context(), project, ids)
			if !errors.Is(err, ecsclient.ErrInvalidID) {
				t.Errorf("err = %v, want ErrInvalidID", err)
			}
			if n := sim.Calls(ecstest.OpAny); n != 0 {
				t.Errorf("%d requests reached the simulator", n)
			}
		})
	}
}

func TestSimulator_listServersDetailsFaults(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		fault     ecstest.Fault
		times     int
		wantErr   error // nil: success
		wantCalls int
	}{
		"503 twice is retried":        {ecstest.ServerError(503), 2, nil, 3},
		"500 once is retried":         {ecstest.ServerError(500), 1, nil, 2},
		"reset once is retried":       {ecstest.ConnectionReset(), 1, nil, 2},
		"truncated once is retried":   {ecstest.TruncatedBody(), 1, nil, 2},
		"malformed once is retried":   {ecstest.MalformedBody(), 1, nil, 2},
		"throttled once is retried":   {ecstest.GatewayThrottle(), 1, nil, 2},
		"202 flow limit is retried":   {ecstest.FlowLimit(), 1, nil, 2},
		"throttled throughout":        {ecstest.GatewayThrottle(), 10, ecsclient.ErrThrottled, 4},
		"API-throttled throughout":    {ecstest.APIThrottle(), 10, ecsclient.ErrThrottled, 4},
		"502 throughout is transient": {ecstest.ServerError(502), 10, nil, 4},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sim := ecstest.NewServer(t)
			a, b := sim.AddServer(ecstest.ServerSpec{}), sim.AddServer(ecstest.ServerSpec{})
			sim.InjectNext(ecstest.OpListServersDetails, tc.times, tc.fault)
			got, err := sim.Client().ListServersDetails(t.Context(), sim.ProjectID(), []string{a, unknownServer, b})
			switch {
			case tc.times >= 10:
				if err == nil || !ecsclient.IsTransient(err) || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
					t.Errorf("err = %v, want a transient %v", err, tc.wantErr)
				}
			case err != nil:
				t.Errorf("err = %v, want success after retries", err)
			default:
				want := []ecsclient.Presence{ecsclient.ServerFound, ecsclient.ServerMissing, ecsclient.ServerFound}
				if diff := cmp.Diff(want, []ecsclient.Presence{got[0].Presence, got[1].Presence, got[2].Presence}); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
			if n := sim.Calls(ecstest.OpListServersDetails); n != tc.wantCalls {
				t.Errorf("%d list calls, want %d", n, tc.wantCalls)
			}
		})
	}
}

func TestSimulator_listServersDetailsRateLimit(t *testing.T) {
	t.Parallel()
	gw := ecstest.NewManualClock(time.Now())
	sim := ecstest.NewServer(t, ecstest.WithGatewayClock(gw), ecstest.WithRateLimit(1, 1))
	c := sim.Client()
	sv := sim.AddServer(ecstest.ServerSpec{})
	if _, err := c.ListServersDetails(t.Context(), sim.ProjectID(), []string{sv}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err := c.ListServersDetails(t.Context(), sim.ProjectID(), []string{sv})
	if !errors.Is(err, ecsclient.ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled while the gateway clock stands still", err)
	}
	gw.Advance(time.Second)
	if _, err := c.ListServersDetails(t.Context(), sim.ProjectID(), []string{sv}); err != nil {
		t.Fatalf("after a second: %v", err)
	}
	if n := sim.Calls(ecstest.OpListServersDetails); n != 1+4+1 {
		t.Errorf("%d list calls, want 6", n)
	}
}
