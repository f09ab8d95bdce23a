package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/ledger"
)

func TestConfig_Validate(t *testing.T) {
	t.Parallel()
	if err := ledger.DefaultConfig().Validate(); err != nil {
		t.Errorf("DefaultConfig().Validate() = %v", err)
	}
	bad := ledger.Config{Bucket: "a.b", Replicas: 0, History: 65, ClaimStaleAfter: -time.Second}
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate of a bad config succeeded")
	}
	for _, want := range []string{`bucket name "a.b"`, "claim staleness must be positive, not -1s", "claim TTL must be at least 1s, not 0s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not mention %q", err, want)
		}
	}
	s := natstest.Run(t)
	if _, err := ledger.Open(t.Context(), s.JetStream(), bad); err == nil {
		t.Error("Open with a bad config succeeded")
	}
}

// TestOpen_existingBucket opens buckets someone else created: each is used
// as it is, except that a stream without per-message TTL is changed to
// allow it, and only that, so that finished claims can expire.
func TestOpen_existingBucket(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		cfg jetstream.KeyValueConfig
		// wantUpdate says whether Open must allow per-message TTL.
		wantUpdate bool
	}{
		"without per-message TTL": {
			cfg:        jetstream.KeyValueConfig{Bucket: "tuned", History: 7, Storage: jetstream.FileStorage, MaxBytes: 1 << 20},
			wantUpdate: true,
		},
		"with limit markers": {
			cfg: jetstream.KeyValueConfig{Bucket: "tuned", History: 7, Storage: jetstream.FileStorage, LimitMarkerTTL: time.Minute},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := natstest.Run(t)
			ctx := t.Context()
			if _, err := s.JetStream().CreateKeyValue(ctx, tc.cfg); err != nil {
				t.Fatal(err)
			}
			streamConfig := func() jetstream.StreamConfig {
				st, err := s.JetStream().Stream(ctx, "KV_tuned")
				if err != nil {
					t.Fatal(err)
				}
				return st.CachedInfo().Config
			}
			before := streamConfig()
			cfg := ledger.DefaultConfig()
			cfg.Bucket = "tuned"
			l, err := ledger.Open(ctx, s.JetStream(), cfg)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			want := before
			want.AllowMsgTTL = true
			// The server keeps its own metadata (_nats.*), such as the API
			// level a stream's features require.
			serverMetadata := cmpopts.IgnoreMapEntries(func(k, _ string) bool { return strings.HasPrefix(k, "_nats.") })
			if diff := cmp.Diff(want, streamConfig(), serverMetadata); diff != "" {
				t.Errorf("bucket stream (-want +got):\n%s", diff)
			}
			if before.AllowMsgTTL == tc.wantUpdate {
				t.Errorf("per-message TTL allowed before Open: %v; the case expects an update: %v", before.AllowMsgTTL, tc.wantUpdate)
			}
			if l.Bucket() != "tuned" || !strings.Contains(l.Owner(), "-") {
				t.Errorf("Bucket %q, Owner %q; want tuned and a generated owner", l.Bucket(), l.Owner())
			}
			// A finished claim, written with its TTL, is accepted.
			c, err := l.ClaimRequest(ctx, request(1))
			if err != nil {
				t.Fatal(err)
			}
			if err := l.FinishClaim(ctx, c.Claim, []byte(`{"id":"out-1"}`)); err != nil {
				t.Errorf("FinishClaim on the existing bucket: %v", err)
			}
		})
	}
}

func TestOpen_createsBucket(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	ctx := t.Context()
	cfg := ledger.DefaultConfig()
	cfg.History = 3
	l, err := ledger.Open(ctx, s.JetStream(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	st, err := l.KeyValue().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Bucket() != "coldmove_ledger" || st.History() != 3 || st.BackingStore() != "JetStream" {
		t.Errorf("bucket %s history %d store %s; want coldmove_ledger, 3, JetStream", st.Bucket(), st.History(), st.BackingStore())
	}
	info := st.(*jetstream.KeyValueBucketStatus).StreamInfo()
	if info.Config.Storage != jetstream.FileStorage {
		t.Errorf("storage = %v, want file", info.Config.Storage)
	}
	if !info.Config.AllowMsgTTL || st.LimitMarkerTTL() <= 0 {
		t.Errorf("per-message TTL allowed %v, limit marker TTL %s; want allowed, with markers", info.Config.AllowMsgTTL, st.LimitMarkerTTL())
	}
}

func TestRecordJob_afterLeftoverDeleteMarker(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	j := mustRecordJob(t, l, newJob(1, clk.Now()))
	// A delete through the plain key-value API leaves a marker behind, as
	// a crash between the two steps of a removal would.
	if err := l.KeyValue().Delete(ctx, "job."+j.JobID); err != nil {
		t.Fatal(err)
	}
	if s, err := l.ListDue(ctx); err != nil || s.Jobs != 0 {
		t.Fatalf("ListDue over a delete marker = %+v, %v; want no jobs", s, err)
	}
	again, err := l.RecordJob(ctx, newJob(1, clk.Now()))
	if err != nil {
		t.Fatalf("RecordJob over a delete marker: %v", err)
	}
	if s, err := l.ListDue(ctx); err != nil || s.Jobs != 1 || s.Due[0].Revision != again.Revision {
		t.Errorf("ListDue = %+v, %v; want the re-recorded job", s, err)
	}
}

func TestLedger_survivesServerRestart(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	finished := mustClaim(t, l, request(1)).Claim
	if err := l.FinishClaim(ctx, finished, []byte(`{"id":"out-1"}`)); err != nil {
		t.Fatal(err)
	}
	inflight := mustClaim(t, l, request(2)).Claim
	if err := l.MarkSubmitting(ctx, inflight); err != nil {
		t.Fatal(err)
	}
	lock, err := l.AcquireLock(ctx, inflight)
	if err != nil {
		t.Fatal(err)
	}
	submitted := mustClaim(t, l, request(4)).Claim
	if err := submit(t, l, submitted, "job4"); err != nil {
		t.Fatal(err)
	}
	jobs := map[string]*ledger.Job{}
	for n := range 5 {
		j := mustRecordJob(t, l, newJob(n, clk.Now().Add(time.Duration(n-2)*time.Minute)))
		jobs[j.RecordID()] = j
	}
	watch := mustRecordJob(t, l, newWatchJob(2, clk.Now()))
	jobs[watch.RecordID()] = watch
	// Two jobs carry a pending outcome.
	for _, j := range []*ledger.Job{jobs[newJob(0, clk.Now()).JobID], watch} {
		leased := mustLease(t, l, j)
		out := watchOutcomeJSON(2, "dev.coldmove.placement.completed")
		if !leased.Watch() {
			out = completedJSON(t, 0, leased.JobID)
		}
		if err := l.SetOutcome(ctx, leased, out); err != nil {
			t.Fatal(err)
		}
		jobs[leased.RecordID()] = leased
	}
	before, err := l.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}

	s.Restart()

	l2 := mustOpen(t, s.JetStream(), "a", clk)
	gotFinished, err := l2.GetClaim(ctx, finished.Source, finished.RequestID)
	if err != nil {
		t.Fatalf("finished claim after restart: %v", err)
	}
	if diff := cmp.Diff(finished, gotFinished); diff != "" {
		t.Errorf("finished claim after restart (-want +got):\n%s", diff)
	}
	gotSubmitted, err := l2.GetClaim(ctx, submitted.Source, submitted.RequestID)
	if err != nil {
		t.Fatalf("submitted claim after restart: %v", err)
	}
	if diff := cmp.Diff(submitted, gotSubmitted); diff != "" || len(gotSubmitted.Accepted) == 0 {
		t.Errorf("submitted claim with its accepted event after restart (-want +got):\n%s", diff)
	}
	gotInflight, err := l2.GetClaim(ctx, inflight.Source, inflight.RequestID)
	if err != nil {
		t.Fatalf("in-flight claim after restart: %v", err)
	}
	if diff := cmp.Diff(inflight, gotInflight); diff != "" {
		t.Errorf("in-flight claim after restart (-want +got):\n%s", diff)
	}
	gotLock, err := l2.GetLock(ctx, lock.ServerID)
	if err != nil {
		t.Fatalf("lock after restart: %v", err)
	}
	if diff := cmp.Diff(lock, gotLock); diff != "" {
		t.Errorf("lock after restart (-want +got):\n%s", diff)
	}
	for id, want := range jobs {
		got, err := l2.GetJob(ctx, id)
		if err != nil {
			t.Fatalf("job %s after restart: %v", id, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("job %s after restart (-want +got):\n%s", id, diff)
		}
	}
	after, err := l2.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("scan after restart (-before +after):\n%s", diff)
	}
	// And the restarted ledger keeps working: the lock still excludes
	// others, the finished claim still answers duplicates.
	if r := mustClaim(t, l2, request(1)); r.Status != ledger.ClaimFinished {
		t.Errorf("duplicate after restart: %v, want finished", r.Status)
	}
	r3 := request(3)
	r3.ServerID = inflight.ServerID
	other := mustClaim(t, l2, r3).Claim
	if _, err := l2.AcquireLock(ctx, other); !errors.Is(err, ledger.ErrLocked) {
		t.Errorf("AcquireLock of a locked server after restart: %v, want ErrLocked", err)
	}
}

// TestLedger_replicated runs the races on a three-node cluster with an R3
// bucket, where failed compare-and-set checks carry another error code.
func TestLedger_replicated(t *testing.T) {
	t.Parallel()
	c := natstest.RunCluster(t, 3)
	ctx := t.Context()
	clk := newClock()
	cfg := testConfig()
	cfg.Replicas = 3
	const n = 8
	ledgers := make([]*ledger.Ledger, n)
	for i := range ledgers {
		l, err := ledger.Open(ctx, c.JetStream(), cfg, ledger.WithOwner(fmt.Sprintf("o%d", i)), ledger.WithClock(clk.Now))
		if err != nil {
			t.Fatalf("Open R3: %v", err)
		}
		ledgers[i] = l
	}
	st, err := ledgers[0].KeyValue().Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config.Replicas; got != 3 {
		t.Fatalf("bucket replicas = %d, want 3", got)
	}

	var wg sync.WaitGroup
	claims := make([]ledger.ClaimResult, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { claims[i], errs[i] = ledgers[i].ClaimRequest(ctx, request(1)) })
	}
	wg.Wait()
	acquired := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("claim %d: %v", i, errs[i])
		}
		if claims[i].Status == ledger.ClaimAcquired {
			acquired++
		}
	}
	if acquired != 1 {
		t.Errorf("%d claims acquired on R3, want 1", acquired)
	}

	rec := mustRecordJob(t, ledgers[0], newJob(1, clk.Now()))
	ref := ledger.JobRef{JobID: rec.JobID, Revision: rec.Revision}
	leases := make([]error, n)
	for i := range n {
		wg.Go(func() { _, leases[i] = ledgers[i].Lease(ctx, ref, time.Minute) })
	}
	wg.Wait()
	won := 0
	for i, err := range leases {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ledger.ErrLeaseLost):
			t.Errorf("lease %d on R3: %v, want nil or ErrLeaseLost", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d leases won on R3, want 1", won)
	}
	clk.Advance(time.Minute)
	// A scan's consumer may sit on a replica a write has not reached yet
	// (Scan's doc): the job shows up once it has.
	var sched ledger.Schedule
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if sched, err = ledgers[1].ListDue(ctx); err != nil {
			t.Fatalf("ListDue on R3: %v", err)
		}
		if sched.Jobs == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if sched.Jobs != 1 || len(sched.Due) != 1 || sched.Due[0].JobID != rec.JobID {
		t.Errorf("ListDue on R3 = %+v, want the one job due after its lease", sched)
	}

	// Pollers finishing the claim with different outcomes: one wins.
	finishes := make([]error, n)
	for i := range n {
		wg.Go(func() {
			finishes[i] = ledgers[i].FinishRequest(ctx, claims[0].Claim.RequestKey, fmt.Appendf(nil, `{"id":"o%d"}`, i))
		})
	}
	wg.Wait()
	won = 0
	for i, err := range finishes {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ledger.ErrInvalidTransition):
			t.Errorf("finish %d on R3: %v, want nil or ErrInvalidTransition", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d finishes won on R3, want 1", won)
	}
}
