package ledger_test

import (
	"context"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natsembed"
	"github.com/coldmove/coldmove/ledger"
)

// This example claims one request twice, as a duplicate delivery would:
// the second claim finds the first one's outcome.
func Example() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Config{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		panic(err)
	}

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
