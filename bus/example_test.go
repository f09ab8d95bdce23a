package bus_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/coldmove/coldmove/bus"
	"github.com/coldmove/coldmove/events"
	"github.com/coldmove/coldmove/internal/natsembed"
)

// This example publishes an outcome twice on an in-process server: the
// second publish is recognised as the same event and stores nothing.
func Example() {
	dir, err := os.MkdirTemp("", "bus-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Config{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()

	ctx := context.Background()
	cfg := bus.DefaultConfig()
	cfg.URL = srv.ClientURL()
	b, err := bus.Connect(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer b.Close(ctx)
	st, err := b.EnsureStream(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println("stream", st.Name, st.Subjects, "created:", st.Created)

	o := events.Origin{
		RequestID: "req-42", RequestSource: "urn:example:planner",
		ServerID: "6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", ProjectID: "0605767d3d80d5762f4fc00c7b8a1234",
		Target: events.PublicPoolTarget(),
	}
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	e, err := events.NewAccepted(o, "ff80808288d41e1b018990260955686a", at.Add(time.Hour), at)
	if err != nil {
		panic(err)
	}
	for range 2 {
		res, err := b.Publish(ctx, e)
		if err != nil {
			panic(err)
		}
		fmt.Println(res.Subject, "sequence", res.Sequence, "duplicate:", res.Duplicate)
	}
	// Output:
	// stream COLDMOVE [coldmove.>] created: true
	// coldmove.placement.accepted.6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b sequence 1 duplicate: false
	// coldmove.placement.accepted.6f0a2f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b sequence 1 duplicate: true
}
