package ecstest

import (
	"errors"
	"net/http"
	"testing"
)

func TestMutators(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{})
	sv := srv.AddServer(ServerSpec{})
	migrateCode := func() string {
		t.Helper()
		resp := c.do(http.MethodPost, migratePath(p, sv), migrateBody(deh))
		if resp.status == http.StatusOK {
			return "accepted"
		}
		return resp.errorCode(t)
	}
	steps := []struct {
		name   string
		mutate func() error
		want   string
	}{
		{"lock", func() error { return srv.SetServerLocked(sv, true) }, "Ecs.0605"},
		{"unlock and start", func() error {
			return errors.Join(srv.SetServerLocked(sv, false), srv.SetServerStatus(sv, StatusActive))
		}, "Ecs.0100"},
		{"stop, make prepaid", func() error {
			return errors.Join(srv.SetServerStatus(sv, StatusShutoff), srv.SetChargingMode(sv, ChargingPrepaid))
		}, "Ecs.0005"},
		{"pay-per-use again", func() error { return srv.SetChargingMode(sv, ChargingPayPerUse) }, "accepted"},
	}
	for _, st := range steps {
		if err := st.mutate(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := migrateCode(); got != st.want {
			t.Fatalf("%s: migrate answered %s, want %s", st.name, got, st.want)
		}
	}
	if err := srv.SetServerStatus(sv, StatusActive); err == nil {
		t.Error("SetServerStatus on a migrating server: nil error")
	}
	for name, err := range map[string]error{
		"unknown server":  srv.SetServerLocked("nope", true),
		"bad status":      srv.SetServerStatus(srv.AddServer(ServerSpec{}), "PAUSED"),
		"bad mode":        srv.SetChargingMode(sv, "9"),
		"unknown host":    srv.SetHostState("nope", HostFault),
		"bad host state":  srv.SetHostState(deh, "melted"),
		"unknown failure": srv.FailMigrations("nope", "Ecs.1", "x"),
	} {
		if err == nil {
			t.Errorf("%s: nil error", name)
		}
	}
	if !errors.Is(srv.SetServerLocked("nope", true), errNotFound) {
		t.Error("unknown server error does not wrap errNotFound")
	}
	if _, ok := srv.Server("nope"); ok {
		t.Error("Server(unknown) found something")
	}
	if _, ok := srv.Host("nope"); ok {
		t.Error("Host(unknown) found something")
	}
}
