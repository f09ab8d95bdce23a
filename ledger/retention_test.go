package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/internal/natstest"
	"github.com/coldmove/coldmove/ledger"
)

// storedTTL returns the per-message TTL of the last message under key in
// l's bucket, and whether it has one.
func storedTTL(t *testing.T, js jetstream.JetStream, l *ledger.Ledger, key string) (time.Duration, bool) {
	t.Helper()
	st, err := js.Stream(t.Context(), "KV_"+l.Bucket())
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.GetLastMsgForSubject(t.Context(), "$KV."+l.Bucket()+"."+key)
	if err != nil {
		t.Fatalf("last message of %s: %v", key, err)
	}
	v := m.Header.Get(jetstream.MsgTTLHeader)
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s: TTL header %q: %v", key, v, err)
	}
	return d, true
}

// TestClaimTTL_onlyFinishedClaims follows the writes of two requests, one
// finished by a poller after its job, one rejected by its owner, and
// checks which records carry the claim TTL: every write of a finished
// claim, whoever makes it, and nothing else.
func TestClaimTTL_onlyFinishedClaims(t *testing.T) {
	t.Parallel()
	s := natstest.Run(t)
	js := s.JetStream()
	clk := newClock()
	cfg := testConfig()
	cfg.ClaimTTL = 90 * time.Minute
	migrate := mustOpenConfig(t, js, cfg, "migrate", clk)
	poll := mustOpenConfig(t, js, cfg, "poller", clk)
	ctx := t.Context()

	var job, rejected *ledger.Claim
	key := func(c *ledger.Claim) string { return "req." + c.RequestKey }
	steps := []struct {
		name string
		// write makes one write and returns the key written.
		write   func(t *testing.T) string
		wantTTL bool
	}{
		{"claim", func(t *testing.T) string {
			job = mustClaim(t, migrate, request(1)).Claim
			return key(job)
		}, false},
		{"lock", func(t *testing.T) string {
			if _, err := migrate.AcquireLock(ctx, job); err != nil {
				t.Fatal(err)
			}
			return "lock." + job.ServerID
		}, false},
		{"submitting and submitted", func(t *testing.T) string {
			if err := submit(t, migrate, job, "job1"); err != nil {
				t.Fatal(err)
			}
			return key(job)
		}, false},
		{"accepted published", func(t *testing.T) string {
			if err := poll.MarkAcceptedPublished(ctx, job.RequestKey, "job1"); err != nil {
				t.Fatal(err)
			}
			return key(job)
		}, false},
		{"job record", func(t *testing.T) string {
			j := newJob(1, clk.Now())
			j.JobID = "job1"
			return "job." + mustRecordJob(t, migrate, j).RecordID()
		}, false},
		{"job leased", func(t *testing.T) string {
			rec, err := poll.GetJob(ctx, "job1")
			if err != nil {
				t.Fatal(err)
			}
			return "job." + mustLease(t, poll, rec).RecordID()
		}, false},
		{"finished by the poller", func(t *testing.T) string {
			if err := poll.FinishRequest(ctx, job.RequestKey, completedJSON(t, 1, "job1")); err != nil {
				t.Fatal(err)
			}
			return key(job)
		}, true},
		{"accepted published once finished", func(t *testing.T) string {
			// Request 3 finishes before its accepted event is marked.
			c := mustClaim(t, migrate, request(3)).Claim
			if err := submit(t, migrate, c, "job3"); err != nil {
				t.Fatal(err)
			}
			if err := poll.FinishRequest(ctx, c.RequestKey, completedJSON(t, 3, "job3")); err != nil {
				t.Fatal(err)
			}
			if err := poll.MarkAcceptedPublished(ctx, c.RequestKey, "job3"); err != nil {
				t.Fatal(err)
			}
			return key(c)
		}, true},
		{"rejected by the owner", func(t *testing.T) string {
			rejected = mustClaim(t, migrate, request(2)).Claim
			if err := migrate.FinishClaim(ctx, rejected, []byte(`{"id":"rejected-2"}`)); err != nil {
				t.Fatal(err)
			}
			return key(rejected)
		}, true},
		{"outcome published", func(t *testing.T) string {
			if err := poll.MarkOutcomePublished(ctx, rejected.RequestKey, []byte(`{"id":"rejected-2"}`)); err != nil {
				t.Fatal(err)
			}
			return key(rejected)
		}, true},
	}
	for _, step := range steps {
		k := step.write(t)
		ttl, ok := storedTTL(t, js, migrate, k)
		switch {
		case step.wantTTL && (!ok || ttl != cfg.ClaimTTL):
			t.Errorf("%s: %s has TTL %s (set: %v), want %s", step.name, k, ttl, ok, cfg.ClaimTTL)
		case !step.wantTTL && ok:
			t.Errorf("%s: %s has TTL %s, want none: it must never expire", step.name, k, ttl)
		}
	}
}

// TestClaimTTL_expires finishes one request while another is in progress
// with its lock and job record: JetStream removes the finished claim once
// its TTL has passed, also in a bucket that keeps history (no earlier
// revision comes back), and nothing else.
func TestClaimTTL_expires(t *testing.T) {
	t.Parallel()
	for name, history := range map[string]int{"history 1": 1, "history 3": 3} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := natstest.Run(t)
			clk := newClock()
			cfg := testConfig()
			cfg.ClaimTTL, cfg.History = time.Second, history
			l := mustOpenConfig(t, s.JetStream(), cfg, "a", clk)
			ctx := t.Context()

			finished := mustClaim(t, l, request(1)).Claim
			if err := submit(t, l, finished, "job1"); err != nil {
				t.Fatal(err)
			}
			w, err := l.KeyValue().Watch(ctx, "req."+finished.RequestKey, jetstream.UpdatesOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = w.Stop() }()
			if err := l.FinishClaim(ctx, finished, completedJSON(t, 1, "job1")); err != nil {
				t.Fatal(err)
			}
			inflight := mustClaim(t, l, request(2)).Claim
			if err := l.MarkSubmitting(ctx, inflight); err != nil {
				t.Fatal(err)
			}
			if _, err := l.AcquireLock(ctx, inflight); err != nil {
				t.Fatal(err)
			}
			job := mustRecordJob(t, l, newJob(2, clk.Now()))

			// Wait for JetStream to remove the finished claim: its
			// watcher sees the marker left in its place.
			wait, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
		watch:
			for {
				select {
				case <-wait.Done():
					t.Fatalf("finished claim not removed within 10s of its 1s TTL")
				case e := <-w.Updates():
					if e != nil && e.Operation() != jetstream.KeyValuePut {
						break watch
					}
				}
			}

			if c, err := l.GetClaim(ctx, finished.Source, finished.RequestID); !errors.Is(err, ledger.ErrNotFound) {
				t.Errorf("finished claim after its TTL: %+v, %v; want ErrNotFound", c, err)
			}
			if c, err := l.GetClaim(ctx, inflight.Source, inflight.RequestID); err != nil || c.State != ledger.StateSubmitting {
				t.Errorf("in-progress claim: %+v, %v; want it submitting", c, err)
			}
			if lk, err := l.GetLock(ctx, inflight.ServerID); err != nil || lk.RequestKey != inflight.RequestKey {
				t.Errorf("lock: %+v, %v; want the in-progress request's", lk, err)
			}
			if j, err := l.GetJob(ctx, job.RecordID()); err != nil || j.Revision != job.Revision {
				t.Errorf("job record: %+v, %v; want it as recorded", j, err)
			}
			// A duplicate arriving later than the TTL is a new request.
			if res := mustClaim(t, l, request(1)); res.Status != ledger.ClaimAcquired {
				t.Errorf("claim after expiry: %v, want acquired", res.Status)
			}
		})
	}
}
