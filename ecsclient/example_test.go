package ecsclient_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// fakeECS answers a migrate with a job id and the job with SUCCESS, enough
// for the examples to run without a cloud.
func fakeECS() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/{project}/cloudservers/{server}/migrate", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"job_id":"ff80808288d41e1b018990260955686a"}`)
	})
	mux.HandleFunc("GET /v1/{project}/jobs/{job}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"status":"SUCCESS","job_id":"ff80808288d41e1b018990260955686a",
			"begin_time":"2026-03-01T10:00:00.250Z","end_time":"2026-03-01T10:00:52.750Z","error_code":null,"fail_reason":null}`)
	})
	return httptest.NewServer(mux)
}

func Example() {
	srv := fakeECS()
	defer srv.Close()

	// In production: ecsclient.WithRegion("cn-north-4") and credentials
	// from HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK.
	creds := ecsclient.Credentials{AccessKey: "AKEXAMPLEEXAMPLE01", SecretKey: "example-secret"}
	c, err := ecsclient.New(ecsclient.WithEndpoint(srv.URL), ecsclient.WithCredentials(creds))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	const project = "0123456789abcdef0123456789abcdef"

	jobID, err := c.MigrateServer(ctx, project, "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60",
		ecsclient.Target{DedicatedHostID: "6ab7a2a1-e1a1-4d84-b3a5-1bf2d2e1e0f5"})
	switch {
	case errors.Is(err, ecsclient.ErrOutcomeUnknown):
		fmt.Println("maybe submitted: reconcile before trying again")
		return
	case ecsclient.IsTransient(err):
		fmt.Println("not submitted, try later:", err)
		return
	case err != nil:
		fmt.Println("refused:", err)
		return
	}

	job, err := c.ShowJob(ctx, project, jobID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(job.Status, job.Status.Terminal(), job.EndTime.Sub(job.BeginTime))
	fmt.Printf("%+v\n", creds) // printed forms never reveal secrets
	// Output:
	// SUCCESS true 52.5s
	// {AccessKey:[redacted] SecretKey:[redacted] SecurityToken:}
}

func ExampleClient_ListServersDetails() {
	const (
		project = "0123456789abcdef0123456789abcdef"
		stopped = "a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60"
		gone    = "b4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60"
	)
	cred := ecstest.GenerateCredential()
	sim, err := ecstest.NewSimulator(ecstest.Config{
		Credentials: []ecstest.Credential{cred},
		Inventory:   ecstest.Inventory{Projects: []ecstest.ProjectSpec{{ID: project, Servers: []ecstest.ServerSpec{{ID: stopped}}}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	c, err := ecsclient.New(ecsclient.WithEndpoint(srv.URL), ecsclient.WithCredentials(ecsclient.Credentials(cred)))
	if err != nil {
		fmt.Println(err)
		return
	}

	lookups, err := c.ListServersDetails(context.Background(), project, []string{stopped, gone})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range lookups {
		switch l.Presence {
		case ecsclient.ServerFound:
			fmt.Println(l.ID, l.Presence, l.Server.State(), l.Server.Placement())
		default: // ServerMissing: it does not exist; ServerUnanswered: ask again
			fmt.Println(l.ID, l.Presence)
		}
	}
	// Output:
	// a4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60 found SHUTOFF in the public pool
	// b4c6d0e2-3b1f-4c5d-9e7a-1b2c3d4e5f60 missing
}
