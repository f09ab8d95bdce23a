package ecsclient

import "testing"

func TestServer_On(t *testing.T) {
	t.Parallel()
	const h1, h2 = "6ab7a2a1-e1a1-4d84-b3a5-1bf2d2e1e0f5", "7bc8b3b2-f2b2-4e95-84b6-2cf3e3f2f1a6"
	onHost := &Server{DedicatedHostID: h1}
	inPool := &Server{}
	for _, tc := range []struct {
		s    *Server
		deh  string
		want bool
	}{
		{onHost, h1, true},
		{onHost, "6AB7A2A1-E1A1-4D84-B3A5-1BF2D2E1E0F5", true}, // UUIDs compare without case
		{onHost, h2, false},
		{onHost, "", false},
		{inPool, "", true},
		{inPool, h1, false},
	} {
		if got := tc.s.On(tc.deh); got != tc.want {
			t.Errorf("server on %q: On(%q) = %v", tc.s.DedicatedHostID, tc.deh, got)
		}
	}
}

func TestServer_BusyAndState(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s     Server
		busy  bool
		state string
	}{
		{Server{Status: "SHUTOFF"}, false, "SHUTOFF"},
		{Server{Status: "ACTIVE"}, false, "ACTIVE"},
		{Server{Status: "ACTIVE", TaskState: "powering-off"}, true, "ACTIVE (powering-off)"},
		{Server{Status: "RESIZE", TaskState: "resize_migrating"}, true, "RESIZE (resize_migrating)"},
		{Server{Status: "VERIFY_RESIZE"}, true, "VERIFY_RESIZE"},
	} {
		if tc.s.Busy() != tc.busy || tc.s.State() != tc.state {
			t.Errorf("%+v: Busy %v, State %q; want %v, %q", tc.s, tc.s.Busy(), tc.s.State(), tc.busy, tc.state)
		}
	}
	if p := (&Server{}).Placement(); p != "in the public pool" {
		t.Errorf("Placement = %q", p)
	}
}
