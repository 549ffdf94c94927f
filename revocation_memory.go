package cookiesession

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryRevocationStore is a [RevocationStore] in this process's memory:
// for one instance, and for tests. Marks are lost when the process ends,
// and other instances do not see them; use a shared store (the redisstore
// module) for a fleet. Expired marks are dropped at most a minute after
// they expire (by its clock), at the first call of any method after that,
// so its memory stays bounded by the marks that are live. It is safe for
// concurrent use: each call holds one lock for a few map lookups, and a
// call that finds a sweep due (at most one a minute) sweeps under it, one
// pass over every mark, during which other calls wait: about 90 µs per
// 10,000 live marks (BenchmarkMemoryStoreSweep), so, scaled up rather
// than measured, some 36 ms for 4 million.
type MemoryRevocationStore struct {
	mu       sync.Mutex
	now      func() time.Time
	ids      map[string]time.Time // the mark's expiry
	subjects map[string]subjectMark
	sweepAt  time.Time // when the next sweep is due
}

type subjectMark struct{ before, expires time.Time }

// sweepEvery is how often a MemoryRevocationStore drops expired marks.
const sweepEvery = time.Minute

// NewMemoryRevocationStore returns an empty store whose marks expire by the
// clock now. A nil now means time.Now; tests pass the Config.Now they use.
func NewMemoryRevocationStore(now func() time.Time) *MemoryRevocationStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryRevocationStore{now: now, ids: map[string]time.Time{}, subjects: map[string]subjectMark{}}
}

// RevokeSession marks the session ID revoked for ttl.
func (ms *MemoryRevocationStore) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	if err := memoryArgs(ctx, id, ttl); err != nil {
		return err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	now := ms.sweep()
	if exp := now.Add(ttl); exp.After(ms.ids[id]) {
		ms.ids[id] = exp
	}
	return nil
}

// RevokeSubject marks the sessions of subject that logged in before before
// revoked for ttl, keeping the later time and expiry of two marks.
func (ms *MemoryRevocationStore) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	if err := memoryArgs(ctx, subject, ttl); err != nil {
		return err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	now := ms.sweep()
	mk := subjectMark{before, now.Add(ttl)}
	if old, ok := ms.subjects[subject]; ok && old.expires.After(now) {
		if old.before.After(mk.before) {
			mk.before = old.before
		}
		if old.expires.After(mk.expires) {
			mk.expires = old.expires
		}
	}
	ms.subjects[subject] = mk
	return nil
}

// Check returns the live marks on id and subject.
func (ms *MemoryRevocationStore) Check(ctx context.Context, id, subject string) (RevocationMarks, error) {
	if err := ctx.Err(); err != nil {
		return RevocationMarks{}, err
	}
	ms.mu.Lock()
	defer ms.mu.Unlock()
	now := ms.sweep()
	var marks RevocationMarks
	if exp, ok := ms.ids[id]; ok && exp.After(now) {
		marks.Session = true
	}
	if mk, ok := ms.subjects[subject]; ok && mk.expires.After(now) {
		marks.Before = mk.before
	}
	return marks, nil
}

// marks returns the number of marks held, live or not yet swept.
func (ms *MemoryRevocationStore) marks() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.ids) + len(ms.subjects)
}

// sweep drops the expired marks if the last sweep is over a minute old,
// and returns the time. ms is locked.
func (ms *MemoryRevocationStore) sweep() time.Time {
	now := ms.now()
	if now.Before(ms.sweepAt) {
		return now
	}
	ms.sweepAt = now.Add(sweepEvery)
	for id, exp := range ms.ids {
		if !exp.After(now) {
			delete(ms.ids, id)
		}
	}
	for s, mk := range ms.subjects {
		if !mk.expires.After(now) {
			delete(ms.subjects, s)
		}
	}
	return now
}

func memoryArgs(ctx context.Context, name string, ttl time.Duration) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: revocation mark on an empty ID or subject", ErrInvalidConfig)
	case ttl <= 0:
		return fmt.Errorf("%w: revocation mark with a TTL of %v", ErrInvalidConfig, ttl)
	}
	return ctx.Err()
}
