package ledger

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// GetClaim returns the claim of the request with this source and id, or an
// error matching [ErrNotFound]: for the tests of this package.
func (l *Ledger) GetClaim(ctx context.Context, source, id string) (*Claim, error) {
	return l.readClaim(ctx, RequestKey(source, id))
}

// GetLock returns the lock on a server: for the tests of this package.
func (l *Ledger) GetLock(ctx context.Context, serverID string) (*Lock, error) {
	return l.getLock(ctx, serverID)
}

// KeyValue returns the underlying bucket: for the tests of this package.
func (l *Ledger) KeyValue() jetstream.KeyValue {
	kv, err := l.js.KeyValue(context.Background(), l.cfg.Bucket)
	if err != nil {
		panic(err)
	}
	return kv
}
