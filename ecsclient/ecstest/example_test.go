package ecstest_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// A simulator outside a test: a seeded inventory, a manual clock, and the
// real client. (In a test, ecstest.NewServer does the wiring.)
func Example() {
	const (
		project = "0b1d5e7a9c3f4e21a6d8c0f2b4e6a8c1"
		server  = "1a2b3c4d-0001-4a5b-8c6d-7e8f9a0b1c01"
		deh     = "7e2d1f9b-3c5a-4d7f-8b2e-4a6c8d0f1b22"
	)
	clock := ecstest.NewManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	cred := ecstest.GenerateCredential()
	sim, err := ecstest.NewSimulator(ecstest.Config{
		Clock:       clock,
		Credentials: []ecstest.Credential{cred},
		Inventory: ecstest.Inventory{Projects: []ecstest.ProjectSpec{{
			ID:             project,
			DedicatedHosts: []ecstest.HostSpec{{ID: deh}},
			Servers:        []ecstest.ServerSpec{{ID: server}},
		}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ts := httptest.NewServer(sim)
	defer ts.Close()
	client, err := ecsclient.New(ecsclient.WithEndpoint(ts.URL),
		ecsclient.WithCredentials(ecsclient.Credentials{AccessKey: cred.AccessKey, SecretKey: cred.SecretKey}))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	jobID, err := client.MigrateServer(ctx, project, server, ecsclient.Target{DedicatedHostID: deh})
	if err != nil {
		fmt.Println(err)
		return
	}
	job, _ := client.ShowJob(ctx, project, jobID)
	fmt.Println(job.Status)
	clock.Advance(time.Minute)
	job, _ = client.ShowJob(ctx, project, jobID)
	fmt.Println(job.Status, job.EndTime.Format(time.RFC3339Nano))
	s, _ := client.ShowServer(ctx, project, server)
	fmt.Println(s.Status, s.DedicatedHostID == deh)
	// Output:
	// INIT
	// SUCCESS 2026-03-01T12:00:52Z
	// SHUTOFF true
}
