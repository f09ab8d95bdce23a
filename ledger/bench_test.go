package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coldmove/coldmove/ledger"
)

func BenchmarkClaimRequest_create(b *testing.B) {
	_, l, _ := setup(b)
	ctx := b.Context()
	n := 0
	for b.Loop() {
		n++
		if _, err := l.ClaimRequest(ctx, request(n)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClaimRequest_duplicateFinished(b *testing.B) {
	_, l, _ := setup(b)
	ctx := b.Context()
	c := mustClaim(b, l, request(1)).Claim
	if err := l.FinishClaim(ctx, c, []byte(`{"id":"x"}`)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, err := l.ClaimRequest(ctx, request(1)); err != nil || r.Status != ledger.ClaimFinished {
			b.Fatal(r.Status, err)
		}
	}
}

func BenchmarkMarkSubmitting_updateCAS(b *testing.B) {
	_, l, _ := setup(b)
	ctx := b.Context()
	c := mustClaim(b, l, request(1)).Claim
	for b.Loop() {
		if err := l.MarkSubmitting(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAcquireReleaseLock(b *testing.B) {
	_, l, _ := setup(b)
	ctx := b.Context()
	c := mustClaim(b, l, request(1)).Claim
	for b.Loop() {
		lk, err := l.AcquireLock(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.ReleaseLock(ctx, lk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeaseReschedule measures one poll's ledger work on a due job:
// lease it by revision, then reschedule it (due again at once).
func BenchmarkLeaseReschedule(b *testing.B) {
	_, l, clk := setup(b)
	ctx := b.Context()
	j := mustRecordJob(b, l, newJob(1, clk.Now()))
	ref := ledger.JobRef{JobID: j.JobID, Revision: j.Revision}
	for b.Loop() {
		leased, err := l.Lease(ctx, ref, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := l.Reschedule(ctx, leased, clk.Now()); err != nil {
			b.Fatal(err)
		}
		ref.Revision = leased.Revision
	}
}

// fill records n jobs, one in every dueEvery due now and the rest an hour
// later, with a few writers in parallel.
func fill(b *testing.B, l *ledger.Ledger, clk *clock, n, dueEvery int) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				next := clk.Now().Add(time.Hour)
				if i%dueEvery == 0 {
					next = clk.Now()
				}
				if _, err := l.RecordJob(ctx, newJob(i, next)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkListDue_10000 lists the due jobs among 10,000 records of which
// 1% are due.
func BenchmarkListDue_10000(b *testing.B) {
	_, l, clk := setup(b)
	const n = 10_000
	fill(b, l, clk, n, 100)
	ctx := b.Context()
	for b.Loop() {
		s, err := l.ListDue(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if s.Jobs != n || len(s.Due) != n/100 {
			b.Fatalf("ListDue: %d jobs, %d due; want %d, %d", s.Jobs, len(s.Due), n, n/100)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkGetEach_10000 is the baseline ListDue avoids: list the keys,
// then get every value one by one.
func BenchmarkGetEach_10000(b *testing.B) {
	_, l, clk := setup(b)
	const n = 10_000
	fill(b, l, clk, n, 100)
	ctx := b.Context()
	for b.Loop() {
		keys, err := l.KeyValue().ListKeysFiltered(ctx, "job.>")
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for k := range keys.Keys() {
			if _, err := l.KeyValue().Get(ctx, k); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("got %d keys, want %d", got, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/record")
}

// BenchmarkRecordJob measures creating job records.
func BenchmarkRecordJob(b *testing.B) {
	_, l, clk := setup(b)
	ctx := b.Context()
	n := 0
	for b.Loop() {
		n++
		j := newJob(n, clk.Now())
		j.JobID = fmt.Sprintf("bench%08d", n)
		if _, err := l.RecordJob(ctx, j); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimAndFinishRequest measures a claim created by migrate and
// finished by poll: one create, then one read and one compare-and-set.
func BenchmarkClaimAndFinishRequest(b *testing.B) {
	_, l, _ := setup(b)
	ctx := b.Context()
	outcome := completedJSON(b, 1, "job1")
	n := 0
	for b.Loop() {
		n++
		c := mustClaim(b, l, request(n)).Claim
		if err := l.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFinishRequest_alreadyFinished measures a poller re-running
// after a crash: one read finds the same outcome.
func BenchmarkFinishRequest_alreadyFinished(b *testing.B) {
	_, l, _ := setup(b)
	ctx := b.Context()
	outcome := completedJSON(b, 1, "job1")
	c := mustClaim(b, l, request(1)).Claim
	if err := l.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := l.FinishRequest(ctx, c.RequestKey, outcome); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetOutcome measures storing the outcome on a leased job (the
// same event each time, so every call is one compare-and-set write).
func BenchmarkSetOutcome(b *testing.B) {
	_, l, clk := setup(b)
	ctx := b.Context()
	j := mustLease(b, l, mustRecordJob(b, l, newJob(1, clk.Now())))
	outcome := completedJSON(b, 1, j.JobID)
	for b.Loop() {
		if err := l.SetOutcome(ctx, j, outcome); err != nil {
			b.Fatal(err)
		}
	}
}
