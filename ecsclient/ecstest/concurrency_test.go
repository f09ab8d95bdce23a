package ecstest

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestConcurrentMigrateOneWins sends the same migration many times at once:
// exactly one starts, every other is refused as the server is no longer
// stopped and idle.
func TestConcurrentMigrateOneWins(t *testing.T) {
	t.Parallel()
	srv := NewServer(t)
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{})
	sv := srv.AddServer(ServerSpec{})
	const n = 20
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			resp, err := c.tryDo(http.MethodPost, migratePath(p, sv), migrateBody(deh))
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			statuses[i], codes[i] = resp.status, resp.ecsCode()
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		switch {
		case statuses[i] == http.StatusOK:
			ok++
		case statuses[i] != http.StatusBadRequest || codes[i] != "Ecs.0100":
			t.Errorf("call %d: %d %s, want 200 or Ecs.0100", i, statuses[i], codes[i])
		}
	}
	if ok != 1 || srv.Migrations(sv) != 1 || srv.MigrateCalls(sv) != n {
		t.Errorf("%d accepted, %d migrations, %d calls; want 1, 1, %d", ok, srv.Migrations(sv), srv.MigrateCalls(sv), n)
	}
}

// TestReadsWhileTheClockMoves exercises the lazy transitions under the race
// detector: readers over HTTP and through the inspection helpers while the
// clock advances and new jobs start.
func TestReadsWhileTheClockMoves(t *testing.T) {
	t.Parallel()
	srv := NewServer(t, WithJobTimings(JobTimings{Queued: time.Second, Migrating: 3 * time.Second, Finishing: time.Second}), WithRetention(10*time.Second))
	c := newRawClient(t, srv)
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(HostSpec{VCPUs: 1000, MemoryMB: 1 << 30})
	var jobs []string
	var servers []string
	for range 10 {
		sv := srv.AddServer(ServerSpec{})
		servers = append(servers, sv)
		jobs = append(jobs, c.do(http.MethodPost, migratePath(p, sv), migrateBody(deh)).jobID(t))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				j := jobs[(g+i)%len(jobs)]
				resp, err := c.tryDo(http.MethodGet, jobPath(p, j), "")
				if err != nil || (resp.status != http.StatusOK && resp.ecsCode() != "Common.0011") {
					t.Errorf("ShowJob: %d %v", resp.status, err)
				}
				srv.Server(servers[i%len(servers)])
				srv.Host(deh)
			}
		})
	}
	wg.Go(func() {
		for range 40 {
			srv.Advance(500 * time.Millisecond)
		}
	})
	wg.Wait()
	// 20 s later every job has finished and been purged, and the servers
	// are all on the DeH.
	for _, j := range jobs {
		if _, ok := srv.Job(j); ok {
			t.Errorf("job %s survived its retention", j)
		}
	}
	h, _ := srv.Host(deh)
	if len(h.Instances) != len(servers) || h.AvailableVCPUs != 1000-2*len(servers) {
		t.Errorf("host = %+v", h)
	}
}
