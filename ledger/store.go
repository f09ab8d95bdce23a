package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Message headers the key-value API and the ledger use.
const (
	hdrOperation = "KV-Operation"
	hdrMarker    = jetstream.MarkerReasonHeader
	hdrDueAt     = "Coldmove-Due-At"
	opDelete     = "DEL"
)

// existsError is returned by write with rev 0 when the key holds a live
// record; it carries that record so callers need not read it again.
type existsError struct {
	rev  uint64
	data []byte
}

func (e *existsError) Error() string { return fmt.Sprintf("key exists at revision %d", e.rev) }

// decode unmarshals the existing record into v.
func (e *existsError) decode(key string, v any) error {
	if err := json.Unmarshal(e.data, v); err != nil {
		return fmt.Errorf("ledger: decode %s revision %d: %w", key, e.rev, err)
	}
	return nil
}

// asExists returns the existsError in err, or nil.
func asExists(err error) *existsError {
	var ex *existsError
	if errors.As(err, &ex) {
		return ex
	}
	return nil
}

// writeOpts adds a due time header to a write.
type writeOpts struct {
	dueAt time.Time
}

// get reads the latest live record under key into v and returns its
// revision, or ErrNotFound.
func (l *Ledger) get(ctx context.Context, key string, v any) (uint64, error) {
	e, err := l.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: get %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return 0, fmt.Errorf("ledger: decode %s revision %d: %w", key, e.Revision(), err)
	}
	return e.Revision(), nil
}

// write stores v under key if the key's last revision is rev; rev 0 means
// the key must hold no live record (it may hold a delete marker). It
// returns the new revision, an *existsError (rev 0 and a live record) or an
// error matching ErrConflict (rev stale).
func (l *Ledger) write(ctx context.Context, key string, v any, rev uint64, o writeOpts) (uint64, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("ledger: encode %s: %w", key, err)
	}
	msg := &nats.Msg{Subject: l.subj + key, Data: data}
	if !o.dueAt.IsZero() {
		msg.Header = nats.Header{hdrDueAt: []string{strconv.FormatInt(o.dueAt.UnixMilli(), 10)}}
	}
	newRev, err := l.publish(ctx, msg, rev)
	if err == nil || !wrongLastSeq(err) {
		return newRev, err
	}
	if rev != 0 {
		return 0, fmt.Errorf("%w: %s revision %d", ErrConflict, key, rev)
	}
	// The key has a last message: a live record, or a delete marker that
	// was not purged (a crash between the two steps of remove).
	last, err := l.stream.GetLastMsgForSubject(ctx, msg.Subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, fmt.Errorf("%w: %s created and removed concurrently", ErrConflict, key)
	}
	if err != nil {
		return 0, fmt.Errorf("ledger: read %s: %w", key, err)
	}
	if !isMarker(last.Header) {
		return 0, &existsError{rev: last.Sequence, data: last.Data}
	}
	newRev, err = l.publish(ctx, msg, last.Sequence)
	if err != nil && wrongLastSeq(err) {
		return 0, fmt.Errorf("%w: %s recreated concurrently", ErrConflict, key)
	}
	return newRev, err
}

func (l *Ledger) publish(ctx context.Context, msg *nats.Msg, rev uint64) (uint64, error) {
	ack, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(rev))
	if err != nil {
		if wrongLastSeq(err) {
			return 0, err
		}
		return 0, fmt.Errorf("ledger: write %s: %w", msg.Subject[len(l.subj):], err)
	}
	return ack.Sequence, nil
}

// remove deletes the record under key if its last revision is rev: it
// writes a delete marker with the revision check, then purges the key's
// messages up to and including the marker, so nothing is left to scan and
// a record written meanwhile survives. A key that is already gone counts
// as removed. A stale rev gives an error matching ErrConflict.
func (l *Ledger) remove(ctx context.Context, key string, rev uint64) error {
	subj := l.subj + key
	marker := &nats.Msg{Subject: subj, Header: nats.Header{hdrOperation: []string{opDelete}}}
	seq, err := l.publish(ctx, marker, rev)
	if err != nil {
		if !wrongLastSeq(err) {
			return err
		}
		if _, gerr := l.kv.Get(ctx, key); errors.Is(gerr, jetstream.ErrKeyNotFound) {
			return nil
		}
		return fmt.Errorf("%w: %s revision %d", ErrConflict, key, rev)
	}
	if err := l.stream.Purge(ctx, jetstream.WithPurgeSubject(subj), jetstream.WithPurgeSequence(seq+1)); err != nil {
		return fmt.Errorf("ledger: purge %s after delete: %w", key, err)
	}
	return nil
}

// wrongLastSeq reports a failed expected-last-subject-sequence check;
// single-replica streams report code 10071, replicated ones 10164.
func wrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// isMarker reports whether a bucket message is a delete or purge marker
// rather than a value.
func isMarker(h nats.Header) bool {
	return h.Get(hdrOperation) != "" || h.Get(hdrMarker) != ""
}
