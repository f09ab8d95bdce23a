package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldmove/coldmove/ecsclient/ecstest"
	"github.com/coldmove/coldmove/events"
)

// TestTestdata runs the sample Lambda events (also for `sam local invoke
// --event`) through the adapter, with their server and host created in the
// simulator: the requests are accepted, the invalid one rejected.
func TestTestdata(t *testing.T) {
	t.Parallel()
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, name := range []string{"cloudevent.json", "eventbridge.json", "sqs-batch.json"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, ecstest.WithInventory(fleet(t)))
			srv := sampleServer
			out := invoke(t, e, read(name))
			switch name {
			case "sqs-batch.json":
				var resp struct {
					BatchItemFailures []any `json:"batchItemFailures"`
				}
				if err := json.Unmarshal(out, &resp); err != nil || len(resp.BatchItemFailures) != 0 {
					t.Errorf("result %s (%v)", out, err)
				}
				types := map[string]int{}
				for _, ev := range e.published(t) {
					types[ev.Type()]++
				}
				// The first migrates the server; the second asks for the public
				// pool for a server already moving; the third is invalid.
				if types[events.TypeAccepted] != 1 || types[events.TypeRejected] != 2 {
					t.Errorf("published %v", types)
				}
			default:
				var o Outcome
				if err := json.Unmarshal(out, &o); err != nil || o.Status != StatusAccepted {
					t.Errorf("result %s (%v)", out, err)
				}
			}
			if e.sim.Migrations(srv) != 1 {
				t.Errorf("migrations = %d", e.sim.Migrations(srv))
			}
		})
	}
}

// sampleServer is the server the sample events move: db-1 of the
// simulator's default fleet, which `coldmove simulator` and the demo serve.
const sampleServer = "5b8c3d4e-9fa0-4b12-83d4-e5f607182903"

// fleet is the simulator's default fleet (cmd/coldmove/fleet.json), which
// the sample events name.
func fleet(t *testing.T) ecstest.Inventory {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "cmd", "coldmove", "fleet.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ecstest.ParseSeed(b)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Inventory
}
