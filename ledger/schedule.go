package ledger

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// scanBatch is how many headers one pull request of a scan asks for.
const scanBatch = 1000

// JobRef is a job record as a scan sees it: its ids, revision and due
// time, without the value.
type JobRef struct {
	// RecordID is the id the record is stored under, [Job.RecordID]. A
	// reference made with only JobID set names the record JobID.
	RecordID string
	// JobID is the ECS job id; empty for a watch job.
	JobID    string
	Revision uint64
	// DueAt is when the job may next be worked ([Job.DueAt]); zero for a
	// record written without a due time, which counts as due.
	DueAt time.Time
	// ServerID, ProjectID and Region name the server the job follows;
	// empty for a pending record (and one written by an older version).
	ServerID, ProjectID, Region string
	// Seen is the record's [Job.Seen].
	Seen string
}

// recordID returns the id of the record ref names: RecordID, or JobID for
// a reference made without it. Both set must agree.
func (ref JobRef) recordID() (string, error) {
	switch {
	case ref.RecordID == "":
		return ref.JobID, nil
	case ref.JobID != "" && ref.JobID != ref.RecordID:
		return "", fmt.Errorf("%w: reference to record %q names job %q", ErrInvalidID, ref.RecordID, ref.JobID)
	}
	return ref.RecordID, nil
}

// Schedule is the result of [Ledger.ListDue].
type Schedule struct {
	// Jobs is how many job records exist.
	Jobs int
	// Due are the records due now, most overdue first.
	Due []JobRef
	// Later are the records not due yet, soonest first.
	Later []JobRef
}

// ListDue returns the job records due now (see [Ledger.Scan] for the
// cost). Each is then taken with [Ledger.Lease].
func (l *Ledger) ListDue(ctx context.Context) (Schedule, error) {
	return l.ListDueEach(ctx, nil)
}

// ListDueEach is ListDue that also hands each batch of references to each
// (when not nil) as the scan reads it, before the scan ends: for a caller
// that starts work on every record (such as reading their servers) while
// the rest is read. A batch may name a record a later batch names again
// at a newer revision, and holds records of every due time.
func (l *Ledger) ListDueEach(ctx context.Context, each func([]JobRef)) (Schedule, error) {
	refs, err := l.scan(ctx, each)
	if err != nil {
		return Schedule{}, err
	}
	now := l.now()
	n, _ := slices.BinarySearchFunc(refs, now, func(r JobRef, t time.Time) int {
		if r.DueAt.After(t) {
			return 1
		}
		return -1
	})
	return Schedule{Jobs: len(refs), Due: refs[:n:n], Later: refs[n:]}, nil
}

// Scan returns every job record's reference, watch jobs included, ordered
// by due time (then record id). On a replicated bucket its consumer may
// sit on a replica that a write just acknowledged has not reached: that
// record then shows up in a later scan (a tick late), never as a wrong
// revision, since leasing reads the leader.
//
// It reads only message headers: one ephemeral consumer delivers the
// last message of each job key with headers only, in pull batches that do
// not wait, so n records cost n/1000 round trips and about 150 bytes each,
// plus creating and deleting the consumer.
func (l *Ledger) Scan(ctx context.Context) ([]JobRef, error) { return l.scan(ctx, nil) }

func (l *Ledger) scan(ctx context.Context, each func([]JobRef)) ([]JobRef, error) {
	filter := l.subj + jobPrefix + ">"
	cons, err := l.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		Description:       "coldmove ledger scan",
		DeliverPolicy:     jetstream.DeliverLastPerSubjectPolicy,
		FilterSubject:     filter,
		AckPolicy:         jetstream.AckNonePolicy,
		HeadersOnly:       true,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: scan jobs: create consumer: %w", err)
	}
	name := cons.CachedInfo().Name
	defer func() {
		// Best effort: the inactive threshold removes it otherwise.
		_ = l.stream.DeleteConsumer(context.WithoutCancel(ctx), name)
	}()
	pending := cons.CachedInfo().NumPending
	latest := make(map[string]JobRef, pending)
	for pending > 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ledger: scan jobs: %w", err)
		}
		batch, err := cons.FetchNoWait(scanBatch)
		if err != nil {
			return nil, fmt.Errorf("ledger: scan jobs: fetch: %w", err)
		}
		got := 0
		var fresh []JobRef
		for msg := range batch.Messages() {
			got++
			md, err := msg.Metadata()
			if err != nil {
				return nil, fmt.Errorf("ledger: scan jobs: %w", err)
			}
			pending = md.NumPending
			id := strings.TrimPrefix(msg.Subject(), l.subj+jobPrefix)
			if isMarker(msg.Headers()) {
				delete(latest, id)
				continue
			}
			ref := JobRef{RecordID: id, JobID: ecsJobID(id), Revision: md.Sequence.Stream}
			if err := refFromHeaders(&ref, msg.Headers()); err != nil {
				return nil, fmt.Errorf("ledger: scan jobs: job %s revision %d: %w", id, ref.Revision, err)
			}
			if prev, ok := latest[id]; !ok || prev.Revision < ref.Revision {
				latest[id] = ref
				if each != nil {
					fresh = append(fresh, ref)
				}
			}
		}
		if len(fresh) > 0 {
			each(fresh)
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("ledger: scan jobs: fetch: %w", err)
		}
		if got == 0 {
			break // caught up: what was pending has been superseded or purged
		}
	}
	refs := make([]JobRef, 0, len(latest))
	for _, r := range latest {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b JobRef) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.RecordID, b.RecordID))
	})
	return refs, nil
}
