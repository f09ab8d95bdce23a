package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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

// writeOpts adds a due time header or an expiry to a write.
type writeOpts struct {
	dueAt time.Time
	// expireAfter, when set, is the message's per-message TTL: JetStream
	// removes it that long after the write. The write then also rolls up
	// the key (Nats-Rollup: sub), purging its earlier revisions, so that
	// none of them, written without TTL, resurfaces as the key's value
	// when it expires in a bucket that keeps history.
	expireAfter time.Duration
	// header are more headers of the message.
	header nats.Header
}

// get reads the latest live record under key into v and returns its
// revision, or ErrNotFound.
func (l *Ledger) get(ctx context.Context, key string, v any) (uint64, error) {
	m, err := l.last(ctx, key)
	if err != nil {
		return 0, err
	}
	if m == nil || isMarker(m.header) {
		return 0, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err := json.Unmarshal(m.data, v); err != nil {
		return 0, fmt.Errorf("ledger: decode %s revision %d: %w", key, m.seq, err)
	}
	return m.seq, nil
}

// storedMsg is the last message of a key as the stream leader has it.
type storedMsg struct {
	seq    uint64
	header nats.Header
	data   []byte
}

// defaultTimeout bounds a read when ctx has no deadline.
const defaultTimeout = 5 * time.Second

// last returns the last message stored under key, or nil when there is
// none. It asks the stream leader (the STREAM.MSG.GET API), never a
// replica through direct get: a replica may lag, and a compare-and-set
// decision must see every acknowledged write.
func (l *Ledger) last(ctx context.Context, key string) (*storedMsg, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	req, err := json.Marshal(map[string]string{"last_by_subj": l.subj + key})
	if err != nil {
		return nil, err
	}
	resp, err := l.js.Conn().RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+l.streamName, req)
	if err != nil {
		return nil, fmt.Errorf("ledger: read %s: %w", key, err)
	}
	var r struct {
		Error   *jetstream.APIError `json:"error"`
		Message *struct {
			Seq    uint64 `json:"seq"`
			Header []byte `json:"hdrs"`
			Data   []byte `json:"data"`
		} `json:"message"`
	}
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return nil, fmt.Errorf("ledger: read %s: decode response: %w", key, err)
	}
	switch {
	case r.Error != nil && r.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, nil
	case r.Error != nil:
		return nil, fmt.Errorf("ledger: read %s: %w", key, r.Error)
	case r.Message == nil:
		return nil, fmt.Errorf("ledger: read %s: empty response", key)
	}
	m := &storedMsg{seq: r.Message.Seq, data: r.Message.Data}
	if len(r.Message.Header) > 0 {
		if m.header, err = nats.DecodeHeadersMsg(r.Message.Header); err != nil {
			return nil, fmt.Errorf("ledger: read %s revision %d: headers: %w", key, m.seq, err)
		}
	}
	return m, nil
}

// write stores v under key if the key's last revision is rev; rev 0 means
// the key must hold no live record (it may hold a delete marker). It
// returns the new revision, an *existsError (rev 0 and a live record) or an
// error matching ErrConflict (rev stale).
func (l *Ledger) write(ctx context.Context, key string, v any, rev uint64, o writeOpts) (uint64, error) {
	data, err := encode(v)
	if err != nil {
		return 0, fmt.Errorf("ledger: encode %s: %w", key, err)
	}
	msg := &nats.Msg{Subject: l.subj + key, Data: data, Header: nats.Header{}}
	for k, v := range o.header {
		msg.Header[k] = v
	}
	if !o.dueAt.IsZero() {
		msg.Header.Set(hdrDueAt, strconv.FormatInt(o.dueAt.UnixMilli(), 10))
	}
	var extra []jetstream.PublishOpt
	if o.expireAfter > 0 {
		msg.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
		extra = append(extra, jetstream.WithMsgTTL(o.expireAfter))
	}
	newRev, err := l.publish(ctx, msg, rev, extra...)
	if err == nil || !wrongLastSeq(err) {
		return newRev, err
	}
	if rev != 0 {
		return 0, fmt.Errorf("%w: %s revision %d", ErrConflict, key, rev)
	}
	// The key has a last message: a live record, or a delete marker that
	// was not purged (a crash between the two steps of remove).
	last, err := l.last(ctx, key)
	if err != nil {
		return 0, err
	}
	if last == nil {
		return 0, fmt.Errorf("%w: %s created and removed concurrently", ErrConflict, key)
	}
	if !isMarker(last.header) {
		return 0, &existsError{rev: last.seq, data: last.data}
	}
	newRev, err = l.publish(ctx, msg, last.seq, extra...)
	if err != nil && wrongLastSeq(err) {
		return 0, fmt.Errorf("%w: %s recreated concurrently", ErrConflict, key)
	}
	return newRev, err
}

// encode marshals a record as JSON without escaping HTML characters, so
// that the CloudEvents a record embeds ([Claim.Outcome], [Claim.Accepted],
// [Job.Outcome]) are stored byte for byte in their compact form.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// publish stores msg if its subject's last sequence is rev, with the
// extra publish options given.
func (l *Ledger) publish(ctx context.Context, msg *nats.Msg, rev uint64, extra ...jetstream.PublishOpt) (uint64, error) {
	opts := append([]jetstream.PublishOpt{jetstream.WithExpectLastSequencePerSubject(rev)}, extra...)
	ack, err := l.js.PublishMsg(ctx, msg, opts...)
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
		if m, gerr := l.last(ctx, key); gerr == nil && (m == nil || isMarker(m.header)) {
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

// pause waits before retry round n of a compare-and-set that lost to a
// concurrent change: not at all before the first, then 1, 2, 4… ms with
// jitter. On a replicated bucket a write that has just lost the race may
// not be readable yet; an immediate retry would find nothing and lose
// again.
func pause(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	d := time.Duration(1<<min(n-1, 6)) * time.Millisecond
	d += time.Duration(rand.Int64N(int64(d)))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
