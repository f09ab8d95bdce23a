package ecstest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// benchJobs seeds n finished migration jobs and returns their ids.
func benchJobs(b *testing.B, srv *Server, n int) []string {
	b.Helper()
	deh := srv.AddDedicatedHost(HostSpec{VCPUs: 2 * n, MemoryMB: 4096 * n})
	ids := make([]string, n)
	now := srv.Clock().Now()
	for i := range ids {
		sv := srv.AddServer(ServerSpec{})
		j, aerr := srv.migrate(srv.ProjectID(), sv, migrateTarget{dedicatedHostID: deh}, now)
		if aerr != nil {
			b.Fatal(aerr)
		}
		ids[i] = j.id
	}
	return ids
}

// BenchmarkShowJobHTTP measures ShowJob answers per second through real HTTP
// on loopback, with parallel keep-alive clients. Each request is verified
// (SDK-HMAC-SHA256) by the simulator; the clients reuse signatures made at
// setup, so the figure is the simulator's and net/http's cost, not signing.
func BenchmarkShowJobHTTP(b *testing.B) {
	srv := NewServer(b, WithJobTimings(JobTimings{}), WithRetention(-1))
	ids := benchJobs(b, srv, 1000)
	type signed struct{ url, date, authz string }
	reqs := make([]signed, len(ids))
	cred := srv.cred
	at := time.Now()
	for i, id := range ids {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+jobPath(srv.ProjectID(), id), nil)
		r.Header.Set("User-Agent", "ecstest-bench")
		sign(b, r, "", cred, at)
		reqs[i] = signed{url: r.URL.String(), date: r.Header.Get("X-Sdk-Date"), authz: r.Header.Get("Authorization")}
	}
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var next atomic.Uint64
	b.SetParallelism(8)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s := reqs[next.Add(1)%uint64(len(reqs))]
			r, _ := http.NewRequest(http.MethodGet, s.url, nil)
			r.Header["User-Agent"] = []string{"ecstest-bench"}
			r.Header["X-Sdk-Date"] = []string{s.date}
			r.Header["Authorization"] = []string{s.authz}
			resp, err := hc.Do(r)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkServeShowJob measures the simulator's own cost per ShowJob,
// without the network: verification, routing, lookup and the answer.
func BenchmarkServeShowJob(b *testing.B) {
	for _, logSize := range []int{0, -1} {
		b.Run(fmt.Sprintf("log=%v", logSize >= 0), func(b *testing.B) {
			srv := NewServer(b, WithJobTimings(JobTimings{}), WithRetention(-1), WithRequestLogSize(logSize))
			ids := benchJobs(b, srv, 1000)
			reqs := make([]*http.Request, len(ids))
			for i, id := range ids {
				r := httptest.NewRequest(http.MethodGet, jobPath(srv.ProjectID(), id), nil)
				r.Header.Set("User-Agent", "ecstest-bench")
				sign(b, r, "", srv.cred, time.Now())
				reqs[i] = r
			}
			var next atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					srv.ServeHTTP(w, reqs[next.Add(1)%uint64(len(reqs))])
					if w.status != http.StatusOK {
						b.Errorf("status %d", w.status)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkServeListServersDetails100 measures the simulator's own cost per
// ListServersDetails asking for 100 ids (the client's most), without the
// network: verification, routing, query parsing, lookups and the answer of
// about 100 server objects. Half the ids are unknown, so both kinds of
// entry are rendered.
func BenchmarkServeListServersDetails100(b *testing.B) {
	srv := NewServer(b, WithRequestLogSize(-1))
	ids := make([]string, 100)
	for i := range ids {
		if i%2 == 0 {
			ids[i] = srv.AddServer(ServerSpec{})
		} else {
			ids[i] = fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		}
	}
	r := httptest.NewRequest(http.MethodGet, listPath(srv.ProjectID(), byIDs(ids...)), nil)
	r.Header.Set("User-Agent", "ecstest-bench")
	sign(b, r, "", srv.cred, time.Now())
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		srv.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// discardWriter is a minimal http.ResponseWriter for benchmarks.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
