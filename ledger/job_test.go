package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/ledger"
)

func TestRecordJob_invalid(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	tests := map[string]struct {
		edit func(*ledger.Job)
		want string
	}{
		"bad job id":       {func(j *ledger.Job) { j.JobID = "a.b" }, `job id "a.b"`},
		"watch job id":     {func(j *ledger.Job) { j.JobID = "watch-1" }, `job id "watch-1" starts with "watch-"`},
		"outcome":          {func(j *ledger.Job) { j.Outcome = []byte(`{}`) }, "outcome must be empty"},
		"watch, no source": {func(j *ledger.Job) { j.JobID, j.RequestSource = "", "" }, "request id and source must be set"},
		"bad server id":    {func(j *ledger.Job) { j.ServerID = "" }, `server id ""`},
		"no request":       {func(j *ledger.Job) { j.RequestID = "" }, "request id and source must be set"},
		"wrong key":        {func(j *ledger.Job) { j.RequestKey = "abc" }, `request key "abc" is not the key of request req-1`},
		"no target":        {func(j *ledger.Job) { j.Target = ledger.Target{} }, "target: is empty"},
		"both targets":     {func(j *ledger.Job) { j.Target.PublicPool = true }, "names both a dedicated host and the public pool"},
		"bad host id":      {func(j *ledger.Job) { j.Target.DedicatedHostID = "h*" }, "target.dedicated_host_id: must be a UUID"},
		"no deadline":      {func(j *ledger.Job) { j.Deadline = time.Time{} }, "deadline must be set"},
		"several problems": {func(j *ledger.Job) { j.JobID, j.Deadline = "", time.Time{} }, "deadline must be set"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			j := newJob(1, clk.Now())
			tc.edit(&j)
			_, err := l.RecordJob(t.Context(), j)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("RecordJob error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestRecordJob_idempotentPerRequest(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	j := newJob(1, time.Time{})
	first := mustRecordJob(t, l, j)
	want := j
	want.Revision, want.NextPoll, want.Created, want.Updated = first.Revision, clk.Now(), clk.Now(), clk.Now()
	if diff := cmp.Diff(&want, first); diff != "" {
		t.Errorf("recorded job (-want +got):\n%s", diff)
	}
	clk.Advance(time.Minute)
	again := mustRecordJob(t, l, j)
	if diff := cmp.Diff(first, again); diff != "" {
		t.Errorf("re-recording for the same request changed the job (-first +again):\n%s", diff)
	}
	other := j
	other.RequestID, other.RequestKey = "someone-else", ""
	if _, err := l.RecordJob(ctx, other); !errors.Is(err, ledger.ErrConflict) {
		t.Errorf("RecordJob of the same job for another request: %v, want ErrConflict", err)
	}
	got, err := l.GetJob(ctx, j.JobID)
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("GetJob (-want +got):\n%s", diff)
	}
	if _, err := l.GetJob(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetJob(nope): %v, want ErrNotFound", err)
	}
}

func TestListDue(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	if s, err := l.ListDue(ctx); err != nil || s.Jobs != 0 || len(s.Due) != 0 {
		t.Fatalf("ListDue on an empty ledger = %+v, %v; want nothing", s, err)
	}
	now := clk.Now()
	offsets := map[int]time.Duration{1: -time.Minute, 2: 0, 3: time.Second, 4: -time.Hour, 5: time.Hour}
	recs := map[int]*ledger.Job{}
	for n, off := range offsets {
		recs[n] = mustRecordJob(t, l, newJob(n, now.Add(off)))
	}
	// Claims and locks are not jobs.
	c := mustClaim(t, l, request(9)).Claim
	if _, err := l.AcquireLock(ctx, c); err != nil {
		t.Fatal(err)
	}
	ref := func(n int) ledger.JobRef {
		r := recs[n]
		return ledger.JobRef{
			RecordID: r.JobID, JobID: r.JobID, Revision: r.Revision, DueAt: now.Add(offsets[n]),
			ServerID: r.ServerID, ProjectID: r.ProjectID, Region: r.Region,
		}
	}
	s, err := l.ListDue(ctx)
	if err != nil {
		t.Fatalf("ListDue: %v", err)
	}
	want := ledger.Schedule{Jobs: 5, Due: []ledger.JobRef{ref(4), ref(1), ref(2)}, Later: []ledger.JobRef{ref(3), ref(5)}}
	if diff := cmp.Diff(want, s, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("ListDue (-want +got):\n%s", diff)
	}

	clk.Advance(time.Second)
	s, err = l.ListDue(ctx)
	if err != nil {
		t.Fatalf("ListDue: %v", err)
	}
	if got := len(s.Due); got != 4 {
		t.Errorf("due a second later: %d jobs, want 4", got)
	}
	all, err := l.Scan(ctx)
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if got, want := all[len(all)-1], ref(5); !got.DueAt.Equal(want.DueAt) || got.JobID != want.JobID {
		t.Errorf("last scanned = %+v, want %+v", got, want)
	}
}

func TestLease_race(t *testing.T) {
	t.Parallel()
	s, _, clk := setup(t)
	ctx := t.Context()
	const n = 10
	ledgers := make([]*ledger.Ledger, n)
	for i := range ledgers {
		ledgers[i] = mustOpen(t, s.JetStream(), fmt.Sprintf("poller-%d", i), clk)
	}
	mustRecordJob(t, ledgers[0], newJob(1, clk.Now()))
	sched, err := ledgers[0].ListDue(ctx)
	if err != nil || len(sched.Due) != 1 {
		t.Fatalf("ListDue = %+v, %v; want one due job", sched, err)
	}
	ref := sched.Due[0]

	jobs := make([]*ledger.Job, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { jobs[i], errs[i] = ledgers[i].Lease(ctx, ref, time.Minute) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Fatalf("pollers %d and %d both leased the job", winner, i)
			}
			winner = i
		case !errors.Is(err, ledger.ErrLeaseLost) || !errors.Is(err, ledger.ErrConflict):
			t.Errorf("poller %d: %v, want ErrLeaseLost (and ErrConflict)", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no poller leased the job")
	}
	leased := jobs[winner]
	want := &ledger.JobLease{Owner: fmt.Sprintf("poller-%d", winner), Until: clk.Now().Add(time.Minute)}
	if diff := cmp.Diff(want, leased.Lease); diff != "" {
		t.Errorf("lease (-want +got):\n%s", diff)
	}

	// While leased the job is not due, and cannot be leased.
	if s, _ := ledgers[0].ListDue(ctx); len(s.Due) != 0 || s.Jobs != 1 {
		t.Errorf("ListDue while leased = %+v, want 1 job, none due", s)
	}
	fresh := ledger.JobRef{JobID: leased.JobID, Revision: leased.Revision}
	if _, err := ledgers[0].Lease(ctx, fresh, time.Minute); !errors.Is(err, ledger.ErrNotDue) {
		t.Errorf("Lease of a leased job: %v, want ErrNotDue", err)
	}

	// The lease expires; another poller takes the job over and the first
	// one can no longer reschedule or remove it.
	clk.Advance(time.Minute)
	sched, err = ledgers[0].ListDue(ctx)
	if err != nil || len(sched.Due) != 1 {
		t.Fatalf("ListDue after the lease expired = %+v, %v; want the job due", sched, err)
	}
	other := (winner + 1) % n
	taken, err := ledgers[other].Lease(ctx, sched.Due[0], time.Minute)
	if err != nil {
		t.Fatalf("Lease after expiry: %v", err)
	}
	if err := ledgers[winner].Reschedule(ctx, leased, clk.Now()); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("Reschedule by the expired holder: %v, want ErrLeaseLost", err)
	}
	if err := ledgers[winner].Remove(ctx, leased); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("Remove by the expired holder: %v, want ErrLeaseLost", err)
	}
	if err := ledgers[winner].Remove(ctx, taken); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("Remove of a job leased by someone else: %v, want ErrLeaseLost", err)
	}
	if _, err := ledgers[other].GetJob(ctx, taken.JobID); err != nil {
		t.Errorf("job after failed removals: %v, want it still there", err)
	}
}

func TestLease_errors(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	j := mustRecordJob(t, l, newJob(1, clk.Now()))
	tests := map[string]struct {
		ref  ledger.JobRef
		d    time.Duration
		want error
	}{
		"stale revision": {ledger.JobRef{JobID: j.JobID, Revision: j.Revision + 1}, time.Minute, ledger.ErrLeaseLost},
		"gone":           {ledger.JobRef{JobID: "gone", Revision: 1}, time.Minute, ledger.ErrLeaseLost},
		"bad id":         {ledger.JobRef{JobID: "a b", Revision: 1}, time.Minute, ledger.ErrInvalidID},
		"bad record id":  {ledger.JobRef{RecordID: "a>", Revision: 1}, time.Minute, ledger.ErrInvalidID},
		"ids disagree":   {ledger.JobRef{RecordID: j.JobID, JobID: "other", Revision: j.Revision}, time.Minute, ledger.ErrInvalidID},
		"by record id":   {ledger.JobRef{RecordID: j.JobID, Revision: j.Revision + 1}, time.Minute, ledger.ErrLeaseLost},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := l.Lease(ctx, tc.ref, tc.d); !errors.Is(err, tc.want) {
				t.Errorf("Lease: %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := l.Lease(ctx, ledger.JobRef{JobID: j.JobID, Revision: j.Revision}, 0); err == nil {
		t.Error("Lease for 0s succeeded")
	}
	future := mustRecordJob(t, l, newJob(2, clk.Now().Add(time.Minute)))
	if _, err := l.Lease(ctx, ledger.JobRef{JobID: future.JobID, Revision: future.Revision}, time.Minute); !errors.Is(err, ledger.ErrNotDue) {
		t.Errorf("Lease of a job due later: %v, want ErrNotDue", err)
	}
	if err := l.Reschedule(ctx, j, clk.Now()); !errors.Is(err, ledger.ErrLeaseLost) {
		t.Errorf("Reschedule without a lease: %v, want ErrLeaseLost", err)
	}
}

func TestReschedule(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	rec := mustRecordJob(t, l, newJob(1, clk.Now()))
	j, err := l.Lease(ctx, ledger.JobRef{JobID: rec.JobID, Revision: rec.Revision}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	next := clk.Now().Add(30 * time.Second)
	j.LastStatus = "RUNNING"
	if err := l.Reschedule(ctx, j, next); err != nil {
		t.Fatalf("Reschedule: %v", err)
	}
	want := newJob(1, next)
	want.Revision, want.Attempts, want.LastStatus, want.Deadline = j.Revision, 1, "RUNNING", rec.Deadline
	want.Created, want.Updated = rec.Created, clk.Now()
	got, err := l.GetJob(ctx, j.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Errorf("rescheduled job (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(got, j); diff != "" {
		t.Errorf("caller's copy differs from the stored job (-stored +caller):\n%s", diff)
	}
	if s, _ := l.ListDue(ctx); len(s.Due) != 0 {
		t.Errorf("due right after rescheduling: %+v", s.Due)
	}
	clk.Advance(30 * time.Second)
	if s, _ := l.ListDue(ctx); len(s.Due) != 1 || s.Due[0].Revision != j.Revision {
		t.Errorf("due at the next poll time: %+v, want the job at revision %d", s.Due, j.Revision)
	}
}

func TestRemove(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	r := request(1)
	c := mustClaim(t, l, r).Claim
	if _, err := l.AcquireLock(ctx, c); err != nil {
		t.Fatal(err)
	}
	rec := mustRecordJob(t, l, newJob(1, clk.Now()))
	j, err := l.Lease(ctx, ledger.JobRef{JobID: rec.JobID, Revision: rec.Revision}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, j); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := l.GetJob(ctx, j.JobID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetJob after Remove: %v, want ErrNotFound", err)
	}
	if _, err := l.GetLock(ctx, r.ServerID); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("GetLock after Remove: %v, want ErrNotFound", err)
	}
	if sched, _ := l.ListDue(ctx); sched.Jobs != 0 {
		t.Errorf("ListDue after Remove sees %d jobs", sched.Jobs)
	}
	// Nothing, not even a delete marker, is left on the job's subject.
	stream, err := s.JetStream().Stream(ctx, "KV_"+l.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.GetLastMsgForSubject(ctx, "$KV."+l.Bucket()+".job."+j.JobID); !errors.Is(err, jetstream.ErrMsgNotFound) {
		t.Errorf("last message on the removed job's subject: %v, want ErrMsgNotFound", err)
	}
	// The same job id can be recorded again later.
	if _, err := l.RecordJob(ctx, newJob(1, clk.Now())); err != nil {
		t.Errorf("RecordJob after Remove: %v", err)
	}
}

func TestRemove_keepsAnotherRequestsLock(t *testing.T) {
	t.Parallel()
	_, l, clk := setup(t)
	ctx := t.Context()
	// The job belongs to request 1, but request 2 holds the server.
	c2 := mustClaim(t, l, sameServer(2)).Claim
	held, err := l.AcquireLock(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	rec := mustRecordJob(t, l, newJob(1, clk.Now()))
	j, err := l.Lease(ctx, ledger.JobRef{JobID: rec.JobID, Revision: rec.Revision}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Remove(ctx, j); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	got, err := l.GetLock(ctx, c2.ServerID)
	if err != nil {
		t.Fatalf("GetLock: %v", err)
	}
	if diff := cmp.Diff(held, got); diff != "" {
		t.Errorf("another request's lock changed (-want +got):\n%s", diff)
	}
}

// TestScan_duringRescheduling scans while pollers keep rescheduling: every
// scan sees each job exactly once.
func TestScan_duringRescheduling(t *testing.T) {
	t.Parallel()
	s, l, clk := setup(t)
	ctx := t.Context()
	const n = 200
	for i := range n {
		mustRecordJob(t, l, newJob(i, clk.Now()))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		p := mustOpen(t, s.JetStream(), fmt.Sprintf("poller-%d", w), clk)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				sched, err := p.ListDue(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				for _, ref := range sched.Due {
					j, err := p.Lease(ctx, ref, time.Minute)
					if err != nil {
						continue // lost to the other poller
					}
					if err := p.Reschedule(ctx, j, clk.Now()); err != nil && !errors.Is(err, ledger.ErrLeaseLost) {
						t.Error(err)
					}
				}
			}
		})
	}
	for range 10 {
		refs, err := l.Scan(ctx)
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		seen := map[string]bool{}
		for _, r := range refs {
			if seen[r.JobID] {
				t.Errorf("job %s listed twice", r.JobID)
			}
			seen[r.JobID] = true
		}
		if len(seen) != n {
			t.Errorf("scan saw %d jobs, want %d", len(seen), n)
		}
	}
	close(stop)
	wg.Wait()
}
