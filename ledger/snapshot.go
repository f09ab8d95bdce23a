package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Snapshot is every record of the ledger at one moment: what an operator's
// status shows, and what tests check the ledger against.
type Snapshot struct {
	// Claims, Locks and Jobs are sorted by request key, server id and
	// record id.
	Claims []Claim
	Locks  []Lock
	Jobs   []Job
}

// Snapshot reads every record of the bucket with one watcher over the
// latest value of each key (no record is read twice, deleted ones are
// skipped). It is a consistent enough view for people and tests; the
// ledger's own decisions read the stream leader instead.
func (l *Ledger) Snapshot(ctx context.Context) (*Snapshot, error) {
	kv, err := l.js.KeyValue(ctx, l.cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("ledger: snapshot: %w", err)
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("ledger: snapshot: %w", err)
	}
	defer func() { _ = w.Stop() }()
	s := &Snapshot{}
	for {
		var e jetstream.KeyValueEntry
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ledger: snapshot: %w", ctx.Err())
		case e = <-w.Updates():
		}
		if e == nil {
			break // every current value was delivered
		}
		if err := s.add(e); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(s.Claims, func(a, b Claim) int { return strings.Compare(a.RequestKey, b.RequestKey) })
	slices.SortFunc(s.Locks, func(a, b Lock) int { return strings.Compare(a.ServerID, b.ServerID) })
	slices.SortFunc(s.Jobs, func(a, b Job) int { return strings.Compare(a.RecordID(), b.RecordID()) })
	return s, nil
}

func (s *Snapshot) add(e jetstream.KeyValueEntry) error {
	decode := func(v any) error {
		if err := json.Unmarshal(e.Value(), v); err != nil {
			return fmt.Errorf("ledger: snapshot: decode %s revision %d: %w", e.Key(), e.Revision(), err)
		}
		return nil
	}
	switch key := e.Key(); {
	case strings.HasPrefix(key, claimPrefix):
		c := Claim{Revision: e.Revision()}
		if err := decode(&c); err != nil {
			return err
		}
		s.Claims = append(s.Claims, c)
	case strings.HasPrefix(key, lockPrefix):
		lk := Lock{Revision: e.Revision()}
		if err := decode(&lk); err != nil {
			return err
		}
		s.Locks = append(s.Locks, lk)
	case strings.HasPrefix(key, jobPrefix):
		j := Job{Revision: e.Revision()}
		if err := decode(&j); err != nil {
			return err
		}
		s.Jobs = append(s.Jobs, j)
	}
	return nil
}

// Claim returns the claim of the request with this source and id, or nil.
func (s *Snapshot) Claim(source, id string) *Claim {
	key := RequestKey(source, id)
	for i := range s.Claims {
		if s.Claims[i].RequestKey == key {
			return &s.Claims[i]
		}
	}
	return nil
}

// Lock returns the lock on a server, or nil.
func (s *Snapshot) Lock(serverID string) *Lock {
	for i := range s.Locks {
		if strings.EqualFold(s.Locks[i].ServerID, serverID) {
			return &s.Locks[i]
		}
	}
	return nil
}

// Job returns the job record with this record id ([Job.RecordID]), or nil.
func (s *Snapshot) Job(recordID string) *Job {
	for i := range s.Jobs {
		if s.Jobs[i].RecordID() == recordID {
			return &s.Jobs[i]
		}
	}
	return nil
}
