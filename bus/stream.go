package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/coldmove/coldmove/events"
)

// StreamStatus describes the stream [Bus.EnsureStream] found or created.
type StreamStatus struct {
	Name string
	// Created is true when EnsureStream created the stream, false when it
	// existed (and was left as it was).
	Created    bool
	Subjects   []string
	Duplicates time.Duration
	// MaxAge (0: unlimited) and MaxBytes (-1: unlimited) are the stream's
	// limits.
	MaxAge   time.Duration
	MaxBytes int64
	Replicas int
	Storage  jetstream.StorageType
}

// DuplicatesTooShort reports whether an existing stream's duplicate window
// is shorter than [MinDuplicates], so that a re-published event could be
// stored twice. EnsureStream leaves such a stream alone; callers should
// tell the operator.
func (s StreamStatus) DuplicatesTooShort() bool { return s.Duplicates < MinDuplicates }

// EnsureStream makes sure the stream exists and captures <prefix>.>. It
// creates a missing stream (file storage, the configured replicas,
// duplicate window, MaxAge and MaxBytes, the oldest events discarded
// first when a limit is reached). An existing stream is not changed, so an operator's
// tuning (limits, replicas, placement, window) survives; it is only
// checked to capture the subjects, and one that does not gives an error
// saying which subjects it has.
func (b *Bus) EnsureStream(ctx context.Context) (StreamStatus, error) {
	want := events.StreamSubjects(b.cfg.SubjectPrefix)
	s, err := b.js.Stream(ctx, b.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = b.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        b.cfg.Stream,
			Description: "coldmove placement requests and outcomes (CloudEvents)",
			Subjects:    []string{want},
			Storage:     jetstream.FileStorage,
			Replicas:    b.cfg.StreamReplicas,
			Duplicates:  b.cfg.Duplicates,
			MaxAge:      b.cfg.MaxAge,
			MaxBytes:    b.cfg.MaxBytes,
			Retention:   jetstream.LimitsPolicy,
			Discard:     jetstream.DiscardOld,
		})
		if err == nil {
			return status(s.CachedInfo(), true), nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return StreamStatus{}, fmt.Errorf("bus: create stream %s for %s: %w", b.cfg.Stream, want, err)
		}
		// Created concurrently by another process: check that one.
		s, err = b.js.Stream(ctx, b.cfg.Stream)
	}
	if err != nil {
		return StreamStatus{}, fmt.Errorf("bus: look up stream %s: %w", b.cfg.Stream, err)
	}
	info := s.CachedInfo()
	if !captures(info.Config.Subjects, want) {
		return StreamStatus{}, fmt.Errorf("bus: stream %s exists but does not capture %s (its subjects: %s); add the subject or set COLDMOVE_STREAM to a stream that captures it",
			b.cfg.Stream, want, strings.Join(info.Config.Subjects, ", "))
	}
	return status(info, false), nil
}

func status(info *jetstream.StreamInfo, created bool) StreamStatus {
	return StreamStatus{
		Name:       info.Config.Name,
		Created:    created,
		Subjects:   info.Config.Subjects,
		Duplicates: info.Config.Duplicates,
		MaxAge:     info.Config.MaxAge,
		MaxBytes:   info.Config.MaxBytes,
		Replicas:   info.Config.Replicas,
		Storage:    info.Config.Storage,
	}
}

// captures reports whether one of a stream's subjects matches every
// subject the filter matches.
func captures(streamSubjects []string, filter string) bool {
	for _, s := range streamSubjects {
		if covers(s, filter) {
			return true
		}
	}
	return false
}

// covers reports whether the subject pattern s (which may hold * and >)
// matches every subject the pattern f matches.
func covers(s, f string) bool {
	st, ft := strings.Split(s, "."), strings.Split(f, ".")
	for i, tok := range st {
		if tok == ">" {
			return i < len(ft)
		}
		if i >= len(ft) {
			return false
		}
		switch {
		case ft[i] == ">":
			return false // f goes deeper than s's single token can
		case tok == "*":
		case tok != ft[i] || ft[i] == "*":
			return false
		}
	}
	return len(st) == len(ft)
}
