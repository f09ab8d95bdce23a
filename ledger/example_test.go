package ledger_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natsembed"
	"github.com/coldmove/coldmove/ledger"
)

// exampleJetStream starts an embedded JetStream server for an example and
// returns a client and the function that stops both.
func exampleJetStream() (jetstream.JetStream, func()) {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		panic(err)
	}
	srv, err := natsembed.Start(natsembed.Config{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		panic(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		panic(err)
	}
	return js, func() {
		nc.Close()
		srv.Shutdown()
		os.RemoveAll(dir)
	}
}

// This example claims one request twice, as a duplicate delivery would:
// the second claim finds the first one's outcome.
func Example() {
	js, stop := exampleJetStream()
	defer stop()

	ctx := context.Background()
	l, err := ledger.Open(ctx, js, ledger.DefaultConfig(), ledger.WithOwner("migrate-1"))
	if err != nil {
		panic(err)
	}
	req := ledger.RequestRef{Source: "urn:example:planner", ID: "req-42", ServerID: "6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}
	first, err := l.ClaimRequest(ctx, req)
	if err != nil {
		panic(err)
	}
	fmt.Println("first delivery:", first.Status, first.Claim.State)
	if err := l.FinishClaim(ctx, first.Claim, []byte(`{"specversion":"1.0","id":"out-1"}`)); err != nil {
		panic(err)
	}

	dup, err := l.ClaimRequest(ctx, req)
	if err != nil {
		panic(err)
	}
	fmt.Println("duplicate delivery:", dup.Status, string(dup.Claim.Outcome))
	// Output:
	// first delivery: acquired claimed
	// duplicate delivery: finished {"specversion":"1.0","id":"out-1"}
}

// This example follows a request whose migrate call got no answer: migrate
// records a watch job, and a poller finds it due, leases it, stores the
// outcome it decided before publishing it, finishes the request and
// removes the job with the server lock.
func ExampleLedger_SetOutcome() {
	js, stop := exampleJetStream()
	defer stop()
	ctx := context.Background()

	// The migrate function.
	migrate, err := ledger.Open(ctx, js, ledger.DefaultConfig(), ledger.WithOwner("migrate-1"))
	if err != nil {
		panic(err)
	}
	req := ledger.RequestRef{Source: "urn:example:planner", ID: "req-43", ServerID: "6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}
	claim, err := migrate.ClaimRequest(ctx, req)
	if err != nil {
		panic(err)
	}
	c := claim.Claim
	if _, err := migrate.AcquireLock(ctx, c); err != nil {
		panic(err)
	}
	if err := migrate.MarkSubmitting(ctx, c); err != nil {
		panic(err)
	}
	// ... MigrateServer's outcome is unknown: never call again.
	if err := migrate.MarkSubmittedUnknown(ctx, c); err != nil {
		panic(err)
	}
	_, err = migrate.RecordJob(ctx, ledger.Job{
		RequestID: req.ID, RequestSource: req.Source, ServerID: req.ServerID,
		ProjectID: "0605767d3d80d5762f4fc00c7b8a1234", Region: "cn-north-4",
		Target:   ledger.Target{DedicatedHostID: "c0ffee00-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
		Deadline: time.Now().Add(time.Hour),
	})
	if err != nil {
		panic(err)
	}

	// The poll function.
	poll, err := ledger.Open(ctx, js, ledger.DefaultConfig(), ledger.WithOwner("poll-1"))
	if err != nil {
		panic(err)
	}
	sched, err := poll.ListDue(ctx)
	if err != nil {
		panic(err)
	}
	for _, ref := range sched.Due {
		j, err := poll.Lease(ctx, ref, time.Minute)
		if err != nil {
			continue // another poller has it
		}
		fmt.Println("leased:", j.RecordID() == ledger.WatchRecordID(j.RequestKey), j.Watch())
		// ... ShowServer says it is on the target: completed.
		if len(j.Outcome) == 0 {
			if err := poll.SetOutcome(ctx, j, []byte(`{"specversion":"1.0","id":"done-43","type":"dev.coldmove.placement.completed"}`)); err != nil {
				panic(err)
			}
		}
		// ... publish j.Outcome and wait for JetStream's acknowledgement.
		if err := poll.FinishRequest(ctx, j.RequestKey, j.Outcome); err != nil {
			panic(err)
		}
		if err := poll.Remove(ctx, j); err != nil {
			panic(err)
		}
	}

	dup, err := migrate.ClaimRequest(ctx, req)
	if err != nil {
		panic(err)
	}
	fmt.Println("duplicate delivery:", dup.Status, string(dup.Claim.Outcome))
	_, err = migrate.GetLock(ctx, req.ServerID)
	fmt.Println("server lock:", err)
	// Output:
	// leased: true true
	// duplicate delivery: finished {"specversion":"1.0","id":"done-43","type":"dev.coldmove.placement.completed"}
	// server lock: ledger: record not found: lock.6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b
}
