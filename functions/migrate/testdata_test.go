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
			e := newEnv(t)
			if _, err := e.sim.CreateProject(sampleProject); err != nil {
				t.Fatal(err)
			}
			e.sim.AddDedicatedHost(ecstest.HostSpec{ID: "5c3f2a4e-8d7b-4e1f-9a6c-1d2e3f4a5b6c", ProjectID: sampleProject, VCPUs: 64, MemoryMB: 65536})
			srv := e.sim.AddServer(ecstest.ServerSpec{ID: "0b9a3b1e-6f0c-4d3c-9c53-2b1f3f6a9e10", ProjectID: sampleProject})
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

// sampleProject is the project the sample events name.
const sampleProject = "0605767a2b00d4e22f46c00a6d3a5c19"
