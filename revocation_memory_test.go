package cookiesession

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// The in-memory store: its marks expire, and are swept away.

// TestMemoryStoreMarksExpire: marks are dropped once every session they
// name has ended, so the store's memory stays bounded.
func TestMemoryStoreMarksExpire(t *testing.T) {
	clock := newTestClock(t0)
	ms := NewMemoryRevocationStore(clock.Now)
	ctx := t.Context()
	for i := range 100 {
		if err := ms.RevokeSession(ctx, fmt.Sprintf("%032x", i), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	ms.RevokeSubject(ctx, "kim", clock.Now(), 2*time.Hour)
	if n := ms.marks(); n != 101 {
		t.Fatalf("%d marks", n)
	}
	clock.Add(time.Hour)
	if m, _ := ms.Check(ctx, fmt.Sprintf("%032x", 7), "kim"); m.Session || m.Before.IsZero() {
		t.Fatalf("after an hour: %+v", m)
	}
	clock.Add(time.Hour + sweepEvery)
	ms.RevokeSession(ctx, "new", time.Hour)
	if n := ms.marks(); n != 1 {
		t.Fatalf("%d marks after every one expired, want the new one alone", n)
	}
}

// TestMemoryStoreSweepsOnCheck: with no new revocations, checks alone drop
// the expired marks, at most once a minute by the store's clock.
func TestMemoryStoreSweepsOnCheck(t *testing.T) {
	clock := newTestClock(t0)
	ms := NewMemoryRevocationStore(clock.Now)
	ctx := t.Context()
	ms.RevokeSession(ctx, "short", time.Second) // sweeps, the next at t0+1m
	ms.RevokeSubject(ctx, "kim", clock.Now(), time.Hour)
	clock.Add(2 * time.Second)
	if m, _ := ms.Check(ctx, "short", "kim"); m.Session || m.Before.IsZero() {
		t.Fatalf("2 s on: %+v", m)
	}
	if n := ms.marks(); n != 2 {
		t.Fatalf("%d marks 2 s on, want 2: no sweep due before a minute", n)
	}
	clock.Add(sweepEvery)
	ms.Check(ctx, "other", "")
	if n := ms.marks(); n != 1 {
		t.Fatalf("%d marks after a Check a minute on, want the subject's alone", n)
	}
	clock.Add(time.Hour)
	ms.Check(ctx, "other", "")
	if n := ms.marks(); n != 0 {
		t.Fatalf("%d marks after every one expired, want 0", n)
	}
}

// TestMemoryStoreConcurrentSweep: checks that race each other, and a
// revocation, across sweeps that fall due (run it with -race) lose no live
// mark and leave no expired one.
func TestMemoryStoreConcurrentSweep(t *testing.T) {
	clock := newTestClock(t0)
	ms := NewMemoryRevocationStore(clock.Now)
	ctx := t.Context()
	for i := range 50 {
		ms.RevokeSession(ctx, fmt.Sprintf("%032x", i), time.Minute)
	}
	ms.RevokeSession(ctx, "live", 24*time.Hour)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				if g == 0 && i%20 == 0 {
					clock.Add(sweepEvery / 2)
				}
				if m, err := ms.Check(ctx, "live", ""); err != nil || !m.Session {
					t.Errorf("the live mark: %+v, %v", m, err)
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 50 {
			ms.RevokeSession(ctx, fmt.Sprintf("new%d", i), 24*time.Hour)
		}
	})
	wg.Wait()
	clock.Add(sweepEvery)
	ms.Check(ctx, "x", "")
	if n := ms.marks(); n != 51 {
		t.Fatalf("%d marks, want the 51 live ones", n)
	}
}

// BenchmarkMemoryStoreCheck is a Check of the in-memory store holding 10,000
// session marks, from parallel goroutines, with no sweep due. Its clock is
// fixed and takes no lock, so that the store's own locking is measured.
func BenchmarkMemoryStoreCheck(b *testing.B) {
	at := time.Unix(t0, 0)
	clock := struct{ Now func() time.Time }{func() time.Time { return at }}
	ms := NewMemoryRevocationStore(clock.Now)
	for i := range 10000 {
		ms.RevokeSession(b.Context(), fmt.Sprintf("%032x", i), time.Hour)
	}
	ms.RevokeSubject(b.Context(), "kim", clock.Now(), time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := b.Context()
		for pb.Next() {
			if m, _ := ms.Check(ctx, "0000000000000000000000000000002a", "kim"); !m.Session {
				b.Fatal("mark missing")
			}
		}
	})
}

// BenchmarkMemoryStoreSweep is a Check that finds a sweep due, in a store
// holding 10,000 live session marks: the pause that every other call of
// the store waits out, once a minute.
func BenchmarkMemoryStoreSweep(b *testing.B) {
	at := time.Unix(t0, 0)
	ms := NewMemoryRevocationStore(func() time.Time { return at })
	for i := range 10000 {
		ms.RevokeSession(b.Context(), fmt.Sprintf("%032x", i), 400*24*time.Hour)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		at = at.Add(sweepEvery)
		if m, _ := ms.Check(b.Context(), "0000000000000000000000000000002a", "kim"); !m.Session {
			b.Fatal("mark missing")
		}
	}
}
