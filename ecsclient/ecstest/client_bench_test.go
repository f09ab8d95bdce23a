package ecstest_test

import (
	"sync/atomic"
	"testing"

	"github.com/coldmove/coldmove/ecsclient"
	"github.com/coldmove/coldmove/ecsclient/ecstest"
)

// BenchmarkClientShowJob measures ShowJob calls per second through
// ecsclient against the simulator over loopback HTTP: the client signs
// every request and the simulator verifies it, both on the same cores.
func BenchmarkClientShowJob(b *testing.B) {
	srv := ecstest.NewServer(b, ecstest.WithJobTimings(ecstest.JobTimings{}), ecstest.WithRetention(-1), ecstest.WithRequestLogSize(-1))
	client := srv.Client()
	p := srv.ProjectID()
	deh := srv.AddDedicatedHost(ecstest.HostSpec{VCPUs: 2000, MemoryMB: 4096 * 1000})
	ids := make([]string, 1000)
	for i := range ids {
		sv := srv.AddServer(ecstest.ServerSpec{})
		id, err := client.MigrateServer(b.Context(), p, sv, ecsclient.Target{DedicatedHostID: deh})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			job, err := client.ShowJob(b.Context(), p, ids[next.Add(1)%uint64(len(ids))])
			if err != nil || job.Status != ecsclient.JobSuccess {
				b.Errorf("ShowJob: %v %v", job, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
